#include "dnmf/nmf/solver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/loss_steps.hpp"
#include "dnmf/nmf/row_parts.hpp"
#include "dnmf/nmf/update_rule.hpp"

namespace dnmf::nmf {
namespace {

/// Relative improvement over the stopping window, (e[t-w] - e[t]) / e[t-w].
bool stalled(const std::vector<IterationRecord>& history, const StopRule& rule) {
  if (rule.tolerance <= 0) return false;  // otherwise a rise by rounding would stop the run
  const std::size_t count = history.size();
  const std::size_t window = static_cast<std::size_t>(rule.window);
  if (count <= window) return false;
  const auto watched = [&](const IterationRecord& record) {
    return rule.watch_test_error ? record.test_error : record.relative_error;
  };
  const double before = watched(history[count - 1 - window]);
  const double now = watched(history.back());
  return before <= 0 || (before - now) / before < rule.tolerance;
}

}  // namespace

std::string to_string(StopReason reason) {
  switch (reason) {
    case StopReason::MaxIterations: return "max-iterations";
    case StopReason::Converged: return "converged";
    case StopReason::TimeLimit: return "time-limit";
    case StopReason::Signal: return "signal";
  }
  return "unknown";
}

namespace {

/// The state of the alternating iteration on one rank and its three steps, in the order the
/// loop in solve() calls them: update_w (streamed over row blocks of A), update_h (this rank's
/// column block, then the allgather) and measure (one allreduce of the scalars, the objective).
/// What each step computes for the loss, the LossSteps decide.
template <class Scalar>
class Iteration {
 public:
  Iteration(const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, const SolverOptions& options,
            const InputStatistics& statistics, const EntryMaskT<Scalar>* mask,
            mpi::Communicator& comm)
      : A_(A),
        Wt_(factors.Wt),
        H_(factors.H),
        options_(options),
        comm_(comm),
        k_(options.rank),
        local_rows_(A.rows()),
        column_blocks_(A.cols(), comm.size()),
        block_counts_(column_blocks_.counts(k_)),
        column_begin_(column_blocks_.begin(comm.rank())),
        column_count_(column_blocks_.size(comm.rank())),
        w_rule_(make_update_rule<Scalar>(options.algorithm)),
        h_rule_(make_update_rule<Scalar>(options.algorithm)),
        loss_(make_loss_steps(A, factors, column_begin_, column_count_, options, statistics, mask,
                              comm, *w_rule_, *h_rule_)),
        row_parts_(local_rows_, parts_within_memory(A.stored_entries(), k_ * A.cols())),
        rhs_blocks_(static_cast<std::size_t>(row_parts_.count())),
        WtA_parts_(1, MatrixT<Scalar>(k_, A.cols())),
        WtA_block_(k_, column_count_),
        w_penalised_(options.w_penalty.l1 > 0 || options.w_penalty.l2 > 0),
        reduction_(loss_->gram_size() + (w_penalised_ ? 6 : 4)),
        scalars_(reduction_.data() + loss_->gram_size()) {}

  /// Before the first iteration: what update_w expects.
  void start() {
    loss_->start();
    if (loss_->gram_size() > 0) reduce_scalars(0.0, 0.0, 0.0);
  }

  /// 1. W update, streamed over row blocks of A in parts on the kernel threads
  /// (nmf/row_parts.hpp); Wᵀ A accumulated from the updated blocks, a sum a part.
  void update_w() {
    const auto parts = static_cast<std::size_t>(row_parts_.count());
    WtA_parts_.resize(parts);
    for (std::size_t p = 0; p < parts; ++p) {
      WtA_parts_[p].setZero(k_, A_.cols());
      rhs_blocks_[p].resize(k_, std::min(kRowsPerBlock, local_rows_));
    }
    loss_->begin_w_update(row_parts_.count());
    row_parts_.for_each_block([&](Index part, Index row, Index rows) {
      const auto p = static_cast<std::size_t>(part);
      loss_->update_w_rows(part, row, rows, rhs_blocks_[p].leftCols(rows),
                           Wt_.middleCols(row, rows), WtA_parts_[p]);
    });
    add_parts(WtA_parts_);
    loss_->end_w_update(WtA());
  }

