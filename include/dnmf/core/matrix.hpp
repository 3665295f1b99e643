#pragma once
// Matrix types shared by every module.
//
// Factors are stored "one problem per column": W as Wt (k x m_local) and H as H (k x n), both
// column-major. Row i of W and column j of H are then contiguous k-vectors, the W and H updates
// become the same operation, and the big products are plain column-major GEMMs
// (H * A_bᵀ and Wt_b * A_b). A is row-major, as HDF5 stores it.

#include <Eigen/Core>
#include <cstdint>

namespace dnmf {

using Index = Eigen::Index;
using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXd;

}  // namespace dnmf
