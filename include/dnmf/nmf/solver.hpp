#pragma once
// The distributed alternating loop (DESIGN.md "The factorization"): 1-D row partition of A and
// W, H replicated, each rank owning a column block C_r of H for the H update.
//
// One Frobenius iteration, for every update rule, with exactly four collectives:
//   1. W update, local, streamed over row blocks of A: B_b = H A_bᵀ, update Wt_b with
//      G = H Hᵀ + l2_W I, then WtA += Wt_b A_b while A_b is still in cache.
//   2. reduce-scatter WtA by column blocks (k x n);  allreduce WtW (k x k);
//      update H_C with G = WtW + l2_H I, B = WtA_C;  allgather H (k x n).
//   3. one allreduce of [H_C H_Cᵀ | <WtA_C, H_C> | elapsed seconds | stop votes (| Σ W_r |
//      ||W_r||², with penalties on W)]
//   4. objective ½||A - WH||² = ½(||A||² - 2 <WtA, H> + <WtW, HHᵀ>) + penalties, from 2-3.
//
// KL (Lee & Seung 2001 multiplicative updates) keeps the same pattern and count. With
// Q = A ⊘ (W H), formed only at A's nonzeros and held in a block shaped like A:
//   1. W update, local: Wt_b <- Wt_b * (H Q_bᵀ) / (rowsums(H) + ...), Q_b from the previous pass;
//      then Q_b <- A_b ⊘ (W_b H) with the new W_b, and WtQ += Wt_b Q_b.
//   2. reduce-scatter WtQ by column blocks; allreduce the column sums of W (k values, in place
//      of WtW: the denominator Σ_i W_ia is a closed form); update H_C; allgather H.
//   3. Q <- A ⊘ (W H) with the new H (this pass is also next iteration's W numerator), giving
//      Σ A log(A / WH); one allreduce of [that sum | seconds | stop votes (| Σ W_r | ||W_r||²)].
//   4. D(A || WH) = Σ A log(A / WH) - Σ A + <colsums(W), rowsums(H)>: Σ WH in closed form.
// Two passes over A's nonzeros an iteration, O(nnz k) each; nothing of size m x n is formed.
//
// With missing or held-out entries (nmf/entry_mask.hpp) the Grams differ per row and column:
// see DESIGN.md "Masks" and masked_loss_steps.cpp for their collectives.
//
// Precision. The solver is written once for Scalar = float or double (`--precision`). A, W, H,
// the products with A (H A_bᵀ and Wᵀ A: the O(m n k) work, sgemm in float), the reduce-scatter
// of Wᵀ A and the allgather of H are in Scalar. Whatever Scalar is, these stay in double:
//   - ||A||² and Σ A (InputStatistics);
//   - the k x k Grams WᵀW and HHᵀ (+ l2 I), formed from the Scalar factors with double sums
//     (O(k² (m + n)) flops) and allreduced in double: they carry the objective term
//     <WᵀW, HHᵀ> and they are what BPP factors (BPP solves its k x k systems in double);
//   - the loss terms <(WᵀA)_C, H_C> and Σ A log(A / WH), the row sums of W and H (KL), the
//     penalty sums, the one scalar allreduce, the objective and the relative error.
// The Gram-trick objective ½(||A||² - 2<WᵀA, H> + <WᵀW, HHᵀ>) subtracts numbers close to ||A||²
// to get one that may be 1e4 times smaller: summed in float, the history would be noise.
// What remains of float in it is the rounding of the entries of WᵀA (sgemm), about 1e-7
// relatively, so the recorded relative error is good to about 1e-6 in single precision;
// the final relative_error() is computed without that cancellation, with double sums
// (LocalBlockT::residual_squared_norm).

#include <functional>
#include <string>
#include <vector>

#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/entry_mask.hpp"
#include "dnmf/nmf/factors.hpp"
#include "dnmf/nmf/local_block.hpp"
#include "dnmf/nmf/options.hpp"

