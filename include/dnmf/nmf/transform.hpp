#pragma once
// Codes of rows against a fixed basis: W = argmin_{W >= 0} loss(A, W H) + penalties(W) with H
// (k x n) fixed and replicated, each rank solving for its own rows of A. Rows are independent
// problems, so nothing is communicated but the statistics.
//
// Frobenius: ½||a - Hᵀw||² + l1 Σ w + (l2/2)||w||² for every row a is one exact NNLS with
// G = H Hᵀ + l2 I and b = H aᵀ - l1, solved by block principal pivoting (nmf/bpp.hpp) from
// w = 0, streamed over blocks of rows like the solver's W update.
// KL: D(a || Hᵀw) + penalties has no closed form; Lee & Seung's (2001) multiplicative update of
// W alone (H fixed) decreases it monotonically and is run from the constant start that best fits
// each row's total (w = Σa / ΣH · 1) until the objective improves by less than `tolerance`,
// relatively, in one iteration, or for `max_iterations`.

#include <functional>
#include <vector>

#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/entry_mask.hpp"
#include "dnmf/nmf/factors.hpp"
#include "dnmf/nmf/local_block.hpp"
#include "dnmf/nmf/options.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::nmf {

struct TransformOptions {
  Loss loss = Loss::Frobenius;
  Penalty penalty;  ///< on the codes W, as in the fit that made H
  /// KL only (the Frobenius solve is exact in one pass).
  int max_iterations = 1000;
  double tolerance = 1e-6;
};

struct TransformResult {
  Matrix Wt;  ///< k x m_local: this rank's codes, transposed (one row of A a column)
  /// ||A - WH||_F / ||A||_F, or D(A || WH) / Σ A for KL, computed directly (no penalties).
  double relative_error = 0;
  /// KL: the objective (loss + penalties) and D/ΣA after each iteration, iteration 0 the start.
  /// Empty for the Frobenius loss.
  std::vector<IterationRecord> history;
  int iterations = 0;  ///< KL multiplicative updates made; 0 for the Frobenius loss
  StopReason reason = StopReason::Converged;  ///< Frobenius: always Converged (exact)
};

/// Collective over `comm` (one allreduce per KL iteration, one for the final relative error).
/// `A` is this rank's row block, H the basis (k x n, n = A.cols()). `progress` is called on every
/// rank after every KL iteration with the same values everywhere. With a `mask` of missing
/// entries (nmf/entry_mask.hpp: A then holds P_O A, `statistics` are its own) each row's codes
/// fit its observed entries only (its Gram, or sums of H, over its observed columns), a row
/// with none gets zero codes, and the relative error is over the observed entries.
TransformResult transform(const LocalBlock& A, const Matrix& H, const TransformOptions& options,
                          const InputStatistics& statistics, mpi::Communicator& comm,
                          const std::function<void(const IterationRecord&)>& progress = {},
                          const EntryMask* mask = nullptr);

}  // namespace dnmf::nmf
