#include "dnmf/nmf/local_block.hpp"

namespace dnmf::nmf {

void DenseBlock::times_transposed_rows(const Matrix& H, Index row_begin, Index row_count,
                                       Eigen::Ref<Matrix> out) const {
  out.noalias() = H * values_.middleRows(row_begin, row_count).transpose();
}

void DenseBlock::add_product_with_rows(Eigen::Ref<const Matrix> Wt_b, Index row_begin,
                                       Index row_count, Matrix& accumulator) const {
  accumulator.noalias() += Wt_b * values_.middleRows(row_begin, row_count);
}

double DenseBlock::residual_squared_norm(Eigen::Ref<const Matrix> Wt_b, const Matrix& H,
                                         Index row_begin, Index row_count) const {
  return (values_.middleRows(row_begin, row_count) - Wt_b.transpose() * H).squaredNorm();
}

}  // namespace dnmf::nmf
