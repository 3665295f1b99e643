#include "dnmf/nmf/solver.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/loss_steps.hpp"
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

/// ½||A - WH||²: both factors by the update rule (MU, HALS, BPP) from the Grams.
template <class Scalar>
class FrobeniusSteps final : public LossSteps<Scalar> {
 public:
  /// [column_begin, column_begin + column_count) is this rank's column block C_r of H.
  FrobeniusSteps(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& H, Index column_begin,
                 Index column_count, const SolverOptions& options,
                 const InputStatistics& statistics, mpi::Communicator& comm,
                 UpdateRuleT<Scalar>& w_rule, UpdateRuleT<Scalar>& h_rule)
      : A_(A),
        H_(H),
        column_begin_(column_begin),
        column_count_(column_count),
        options_(options),
        statistics_(statistics),
        comm_(comm),
        w_rule_(w_rule),
        h_rule_(h_rule),
        k_(options.rank),
        WtW_(k_, k_),
        HHt_(k_, k_),
        gram_(k_, k_) {}

  Index gram_size() const override { return k_ * k_; }
  void write_gram(Eigen::Map<Matrix>& gram) const override {
    const auto H_C = H_.middleCols(column_begin_, column_count_).template cast<double>();
    gram.noalias() = H_C * H_C.transpose();  // in double
  }
  void take_gram(const Eigen::Map<Matrix>& gram) override { HHt_ = gram; }
  void start() override {}
  void begin_w_update() override {
    WtW_.setZero();
    w_gram_ = &with_ridge(HHt_, options_.w_penalty.l2);
  }
  void update_w_rows(Index row, Index rows, Eigen::Ref<MatrixT<Scalar>> rhs,
                     Eigen::Ref<MatrixT<Scalar>> Wt_b, MatrixT<Scalar>& WtA) override {
    A_.times_transposed_rows(H_, row, rows, rhs);
    w_rule_.update(Wt_b, *w_gram_, rhs, options_.w_penalty.l1);
    A_.add_product_with_rows(Wt_b, row, rows, WtA);
    const auto& W_b = Wt_b.template cast<double>();  // Wt_b itself when Scalar is double
    WtW_.noalias() += W_b * W_b.transpose();         // in double
  }
  void update_h_block(Eigen::Ref<MatrixT<Scalar>> H_block,
                      const MatrixT<Scalar>& WtA_block) override {
    comm_.allreduce_sum(WtW_.data(), k_ * k_);
    h_rule_.update(H_block, with_ridge(WtW_, options_.h_penalty.l2), WtA_block,
                   options_.h_penalty.l1);
  }
  double loss_term(const MatrixT<Scalar>& WtA_block, Index column_begin) override {
    const auto H_block = H_.middleCols(column_begin, WtA_block.cols());
    return (WtA_block.template cast<double>().array() * H_block.template cast<double>().array())
        .sum();
  }
  void measure(double loss_term, double, double penalties, IterationRecord& record) const override {
    // ||A||² - 2 <Wᵀ A, H> + <Wᵀ W, H Hᵀ>, without forming W H.
    const double fit =
        statistics_.squared_norm - 2.0 * loss_term + (WtW_.array() * HHt_.array()).sum();
    record.objective = 0.5 * fit + penalties;
    record.relative_error =
        std::sqrt(std::max(2.0 * record.objective, 0.0) / statistics_.squared_norm);
  }
  double final_relative_error(const FactorsT<Scalar>& factors) override {
    return relative_error(A_, factors, statistics_, comm_, Loss::Frobenius);
  }
  double product_passes() const override { return 1.0; }

 private:
  /// G + l2 I, or G itself without a ridge.
  const Matrix& with_ridge(const Matrix& G, double l2) {
    if (l2 == 0) return G;
    gram_ = G;
    gram_.diagonal().array() += l2;
    return gram_;
  }

  const LocalBlockT<Scalar>& A_;
  const MatrixT<Scalar>& H_;
  const Index column_begin_;
  const Index column_count_;
  const SolverOptions& options_;
  const InputStatistics& statistics_;
  mpi::Communicator& comm_;
  UpdateRuleT<Scalar>& w_rule_;
  UpdateRuleT<Scalar>& h_rule_;
  const Index k_;
  // In double (see "Precision" in solver.hpp):
  Matrix WtW_;   // Wᵀ W, allreduced
  Matrix HHt_;   // H Hᵀ, allreduced
  Matrix gram_;  // G + l2 I handed to the update rule
  const Matrix* w_gram_ = nullptr;
};

/// The generalized KL divergence D(A || WH): Lee & Seung's (2001) multiplicative updates.
template <class Scalar>
class KlSteps final : public LossSteps<Scalar> {
 public:
  KlSteps(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H,
          const SolverOptions& options, const InputStatistics& statistics, mpi::Communicator& comm)
      : A_(A),
        Wt_(Wt),
        H_(H),
        options_(options),
        statistics_(statistics),
        comm_(comm),
        ratio_(A.same_pattern()),
        w_sums_(options.rank),
        h_sums_(options.rank) {}

