#include "dnmf/nmf/row_parts.hpp"

#include <algorithm>
#include <vector>

#include "dnmf/core/parallel_for.hpp"
#include "dnmf/core/threads.hpp"

namespace dnmf::nmf {

RowParts::RowParts(Index rows, Index most)
    : rows_(rows),
      blocks_((rows + kRowsPerBlock - 1) / kRowsPerBlock),
      count_(std::max<Index>(1, std::min({Index{kernel_threads()}, blocks_, most}))) {}

void RowParts::for_each_block(
    const std::function<void(Index part, Index row, Index rows)>& block) const {
  parallel_for(count_, 1, [&](Index first_part, Index end_part) {
    for (Index part = first_part; part < end_part; ++part) {
      const Index first_block = blocks_ * part / count_;
      const Index end_block = blocks_ * (part + 1) / count_;
      for (Index b = first_block; b < end_block; ++b) {
        const Index row = b * kRowsPerBlock;
        block(part, row, std::min(kRowsPerBlock, rows_ - row));
      }
    }
  });
}

double RowParts::sum_over_blocks(
    const std::function<double(Index part, Index row, Index rows)>& block) const {
  std::vector<double> sums(static_cast<std::size_t>(count_), 0.0);
  for_each_block([&](Index part, Index row, Index rows) {
    sums[static_cast<std::size_t>(part)] += block(part, row, rows);
  });
  double total = 0;
  for (const double sum : sums) total += sum;
  return total;
}

Index parts_within_memory(Index stored_entries, Index accumulator_entries) {
  if (accumulator_entries <= 0) return RowParts::kAnyParts;
  return 1 + stored_entries / (4 * accumulator_entries);
}

template <class Scalar>
void times_transposed_all_rows(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& H,
                               MatrixT<Scalar>& out) {
  out.resize(H.rows(), A.rows());
  RowParts(A.rows()).for_each_block([&](Index, Index row, Index rows) {
    A.times_transposed_rows(H, row, rows, out.middleCols(row, rows));
  });
}

template <class Scalar>
void product_with_all_rows(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& Wt,
                           MatrixT<Scalar>& WtA) {
  const RowParts parts(A.rows(), parts_within_memory(A.stored_entries(), Wt.rows() * A.cols()));
  std::vector<MatrixT<Scalar>> sums(static_cast<std::size_t>(parts.count()));
  sums.front().swap(WtA);
  for (auto& sum : sums) sum.setZero(Wt.rows(), A.cols());
  parts.for_each_block([&](Index part, Index row, Index rows) {
    A.add_product_with_rows(Wt.middleCols(row, rows), row, rows,
                            sums[static_cast<std::size_t>(part)]);
  });
  add_parts(sums);
  WtA.swap(sums.front());
}

template <class Scalar>
double divide_all_rows(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& Wt,
                       const MatrixT<Scalar>& H, LocalBlockT<Scalar>& ratio) {
  return RowParts(A.rows()).sum_over_blocks([&](Index, Index row, Index rows) {
    return A.divide_by_product(Wt.middleCols(row, rows), H, row, rows, ratio);
  });
}

#define DNMF_INSTANTIATE_ROW_PARTS(Scalar)                                                        \
  template void times_transposed_all_rows<Scalar>(const LocalBlockT<Scalar>&,                     \
                                                  const MatrixT<Scalar>&, MatrixT<Scalar>&);      \
  template void product_with_all_rows<Scalar>(const LocalBlockT<Scalar>&, const MatrixT<Scalar>&, \
                                              MatrixT<Scalar>&);                                  \
  template double divide_all_rows<Scalar>(const LocalBlockT<Scalar>&, const MatrixT<Scalar>&,     \
                                          const MatrixT<Scalar>&, LocalBlockT<Scalar>&);
DNMF_INSTANTIATE_ROW_PARTS(float)
DNMF_INSTANTIATE_ROW_PARTS(double)
#undef DNMF_INSTANTIATE_ROW_PARTS

}  // namespace dnmf::nmf
