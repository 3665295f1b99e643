#pragma once
// Matrix types shared by every module.
//
// Factors are stored "one problem per column": W as Wt (k x m_local) and H as H (k x n), both
// column-major. Row i of W and column j of H are then contiguous k-vectors, the W and H updates
// become the same operation, and the big products are plain column-major GEMMs
// (H * A_bᵀ and Wt_b * A_b). A is row-major, as HDF5 stores it.
//
// The NMF engine works in float or double (`dnmf factorize --precision`): MatrixT<Scalar> and
// its kin name the storage of either; Matrix, RowMatrix and Vector are the double ones.

#include <Eigen/Core>
#include <cstdint>

namespace dnmf {

using Index = Eigen::Index;
template <class Scalar>
using MatrixT = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <class Scalar>
using RowMatrixT = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class Scalar>
using VectorT = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

using Matrix = MatrixT<double>;
using RowMatrix = RowMatrixT<double>;
using Vector = VectorT<double>;

}  // namespace dnmf