namespace dnmf::nmf {

struct IterationRecord {
  int iteration = 0;
  /// What the stopping rule watches. Frobenius: sqrt(2 objective) / ||A||_F, i.e.
  /// ||A - WH||_F / ||A||_F without penalties. KL: objective / Σ A.
  double relative_error = 0;
  double objective = 0;  ///< the loss plus penalties (see nmf/options.hpp)
  double seconds = 0;    ///< since the start of the loop (mean over ranks)
  /// With a held-out set: the relative error on it, ||P_T(A - WH)|| / ||P_T A|| (Frobenius) or
  /// D_T(A || WH) / Σ_T A (KL), T the held-out entries that are not missing; 0 otherwise.
  double test_error = 0;
};

enum class StopReason { MaxIterations, Converged, TimeLimit, Signal };
std::string to_string(StopReason reason);

struct SolveResult {
  int iterations = 0;  ///< in all, counting the runs this one resumed
  int iterations_this_run = 0;
  StopReason reason = StopReason::MaxIterations;
  bool converged() const { return reason == StopReason::Converged; }
  std::vector<IterationRecord> history;  ///< iteration 0 is the starting point
  double relative_error = 0;  ///< final, without the Gram trick or penalties (see relative_error)
  double flops_per_iteration = 0;  ///< summed over ranks
  double loop_seconds = 0;         ///< wall time of the iteration loop on this rank
  double compute_seconds = 0;      ///< of which outside collectives
  double communicate_seconds = 0;
  double bytes_per_iteration = 0;  ///< sent by this rank in collectives, per iteration
};

template <class Scalar>
struct SolverHooksT {
  /// Called on every rank after every iteration, with the same values everywhere.
  std::function<void(const IterationRecord&)> progress;
  /// Called collectively every `checkpoint_every` iterations (0: never) and when a signal stops
  /// the run, with the factors and the run so far: enough to continue exactly.
  std::function<void(const FactorsT<Scalar>&, const SolveResult&)> checkpoint;
  int checkpoint_every = 0;
};
using SolverHooks = SolverHooksT<double>;

/// Collective over `comm`. `A` is this rank's row block; `factors` the starting point, updated in
/// place. `resumed` is the record of the run that produced `factors` when continuing one (its
/// history feeds the stopping rule, so a resumed run takes the same steps as an uninterrupted
/// one); default: a fresh start. A SIGTERM or SIGUSR1 received by any rank (see
/// core/stop_request.hpp) stops every rank after the same iteration with StopReason::Signal.
/// With a `mask` that leaves entries out (nmf/entry_mask.hpp), `A` holds P_O A (the block
/// take_out_unobserved left), `statistics` are its own, and the loss and the relative error are
/// over the observed entries only; the record carries the test error.
template <class Scalar>
SolveResult solve(const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors,
                  const SolverOptions& options, const InputStatistics& statistics,
                  mpi::Communicator& comm, const SolveResult& resumed = {},
                  const SolverHooksT<Scalar>& hooks = {}, const EntryMaskT<Scalar>* mask = nullptr);

/// Collective over `comm`: the fits of A from each of the starting points `batch` (updated in
/// place), with the options, statistics and mask of one solve() call, as that many solve()
/// calls would make them, to rounding, but with the products with A shared: the H's stacked
/// into one (batch k) x n matrix, so that H Aᵀ and Wᵀ A are one product of batch·k rows each,
/// one pass over A for every fit instead of one a fit. The Grams, the updates, the collectives
/// of the H update and the stopping rule stay each fit's own; a fit that stops leaves the
/// stack. The products are formed for all rows before the W updates (a second pass over A for
/// Wᵀ A), which a wide stack pays for; at most A.stacked_fits(k) fits a stack (a sparse block's
/// products slow down beyond the caches), several stacks an iteration otherwise. For the
/// losses whose products are with the input's block (Frobenius, masked or not; not KL, whose
/// products are with A ⊘ WH): a logic_error otherwise.
template <class Scalar>
std::vector<SolveResult> solve_batch(const LocalBlockT<Scalar>& A,
                                     std::vector<FactorsT<Scalar>>& batch,
                                     const SolverOptions& options,
                                     const InputStatistics& statistics, mpi::Communicator& comm,
                                     const EntryMaskT<Scalar>* mask = nullptr);

/// Computed directly from A, W and H (one pass over A, one allreduce): ||A - WH||_F / ||A||_F
/// for the Frobenius loss, D(A || WH) / Σ A for KL; sums in double.
template <class Scalar>
double relative_error(const LocalBlockT<Scalar>& A, const FactorsT<Scalar>& factors,
                      const InputStatistics& statistics, mpi::Communicator& comm,
                      Loss loss = Loss::Frobenius);

}  // namespace dnmf::nmf
