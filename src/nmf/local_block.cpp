#include "dnmf/nmf/local_block.hpp"

#include <cmath>
#include <stdexcept>

#include "dnmf/nmf/sparse_products.hpp"

namespace dnmf::nmf {
namespace {

// Guards the KL ratio where (W H)_ij is exactly zero at a nonzero of A.
constexpr double kProductGuard = 1e-16;

/// Sets ratio = a / (W H)_ij (guarded) and returns the entry's a log(a / (W H)_ij); a > 0.
double kl_entry(double a, double product, double& ratio) {
  const double guarded = std::max(product, kProductGuard);
  ratio = a / guarded;
  return a * std::log(ratio);
}

template <class Values>
Values& values_of(LocalBlock& ratio) {
  auto* block = dynamic_cast<StoredBlock<Values>*>(&ratio);
  if (block == nullptr) throw std::logic_error("divide_by_product: ratio not made by same_pattern()");
  return block->values();
}

}  // namespace

template <>
Index DenseBlock::stored_entries() const {
  return values_.size();
}

template <>
Index SparseBlock::stored_entries() const {
  return values_.nonZeros();
}

template <>
void DenseBlock::times_transposed_rows(const Matrix& H, Index row_begin, Index row_count,
                                       Eigen::Ref<Matrix> out) const {
  out.noalias() = H * values_.middleRows(row_begin, row_count).transpose();
}

template <>
void DenseBlock::add_product_with_rows(Eigen::Ref<const Matrix> Wt_b, Index row_begin,
                                       Index row_count, Matrix& accumulator) const {
  accumulator.noalias() += Wt_b * values_.middleRows(row_begin, row_count);
}

template <>
double DenseBlock::residual_squared_norm(Eigen::Ref<const Matrix> Wt_b, const Matrix& H,
                                         Index row_begin, Index row_count) const {
  return (values_.middleRows(row_begin, row_count) - Wt_b.transpose() * H).squaredNorm();
}

template <>
std::unique_ptr<LocalBlock> DenseBlock::same_pattern() const {
  return std::make_unique<DenseBlock>(RowMatrix(values_.rows(), values_.cols()));
}

template <>
double DenseBlock::divide_by_product(Eigen::Ref<const Matrix> Wt_b, const Matrix& H,
                                     Index row_begin, Index row_count, LocalBlock& ratio) const {
  auto out = values_of<RowMatrix>(ratio).middleRows(row_begin, row_count);
  out.noalias() = Wt_b.transpose() * H;
  double log_sum = 0;
  for (Index i = 0; i < row_count; ++i) {
    for (Index j = 0; j < values_.cols(); ++j) {
      const double a = values_(row_begin + i, j);
      if (a > 0) {
        log_sum += kl_entry(a, out(i, j), out(i, j));
      } else {
        out(i, j) = 0;
      }
    }
  }
  return log_sum;
}

template <>
void SparseBlock::times_transposed_rows(const Matrix& H, Index row_begin, Index row_count,
                                        Eigen::Ref<Matrix> out) const {
  sparse_rows_times_transposed<double>(values_, row_begin, row_count, H, out);
}

template <>
void SparseBlock::add_product_with_rows(Eigen::Ref<const Matrix> Wt_b, Index row_begin,
                                        Index row_count, Matrix& accumulator) const {
  add_product_with_sparse_rows<double>(values_, row_begin, row_count, Wt_b, accumulator);
}

template <>
double SparseBlock::residual_squared_norm(Eigen::Ref<const Matrix> Wt_b, const Matrix& H,
                                          Index row_begin, Index row_count) const {
  // One dense row of W H at a time: O(n) memory, O(n k) work a row (the final check only).
  Vector row(values_.cols());
  double total = 0;
  for (Index i = 0; i < row_count; ++i) {
    row.noalias() = H.transpose() * Wt_b.col(i);
    for (SparseRowMatrix::InnerIterator it(values_, row_begin + i); it; ++it) {
      row(it.col()) -= it.value();
    }
    total += row.squaredNorm();
  }
  return total;
}

template <>
std::unique_ptr<LocalBlock> SparseBlock::same_pattern() const {
  return std::make_unique<SparseBlock>(values_);
}

template <>
double SparseBlock::divide_by_product(Eigen::Ref<const Matrix> Wt_b, const Matrix& H,
                                      Index row_begin, Index row_count, LocalBlock& ratio) const {
  return divide_sparse_rows_by_product<double>(values_, row_begin, row_count, Wt_b, H,
                                               kProductGuard, values_of<SparseRowMatrix>(ratio));
}

}  // namespace dnmf::nmf
