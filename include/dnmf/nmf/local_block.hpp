#pragma once
// "My rows of A": the few operations the solvers need from a rank's block of the input, so every
// solver is written once for any storage (dense now; sparse CSR implements the same interface).
// Row ranges [row_begin, row_begin + row_count) are local to the block.

#include "dnmf/core/matrix.hpp"

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
  virtual double sum() const = 0;
  virtual double squared_norm() const = 0;
  /// Multiply-adds in the two big products of one iteration, times two (flops).
  virtual double product_flops(Index rank) const = 0;
};

/// A dense row-major block, as read from HDF5.
class DenseBlock final : public LocalBlock {
 public:
  explicit DenseBlock(RowMatrix values) : values_(std::move(values)) {}
  Index rows() const override { return values_.rows(); }
  Index cols() const override { return values_.cols(); }
  void times_transposed_rows(const Matrix& H, Index row_begin, Index row_count,
                             Eigen::Ref<Matrix> out) const override;
  void add_product_with_rows(Eigen::Ref<const Matrix> Wt_b, Index row_begin, Index row_count,
                             Matrix& accumulator) const override;
  double residual_squared_norm(Eigen::Ref<const Matrix> Wt_b, const Matrix& H, Index row_begin,
                               Index row_count) const override;
  double sum() const override { return values_.sum(); }
  double squared_norm() const override { return values_.squaredNorm(); }
  double product_flops(Index rank) const override {
    return 4.0 * static_cast<double>(values_.size()) * static_cast<double>(rank);
  }
  const RowMatrix& values() const { return values_; }

 private:
  RowMatrix values_;
};

}  // namespace dnmf::nmf