  /// 1, for a fit of a batch (solve_batch): the W update of all rows from rhs = H Pᵀ, which
  /// the batch formed with the shared_product_block() P; the batch then puts Wᵀ P into WtA().
  void update_w_from(Eigen::Ref<const MatrixT<Scalar>> rhs) {
    loss_->begin_w_update(1);
    loss_->update_w_from(rhs, Wt_);
  }
  const LocalBlockT<Scalar>* shared_product_block() const { return loss_->shared_product_block(); }
  MatrixT<Scalar>& WtA() { return WtA_parts_.front(); }

  /// 2. H update on this rank's column block C_r, from (Wᵀ A)[:, C_r] after the reduce-scatter;
  /// the blocks then gathered so that every rank holds all of H.
  void update_h() {
    comm_.reduce_scatter_sum(WtA().data(), WtA_block_.data(), block_counts_);
    loss_->update_h_block(H_.middleCols(column_begin_, column_count_), WtA_block_);
    comm_.allgather_in_place(H_.data(), block_counts_);
  }

  /// 3-4. The loss term, the penalties and the objective, from one allreduce that also carries
  /// the elapsed seconds and the ranks' stop votes. `seconds` is this rank's time in the loop.
  IterationRecord measure(int iteration, double seconds) {
    const double loss_term = loss_->loss_term(WtA_block_, column_begin_);
    reduce_scalars(loss_term, loss_->test_term(), seconds);
    const Penalty& w_penalty = options_.w_penalty;
    const Penalty& h_penalty = options_.h_penalty;
    const double penalties = w_penalty.l1 * w_sum_ + 0.5 * w_penalty.l2 * w_squares_ +
                             h_penalty.l1 * H_.template cast<double>().sum() +
                             0.5 * h_penalty.l2 * H_.template cast<double>().squaredNorm();
    IterationRecord record;
    record.iteration = iteration;
    loss_->measure(scalars_[0], scalars_[1], penalties, record);
    return record;
  }

  /// The ranks' mean time in the loop, as of the last measure().
  double mean_seconds() const { return scalars_[2] / comm_.size(); }
  /// Whether a rank had a stop request (SIGTERM, SIGUSR1) as of the last measure().
  bool stop_requested() const { return scalars_[3] > 0; }

  /// The relative error of the factors, computed directly (collective).
  double final_relative_error(const FactorsT<Scalar>& factors) {
    return loss_->final_relative_error(factors);
  }

  /// Flops of one iteration over all ranks (collective): the products with A, the rules, and
  /// the Grams Wᵀ W and H Hᵀ (symmetric rank updates, nmf/gram.hpp).
  double flops() const {
    const double local_flops =
        loss_->product_passes() * A_.product_flops(k_) + w_rule_->flops(k_, local_rows_) +
        h_rule_->flops(k_, column_count_) +
        static_cast<double>(k_ * (k_ + 1)) * static_cast<double>(local_rows_ + column_count_);
    return comm_.sum(local_flops);
  }

 private:
  /// The one allreduce of an iteration: [the loss's Gram (Frobenius: H_C H_Cᵀ, k*k) | loss
  /// term | test term | elapsed seconds | stop votes | Σ W_r | ||W_r||² (the last two only with
  /// penalties on W)].
  void reduce_scalars(double loss_term, double test_term, double seconds) {
    const Index gram_rows = loss_->gram_size() > 0 ? k_ : 0;
    Eigen::Map<Matrix> reduced_gram(reduction_.data(), gram_rows, gram_rows);
    loss_->write_gram(reduced_gram);
    scalars_[0] = loss_term;
    scalars_[1] = test_term;
    scalars_[2] = seconds;
    scalars_[3] = stop_signal() != 0 ? 1.0 : 0.0;
    if (w_penalised_) {
      scalars_[4] = Wt_.template cast<double>().sum();
      scalars_[5] = Wt_.template cast<double>().squaredNorm();
    }
    comm_.allreduce_sum(reduction_.data(), reduction_.size());
    loss_->take_gram(reduced_gram);
    if (w_penalised_) {
      w_sum_ = scalars_[4];
      w_squares_ = scalars_[5];
    }
  }

