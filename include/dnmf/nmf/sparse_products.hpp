#pragma once
// The products of a sparse CSR block A_b (rows [row_begin, row_begin + row_count) of A) with the
// dense factors, which hold one k-vector a column (core/matrix.hpp): every nonzero A_ij touches
// one contiguous k-vector of H or of an accumulator, so the kernels run over the raw CSR arrays
// with the k-loop as fixed-width vector code (k cut into slices of at most kMaxSliceWidth, the
// width a compile-time constant; see sparse_products.cpp). All work is O(nnz_b k); none
// densifies A. Templates over the scalar type, instantiated for float and double.
// A must be compressed (Eigen's makeCompressed(), as every SparseBlock is).

#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace dnmf::nmf {

template <class Scalar>
using CsrRows = Eigen::SparseMatrix<Scalar, Eigen::RowMajor, int>;
template <class Scalar>
using FactorColumns = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

/// out (k x row_count) = H A_bᵀ for H (k x n): column i of out is Σ_j A_ij H[:, j].
template <class Scalar>
void sparse_rows_times_transposed(const CsrRows<Scalar>& A, Eigen::Index row_begin,
                                  Eigen::Index row_count, Eigen::Ref<const FactorColumns<Scalar>> H,
                                  Eigen::Ref<FactorColumns<Scalar>> out);

/// accumulator (k x n) += Wt_b A_b for Wt_b (k x row_count): column j gains Σ_i A_ij Wt_b[:, i].
template <class Scalar>
void add_product_with_sparse_rows(const CsrRows<Scalar>& A, Eigen::Index row_begin,
                                  Eigen::Index row_count,
                                  Eigen::Ref<const FactorColumns<Scalar>> Wt_b,
                                  Eigen::Ref<FactorColumns<Scalar>> accumulator);

/// The KL ratio at A's nonzeros (Lee & Seung 2001): ratio_ij = A_ij / max((W H)_ij, guard) where
/// A_ij > 0 and 0 at an explicitly stored zero, written to `ratio` (same shape and pattern as
/// A); (W H)_ij = Wt_b[:, i] · H[:, j]. Returns Σ_{A_ij > 0} A_ij log(ratio_ij) over these rows.
template <class Scalar>
double divide_sparse_rows_by_product(const CsrRows<Scalar>& A, Eigen::Index row_begin,
                                     Eigen::Index row_count,
                                     Eigen::Ref<const FactorColumns<Scalar>> Wt_b,
                                     Eigen::Ref<const FactorColumns<Scalar>> H, Scalar guard,
                                     CsrRows<Scalar>& ratio);

}  // namespace dnmf::nmf
