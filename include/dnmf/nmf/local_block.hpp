#pragma once
// "My rows of A": the few operations the solvers need from a rank's block of the input, so every
// solver is written once for any storage: dense (row-major, as HDF5 stores it) or sparse CSR.
// Row ranges [row_begin, row_begin + row_count) are local to the block.

#include <memory>

#include "dnmf/core/matrix.hpp"
#include "dnmf/core/sparse_matrix.hpp"

namespace dnmf::nmf {

class LocalBlock {
 public:
  virtual ~LocalBlock() = default;
  virtual Index rows() const = 0;
  virtual Index cols() const = 0;
  /// out (k x row_count) = H * A_bᵀ, i.e. (A_b Hᵀ)ᵀ, for H (k x n).
  virtual void times_transposed_rows(const Matrix& H, Index row_begin, Index row_count,
                                     Eigen::Ref<Matrix> out) const = 0;
  /// accumulator (k x n) += Wt_b * A_b, for Wt_b (k x row_count).
  virtual void add_product_with_rows(Eigen::Ref<const Matrix> Wt_b, Index row_begin,
                                     Index row_count, Matrix& accumulator) const = 0;
  /// ||A_b - W_b H||_F^2, computed directly (no Gram trick).
  virtual double residual_squared_norm(Eigen::Ref<const Matrix> Wt_b, const Matrix& H,
                                       Index row_begin, Index row_count) const = 0;
  /// A block of the same shape and pattern of nonzeros (values unspecified), to hold a ratio.
  virtual std::unique_ptr<LocalBlock> same_pattern() const = 0;
  /// The KL ratio at A's nonzeros (Lee & Seung 2001): ratio_b = A_b ⊘ (W_b H) where A_b > 0 and 0
  /// elsewhere, for `ratio` made by same_pattern(). Returns Σ_{A_ij > 0} A_ij log(A_ij / (WH)_ij)
  /// over these rows. W H is evaluated only at A's nonzeros for a sparse block (O(nnz_b k)).
  virtual double divide_by_product(Eigen::Ref<const Matrix> Wt_b, const Matrix& H,
                                   Index row_begin, Index row_count, LocalBlock& ratio) const = 0;
  virtual double sum() const = 0;
  virtual double squared_norm() const = 0;
  /// Multiply-adds in the two big products of one iteration, times two (flops).
  virtual double product_flops(Index rank) const = 0;
};

/// A block stored as `Values`: RowMatrix (dense, row-major as HDF5 stores it) or SparseRowMatrix
/// (CSR, Eigen RowMajor: every operation costs O(nnz k), none densifies A). The operations are
/// specialised for each storage in local_block.cpp.
template <class Values>
class StoredBlock final : public LocalBlock {
 public:
  explicit StoredBlock(Values values) : values_(std::move(values)) {}
  Index rows() const override { return values_.rows(); }
  Index cols() const override { return values_.cols(); }
  void times_transposed_rows(const Matrix& H, Index row_begin, Index row_count,
                             Eigen::Ref<Matrix> out) const override;
  void add_product_with_rows(Eigen::Ref<const Matrix> Wt_b, Index row_begin, Index row_count,
                             Matrix& accumulator) const override;
  double residual_squared_norm(Eigen::Ref<const Matrix> Wt_b, const Matrix& H, Index row_begin,
                               Index row_count) const override;
  std::unique_ptr<LocalBlock> same_pattern() const override;
  double divide_by_product(Eigen::Ref<const Matrix> Wt_b, const Matrix& H, Index row_begin,
                           Index row_count, LocalBlock& ratio) const override;
  double sum() const override { return values_.sum(); }
  double squared_norm() const override { return values_.squaredNorm(); }
  double product_flops(Index rank) const override {
    return 4.0 * static_cast<double>(stored_entries()) * static_cast<double>(rank);
  }
  const Values& values() const { return values_; }
  Values& values() { return values_; }

 private:
  Index stored_entries() const;

  Values values_;
};

using DenseBlock = StoredBlock<RowMatrix>;
using SparseBlock = StoredBlock<SparseRowMatrix>;

}  // namespace dnmf::nmf