  const LocalBlockT<Scalar>& A_;
  MatrixT<Scalar>& Wt_;
  MatrixT<Scalar>& H_;
  const SolverOptions& options_;
  mpi::Communicator& comm_;
  const Index k_;
  const Index local_rows_;
  // H's column block C_r, owned by this rank for the H update.
  const mpi::BlockPartition column_blocks_;
  const std::vector<int> block_counts_;
  const Index column_begin_;
  const Index column_count_;
  const std::unique_ptr<UpdateRuleT<Scalar>> w_rule_;
  const std::unique_ptr<UpdateRuleT<Scalar>> h_rule_;
  const std::unique_ptr<LossSteps<Scalar>> loss_;
  const RowParts row_parts_;
  // In Scalar:
  std::vector<MatrixT<Scalar>> rhs_blocks_;  // B_b = H A_bᵀ, a part's scratch  (k x rows)
  // This rank's W_rᵀ A_r (KL: W_rᵀ Q_r), a sum a part (all but the first made at the first
  // update_w: a fit of solve_batch gets the total from the batch), then the total in the first
  std::vector<MatrixT<Scalar>> WtA_parts_;
  MatrixT<Scalar> WtA_block_;  // (Wᵀ A)[:, C_r] after reduce-scatter  (k x |C_r|)
  const bool w_penalised_;
  // An Eigen vector, not a std::vector: Eigen allocates it 32-byte aligned, so the product
  // written into it takes the same vectorised path (FMA where aligned, separate multiply and
  // add in a peeled head) in every run, and a resumed run reproduces the uninterrupted one
  // bitwise. A std::vector's alignment varied with the heap's history.
  Vector reduction_;
  double* const scalars_;
  double w_sum_ = 0;  // Σ W and ||W||², allreduced when W is penalised
  double w_squares_ = 0;
};

/// Why the run stops after `record` (the last of `history`), or nothing to go on.
std::optional<StopReason> stop_reason(const std::vector<IterationRecord>& history,
                                      bool stop_requested, double run_seconds,
                                      const StopRule& rule) {
  if (stop_requested) return StopReason::Signal;
  if (history.back().relative_error == 0 || stalled(history, rule)) return StopReason::Converged;
  if (rule.time_limit > 0 && run_seconds >= rule.time_limit) return StopReason::TimeLimit;
  return std::nullopt;
}

/// The collectives' time and bytes on this rank as of a moment.
struct CollectiveTally {
  double seconds = 0;
  std::uint64_t bytes = 0;
};

/// One fit's result as its loop goes: the history, the iterations, and why it stopped.
class RunRecord {
 public:
  /// `resumed`: the run this one continues (its history feeds the stopping rule), or empty.
  explicit RunRecord(const SolveResult& resumed)
      : result_(resumed),
        seconds_before_(resumed.history.empty() ? 0.0 : resumed.history.back().seconds),
        iterations_before_(resumed.iterations) {
    result_.reason = StopReason::MaxIterations;
  }

  /// Adds `record`, timed by the ranks' mean seconds in this loop; the reason to stop after it.
  std::optional<StopReason> add(IterationRecord record, double mean_seconds, bool stop_requested,
                                const StopRule& rule) {
    record.seconds = seconds_before_ + mean_seconds;
    result_.history.push_back(record);
    result_.iterations = record.iteration;
    const std::optional<StopReason> stop =
        stop_reason(result_.history, stop_requested, mean_seconds, rule);
    if (stop) result_.reason = *stop;
    return stop;
  }
  const SolveResult& so_far() const { return result_; }

  /// Collective: the result, with the loop's times and bytes since `before` and the flops and
  /// relative error of `step`.
  template <class Scalar>
  SolveResult finish(Iteration<Scalar>& step, const FactorsT<Scalar>& factors,
                     const Stopwatch& loop_watch, const CollectiveTally& before,
                     mpi::Communicator& comm) {
    SolveResult result = result_;
    result.loop_seconds = loop_watch.seconds();
    result.communicate_seconds = comm.seconds_in_collectives() - before.seconds;
    result.compute_seconds = result.loop_seconds - result.communicate_seconds;
    result.iterations_this_run = result.iterations - iterations_before_;
    if (result.iterations_this_run > 0) {
      result.bytes_per_iteration = static_cast<double>(comm.bytes_in_collectives() - before.bytes) /
                                   result.iterations_this_run;
    }
    result.flops_per_iteration = step.flops();
    result.relative_error = step.final_relative_error(factors);
    return result;
  }