  Index gram_size() const override { return 0; }
  void write_gram(Eigen::Map<Matrix>&) const override {}
  void take_gram(const Eigen::Map<Matrix>&) override {}
  void start() override {
    ratio_pass();
    h_sums_ = H_.template cast<double>().rowwise().sum();
  }
  void begin_w_update() override {}
  void update_w_rows(Index row, Index rows, Eigen::Ref<MatrixT<Scalar>> rhs,
                     Eigen::Ref<MatrixT<Scalar>> Wt_b, MatrixT<Scalar>& WtQ) override {
    ratio_->times_transposed_rows(H_, row, rows, rhs);
    kl_multiplicative_update<Scalar>(Wt_b, h_sums_, rhs, options_.w_penalty);
    A_.divide_by_product(Wt_b, H_, row, rows, *ratio_);
    ratio_->add_product_with_rows(Wt_b, row, rows, WtQ);
  }
  void update_h_block(Eigen::Ref<MatrixT<Scalar>> H_block,
                      const MatrixT<Scalar>& WtQ_block) override {
    w_sums_ = Wt_.template cast<double>().rowwise().sum();
    comm_.allreduce_sum(w_sums_.data(), w_sums_.size());
    kl_multiplicative_update<Scalar>(H_block, w_sums_, WtQ_block, options_.h_penalty);
  }
  double loss_term(const MatrixT<Scalar>&, Index) override {
    const double log_sum = ratio_pass();
    h_sums_ = H_.template cast<double>().rowwise().sum();
    return log_sum;
  }
  void measure(double loss_term, double, double penalties, IterationRecord& record) const override {
    // Σ A log(A / WH) - Σ A + Σ WH, with Σ WH = (column sums of W) · (row sums of H).
    const double divergence = loss_term - statistics_.sum + w_sums_.dot(h_sums_);
    record.objective = divergence + penalties;
    record.relative_error = std::max(record.objective, 0.0) / statistics_.sum;
  }
  double final_relative_error(const FactorsT<Scalar>& factors) override {
    return relative_error(A_, factors, statistics_, comm_, Loss::KullbackLeibler);
  }
  double product_passes() const override { return 2.0; }

 private:
  /// Q <- A ⊘ (W H); returns this rank's Σ A log(A / WH).
  double ratio_pass() {
    double log_sum = 0;
    for (Index row = 0; row < A_.rows(); row += kRowsPerBlock) {
      const Index rows = std::min(kRowsPerBlock, A_.rows() - row);
      log_sum += A_.divide_by_product(Wt_.middleCols(row, rows), H_, row, rows, *ratio_);
    }
    return log_sum;
  }

  const LocalBlockT<Scalar>& A_;
  const MatrixT<Scalar>& Wt_;
  const MatrixT<Scalar>& H_;
  const SolverOptions& options_;
  const InputStatistics& statistics_;
  mpi::Communicator& comm_;
  // Q = A ⊘ (W H) at A's nonzeros, this rank's rows (the shape and pattern of A_r).
  const std::unique_ptr<LocalBlockT<Scalar>> ratio_;
  Vector w_sums_;  // column sums of W, allreduced          (k)
  Vector h_sums_;  // row sums of H (H is replicated)       (k)
};

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
        loss_(make_loss_steps(A, factors, options, statistics, mask, comm)),
        rhs_block_(k_, std::min(kRowsPerBlock, local_rows_)),
        WtA_(k_, A.cols()),
        WtA_block_(k_, column_count_),
        w_penalised_(options.w_penalty.l1 > 0 || options.w_penalty.l2 > 0),
        reduction_(loss_->gram_size() + (w_penalised_ ? 6 : 4)),
        scalars_(reduction_.data() + loss_->gram_size()) {}

  /// Before the first iteration: what update_w expects.
  void start() {
    loss_->start();
    if (loss_->gram_size() > 0) reduce_scalars(0.0, 0.0, 0.0);
  }

  /// 1. W update, streamed over row blocks of A; Wᵀ A accumulated from the updated blocks.
  void update_w() {
    WtA_.setZero();
    loss_->begin_w_update();
    for (Index row = 0; row < local_rows_; row += kRowsPerBlock) {
      const Index rows = std::min(kRowsPerBlock, local_rows_ - row);
      loss_->update_w_rows(row, rows, rhs_block_.leftCols(rows), Wt_.middleCols(row, rows), WtA_);
    }
    loss_->end_w_update(WtA_);
  }

  /// 2. H update on this rank's column block C_r, from (Wᵀ A)[:, C_r] after the reduce-scatter;
  /// the blocks then gathered so that every rank holds all of H.
  void update_h() {
    comm_.reduce_scatter_sum(WtA_.data(), WtA_block_.data(), block_counts_);
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

  /// Flops of one iteration over all ranks (collective).
  double flops() const {
    const double local_flops =
        loss_->product_passes() * A_.product_flops(k_) + w_rule_->flops(k_, local_rows_) +
        h_rule_->flops(k_, column_count_) +
        2.0 * static_cast<double>(k_ * k_) * static_cast<double>(local_rows_ + column_count_);
    return comm_.sum(local_flops);
  }

 private:
  std::unique_ptr<LossSteps<Scalar>> make_loss_steps(
      const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, const SolverOptions& options,
      const InputStatistics& statistics, const EntryMaskT<Scalar>* mask, mpi::Communicator& comm) {
    if (mask != nullptr && mask->any()) {
      return make_masked_loss_steps(A, factors, column_begin_, column_count_, options, statistics,
                                    *mask, comm, *w_rule_, *h_rule_);
    }
    if (options.loss == Loss::KullbackLeibler) {
      return std::make_unique<KlSteps<Scalar>>(A, factors.Wt, factors.H, options, statistics, comm);
    }
    return std::make_unique<FrobeniusSteps<Scalar>>(A, factors.H, column_begin_, column_count_,
                                                    options, statistics, comm, *w_rule_, *h_rule_);
  }

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
  // In Scalar:
  MatrixT<Scalar> rhs_block_;  // B_b = H A_bᵀ  (k x rows)
  MatrixT<Scalar> WtA_;        // this rank's W_rᵀ A_r (KL: W_rᵀ Q_r)   (k x n)
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

}  // namespace

