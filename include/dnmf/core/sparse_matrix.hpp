#pragma once
// The sparse matrix type of a rank's block of A: compressed sparse rows (CSR), as Eigen stores
// a RowMajor sparse matrix. 32-bit indices: a rank's block holds fewer than 2^31 nonzeros.

#include <Eigen/SparseCore>

namespace dnmf {

template <class Scalar>
using SparseRowMatrixT = Eigen::SparseMatrix<Scalar, Eigen::RowMajor, int>;
using SparseRowMatrix = SparseRowMatrixT<double>;

}  // namespace dnmf