 private:
  SolveResult result_;
  const double seconds_before_;
  const int iterations_before_;
};

}  // namespace

template <class Scalar>
SolveResult solve(const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors,
                  const SolverOptions& options, const InputStatistics& statistics,
                  mpi::Communicator& comm, const SolveResult& resumed,
                  const SolverHooksT<Scalar>& hooks, const EntryMaskT<Scalar>* mask) {
  Iteration<Scalar> step(A, factors, options, statistics, mask, comm);
  RunRecord run(resumed);
  const CollectiveTally before{comm.seconds_in_collectives(), comm.bytes_in_collectives()};
  const Stopwatch loop_watch;
  step.start();
  for (int iteration = resumed.iterations + 1; iteration <= options.stop.max_iterations;
       ++iteration) {
    step.update_w();
    step.update_h();
    const IterationRecord record = step.measure(iteration, loop_watch.seconds());
    const std::optional<StopReason> stop =
        run.add(record, step.mean_seconds(), step.stop_requested(), options.stop);
    if (hooks.progress) hooks.progress(run.so_far().history.back());
    if (stop) {
      // A stop request leaves a checkpoint to resume from.
      if (*stop == StopReason::Signal && hooks.checkpoint) hooks.checkpoint(factors, run.so_far());
      break;
    }
    if (hooks.checkpoint && hooks.checkpoint_every > 0 && iteration % hooks.checkpoint_every == 0) {
      hooks.checkpoint(factors, run.so_far());
    }
  }
  return run.finish(step, factors, loop_watch, before, comm);
}

namespace {

/// The W updates of a stack of fits of one block with the products shared: their H's stacked,
/// H Aᵀ formed for every row, each fit's W updated from its rows of it, their W's stacked, and
/// Wᵀ A handed back to each fit for its H update.
template <class Scalar>
class StackedProducts {
 public:
  StackedProducts(const LocalBlockT<Scalar>& A, Index k) : A_(A), k_(k) {}

  void update_w(std::vector<FactorsT<Scalar>>& batch,
                std::vector<std::unique_ptr<Iteration<Scalar>>>& steps,
                const std::vector<std::size_t>& stack) {
    const Index rows = k_ * static_cast<Index>(stack.size());
    H_.resize(rows, A_.cols());
    Wt_.resize(rows, A_.rows());
    for (std::size_t s = 0; s < stack.size(); ++s) H_.middleRows(at(s), k_) = batch[stack[s]].H;
    times_transposed_all_rows(A_, H_, rhs_);
    for (std::size_t s = 0; s < stack.size(); ++s) {
      steps[stack[s]]->update_w_from(rhs_.middleRows(at(s), k_));
      Wt_.middleRows(at(s), k_) = batch[stack[s]].Wt;
    }
    product_with_all_rows(A_, Wt_, WtA_);
    for (std::size_t s = 0; s < stack.size(); ++s) {
      steps[stack[s]]->WtA() = WtA_.middleRows(at(s), k_);
    }
  }

 private:
  Index at(std::size_t s) const { return k_ * static_cast<Index>(s); }