template <class Scalar>
SolveResult solve(const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors,
                  const SolverOptions& options, const InputStatistics& statistics,
                  mpi::Communicator& comm, const SolveResult& resumed,
                  const SolverHooksT<Scalar>& hooks, const EntryMaskT<Scalar>* mask) {
  Iteration<Scalar> step(A, factors, options, statistics, mask, comm);
  SolveResult result = resumed;
  result.reason = StopReason::MaxIterations;
  const double seconds_before = resumed.history.empty() ? 0.0 : resumed.history.back().seconds;
  const double collective_seconds_before = comm.seconds_in_collectives();
  const std::uint64_t bytes_before = comm.bytes_in_collectives();
  const Stopwatch loop_watch;
  step.start();
  for (int iteration = resumed.iterations + 1; iteration <= options.stop.max_iterations;
       ++iteration) {
    step.update_w();
    step.update_h();
    IterationRecord record = step.measure(iteration, loop_watch.seconds());
    record.seconds = seconds_before + step.mean_seconds();
    result.history.push_back(record);
    result.iterations = iteration;
    if (hooks.progress) hooks.progress(record);
    const std::optional<StopReason> stop =
        stop_reason(result.history, step.stop_requested(), step.mean_seconds(), options.stop);
    if (stop) {
      result.reason = *stop;
      // A stop request leaves a checkpoint to resume from.
      if (*stop == StopReason::Signal && hooks.checkpoint) hooks.checkpoint(factors, result);
      break;
    }
    if (hooks.checkpoint && hooks.checkpoint_every > 0 && iteration % hooks.checkpoint_every == 0) {
      hooks.checkpoint(factors, result);
    }
  }
  result.loop_seconds = loop_watch.seconds();
  result.communicate_seconds = comm.seconds_in_collectives() - collective_seconds_before;
  result.compute_seconds = result.loop_seconds - result.communicate_seconds;
  result.iterations_this_run = result.iterations - resumed.iterations;
  if (result.iterations_this_run > 0) {
    result.bytes_per_iteration = static_cast<double>(comm.bytes_in_collectives() - bytes_before) /
                                 result.iterations_this_run;
  }
  result.flops_per_iteration = step.flops();
  result.relative_error = step.final_relative_error(factors);
  return result;
}

template <class Scalar>
double relative_error(const LocalBlockT<Scalar>& A, const FactorsT<Scalar>& factors,
                      const InputStatistics& statistics, mpi::Communicator& comm, Loss loss) {
  if (loss == Loss::KullbackLeibler) {
    // [Σ A log(A / WH) | column sums of W]: D = that - Σ A + <colsums(W), rowsums(H)>.
    const std::unique_ptr<LocalBlockT<Scalar>> ratio = A.same_pattern();
    Vector partial(factors.Wt.rows() + 1);
    partial(0) = 0;
    for (Index row = 0; row < A.rows(); row += kRowsPerBlock) {
      const Index rows = std::min(kRowsPerBlock, A.rows() - row);
      partial(0) +=
          A.divide_by_product(factors.Wt.middleCols(row, rows), factors.H, row, rows, *ratio);
    }
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
  template double relative_error<Scalar>(const LocalBlockT<Scalar>&, const FactorsT<Scalar>&, \
                                         const InputStatistics&, mpi::Communicator&, Loss);
DNMF_INSTANTIATE_SOLVER(float)
DNMF_INSTANTIATE_SOLVER(double)
#undef DNMF_INSTANTIATE_SOLVER

}  // namespace dnmf::nmf
