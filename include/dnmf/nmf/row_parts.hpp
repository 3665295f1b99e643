#pragma once
// A pass over a block's rows on the kernel threads (core/threads.hpp): the row blocks of
// kRowsPerBlock rows, the same as a pass on one thread walks, dealt in contiguous parts, one a
// thread, each part walked in order by the thread that owns it. What a pass sums (Wᵀ A, a Gram,
// a residual), each part sums alone, and the parts' sums are added in part order: the same bits
// for the same thread count, equal to rounding across counts. Each thread calls the BLAS on its
// own blocks, one thread each, so the products run at the one-thread GEMM rate on every core
// without the BLAS's own thread synchronisation inside every product (DESIGN.md "Threads").

#include <functional>
#include <vector>

#include "dnmf/core/matrix.hpp"
#include "dnmf/nmf/local_block.hpp"

namespace dnmf::nmf {

class RowParts {
 public:
  /// The blocks of `rows` rows in min(kernel_threads(), blocks, most) parts (at least one).
  /// `most` bounds the parts where each costs memory (an accumulator a part).
  explicit RowParts(Index rows, Index most = kAnyParts);

  Index count() const { return count_; }

  /// Calls block(part, row, rows) for every row block, each part's blocks in order on one thread,
  /// the parts on the kernel threads; returns when all are done.
  void for_each_block(const std::function<void(Index part, Index row, Index rows)>& block) const;

  /// As for_each_block, summing what block(part, row, rows) returns: each part its own sum in
  /// double, the parts' sums added in part order.
  double sum_over_blocks(
      const std::function<double(Index part, Index row, Index rows)>& block) const;

  static constexpr Index kAnyParts = Index(1) << 40;

 private:
  Index rows_;
  Index blocks_;
  Index count_;
};

/// The most parts whose accumulators of `accumulator_entries` Scalars each stay within a quarter
/// of `stored_entries` Scalars (a block's own values), at least one: a part's share of Wᵀ A
/// (k x n) must not outweigh its share of A on a wide, short block.
Index parts_within_memory(Index stored_entries, Index accumulator_entries);

/// Sums parts[1..] into parts[0] in part order.
template <class Scalar>
void add_parts(std::vector<MatrixT<Scalar>>& parts) {
  for (std::size_t p = 1; p < parts.size(); ++p) parts[0] += parts[p];
}

/// out (r x A.rows()) = H Aᵀ for H (r x n), the row blocks on the kernel threads.
template <class Scalar>
void times_transposed_all_rows(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& H,
                               MatrixT<Scalar>& out);

/// WtA (r x n) = Wt A for Wt (r x A.rows()), the row blocks on the kernel threads, a sum a part.
template <class Scalar>
void product_with_all_rows(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& Wt,
                           MatrixT<Scalar>& WtA);

/// ratio = A ⊘ (W H) over all rows (LocalBlockT::divide_by_product), the row blocks on the
/// kernel threads; returns Σ A log(A / WH), a sum a part.
template <class Scalar>
double divide_all_rows(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& Wt,
                       const MatrixT<Scalar>& H, LocalBlockT<Scalar>& ratio);

}  // namespace dnmf::nmf