  const LocalBlockT<Scalar>& A_;
  const Index k_;
  MatrixT<Scalar> H_, Wt_, rhs_, WtA_;  // stacked: k rows a fit
};

}  // namespace

template <class Scalar>
std::vector<SolveResult> solve_batch(const LocalBlockT<Scalar>& A,
                                     std::vector<FactorsT<Scalar>>& batch,
                                     const SolverOptions& options,
                                     const InputStatistics& statistics, mpi::Communicator& comm,
                                     const EntryMaskT<Scalar>* mask) {
  const Index k = options.rank;
  std::vector<std::unique_ptr<Iteration<Scalar>>> steps;
  std::vector<RunRecord> runs;
  std::vector<std::size_t> fitting;  // the fits not stopped yet, in batch order
  for (std::size_t f = 0; f < batch.size(); ++f) {
    steps.push_back(
        std::make_unique<Iteration<Scalar>>(A, batch[f], options, statistics, mask, comm));
    if (steps.back()->shared_product_block() != &A) {
      throw std::logic_error("solve_batch: the loss's products are not with the input's block");
    }
    runs.emplace_back(SolveResult{});
    fitting.push_back(f);
  }
  const auto per_stack =
      static_cast<std::size_t>(std::clamp<Index>(A.stacked_fits(k), 1, batch.size()));
  const CollectiveTally before{comm.seconds_in_collectives(), comm.bytes_in_collectives()};
  const Stopwatch loop_watch;
  for (auto& step : steps) step->start();
  StackedProducts<Scalar> stacked(A, k);
  for (int iteration = 1; iteration <= options.stop.max_iterations && !fitting.empty();
       ++iteration) {
    // The W updates, as many fits a stack as A's products take well (LocalBlockT::stacked_fits).
    for (std::size_t first = 0; first < fitting.size(); first += per_stack) {
      stacked.update_w(
          batch, steps,
          std::vector<std::size_t>(fitting.begin() + static_cast<std::ptrdiff_t>(first),
                                   fitting.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                         first + per_stack, fitting.size()))));
    }
    std::vector<std::size_t> still_fitting;
    for (std::size_t s = 0; s < fitting.size(); ++s) {
      Iteration<Scalar>& step = *steps[fitting[s]];
      step.update_h();
      const IterationRecord record = step.measure(iteration, loop_watch.seconds());
      if (!runs[fitting[s]].add(record, step.mean_seconds(), step.stop_requested(), options.stop)) {
        still_fitting.push_back(fitting[s]);
      }
    }
    fitting = std::move(still_fitting);
  }
  std::vector<SolveResult> results;
  for (std::size_t f = 0; f < batch.size(); ++f) {
    results.push_back(runs[f].finish(*steps[f], batch[f], loop_watch, before, comm));
  }
  return results;
}

template <class Scalar>
double relative_error(const LocalBlockT<Scalar>& A, const FactorsT<Scalar>& factors,
                      const InputStatistics& statistics, mpi::Communicator& comm, Loss loss) {
  if (loss == Loss::KullbackLeibler) {
    // [Σ A log(A / WH) | column sums of W]: D = that - Σ A + <colsums(W), rowsums(H)>.
    const std::unique_ptr<LocalBlockT<Scalar>> ratio = A.same_pattern();
    Vector partial(factors.Wt.rows() + 1);
    partial(0) = divide_all_rows(A, factors.Wt, factors.H, *ratio);
    partial.tail(factors.Wt.rows()) = factors.Wt.template cast<double>().rowwise().sum();
    comm.allreduce_sum(partial.data(), partial.size());
    const double divergence =
        partial(0) - statistics.sum +
        partial.tail(factors.Wt.rows()).dot(factors.H.template cast<double>().rowwise().sum());
    return std::max(divergence, 0.0) / statistics.sum;
  }
  return std::sqrt(comm.sum(A.residual_squared_norm(factors.Wt, factors.H)) /
                   statistics.squared_norm);
}

#define DNMF_INSTANTIATE_SOLVER(Scalar)                                                       \
  template SolveResult solve<Scalar>(const LocalBlockT<Scalar>&, FactorsT<Scalar>&,           \
                                     const SolverOptions&, const InputStatistics&,            \
                                     mpi::Communicator&, const SolveResult&,                  \
                                     const SolverHooksT<Scalar>&, const EntryMaskT<Scalar>*); \
  template std::vector<SolveResult> solve_batch<Scalar>(                                      \
      const LocalBlockT<Scalar>&, std::vector<FactorsT<Scalar>>&, const SolverOptions&,       \
      const InputStatistics&, mpi::Communicator&, const EntryMaskT<Scalar>*);                 \
  template double relative_error<Scalar>(const LocalBlockT<Scalar>&, const FactorsT<Scalar>&, \
                                         const InputStatistics&, mpi::Communicator&, Loss);
DNMF_INSTANTIATE_SOLVER(float)
DNMF_INSTANTIATE_SOLVER(double)
#undef DNMF_INSTANTIATE_SOLVER

}  // namespace dnmf::nmf
