#include "dnmf/nmf/solver.hpp"

#include <algorithm>
#include <cmath>

#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/update_rule.hpp"

namespace dnmf::nmf {
namespace {

/// Relative improvement over the stopping window, (e[t-w] - e[t]) / e[t-w].
bool stalled(const std::vector<IterationRecord>& history, const StopRule& rule) {
  if (rule.tolerance <= 0) return false;  // otherwise a rise by rounding would stop the run
  const std::size_t count = history.size();
  const std::size_t window = static_cast<std::size_t>(rule.window);
  if (count <= window) return false;
  const double before = history[count - 1 - window].relative_error;
  const double now = history.back().relative_error;
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

template <class Scalar>
SolveResult solve(const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors,
                  const SolverOptions& options, const InputStatistics& statistics,
                  mpi::Communicator& comm, const SolveResult& resumed,
                  const SolverHooksT<Scalar>& hooks) {
  using ScalarMatrix = MatrixT<Scalar>;
  const Index k = options.rank;
  const Index n = A.cols();
  const Index local_rows = A.rows();
  const bool kl = options.loss == Loss::KullbackLeibler;
  const Penalty& w_penalty = options.w_penalty;
  const Penalty& h_penalty = options.h_penalty;
  ScalarMatrix& Wt = factors.Wt;
  ScalarMatrix& H = factors.H;

  // H's column block C_r, owned by this rank for the H update.
  const mpi::BlockPartition column_blocks(n, comm.size());
  const std::vector<int> block_counts = column_blocks.counts(k);
  const Index column_begin = column_blocks.begin(comm.rank());
  const Index column_count = column_blocks.size(comm.rank());

  const std::unique_ptr<UpdateRuleT<Scalar>> w_rule = make_update_rule<Scalar>(options.algorithm);
  const std::unique_ptr<UpdateRuleT<Scalar>> h_rule = make_update_rule<Scalar>(options.algorithm);

  // In Scalar:
  ScalarMatrix rhs_block(k, std::min(kRowsPerBlock, local_rows));  // B_b = H A_bᵀ  (k x rows)
  ScalarMatrix WtA(k, n);                   // this rank's W_rᵀ A_r (KL: W_rᵀ Q_r)   (k x n)
  ScalarMatrix WtA_block(k, column_count);  // (Wᵀ A)[:, C_r] after reduce-scatter  (k x |C_r|)
  // In double (see "Precision" in solver.hpp):
  Matrix WtW(k, k);   // Frobenius: Wᵀ W, allreduced
  Matrix HHt(k, k);   // Frobenius: H Hᵀ, allreduced
  Matrix gram(k, k);  // G + l2 I handed to the update rule
  Vector w_sums(k);   // KL: column sums of W, allreduced          (k)
  Vector h_sums(k);   // KL: row sums of H (H is replicated)       (k)
  // KL: Q = A ⊘ (W H) at A's nonzeros, this rank's rows (the shape and pattern of A_r).
  const std::unique_ptr<LocalBlockT<Scalar>> ratio = kl ? A.same_pattern() : nullptr;
  const auto ratio_pass = [&] {  // Q <- A ⊘ (W H); returns this rank's Σ A log(A / WH)
    double log_sum = 0;
    for (Index row = 0; row < local_rows; row += kRowsPerBlock) {
      const Index rows = std::min(kRowsPerBlock, local_rows - row);
      log_sum += A.divide_by_product(Wt.middleCols(row, rows), H, row, rows, *ratio);
    }
    return log_sum;
  };

  // [H_C H_Cᵀ (k*k, Frobenius only) | loss term | elapsed seconds | stop votes | Σ W_r |
  // ||W_r||² (the last two only with penalties on W)]: one allreduce an iteration.
  const Index gram_size = kl ? 0 : k * k;
  const bool w_penalised = w_penalty.l1 > 0 || w_penalty.l2 > 0;
  // An Eigen vector, not a std::vector: Eigen allocates it 32-byte aligned, so the product
  // written into it below takes the same vectorised path (FMA where aligned, separate multiply
  // and add in a peeled head) in every run, and a resumed run reproduces the uninterrupted one
  // bitwise. A std::vector's alignment varied with the heap's history.
  Vector reduction(gram_size + (w_penalised ? 5 : 3));
  Eigen::Map<Matrix> reduced_gram(reduction.data(), kl ? 0 : k, kl ? 0 : k);
  double* const scalars = reduction.data() + gram_size;
  double& reduced_loss_term = scalars[0];
  double& reduced_seconds = scalars[1];
  double& stop_votes = scalars[2];
  double w_sum = 0;  // Σ W and ||W||², allreduced when W is penalised
  double w_squares = 0;

  const auto reduce_scalars = [&](double loss_term, double seconds) {
    if (!kl) {
      const auto H_C = H.middleCols(column_begin, column_count).template cast<double>();
      reduced_gram.noalias() = H_C * H_C.transpose();  // in double
    }
    reduced_loss_term = loss_term;
    reduced_seconds = seconds;
    stop_votes = stop_signal() != 0 ? 1.0 : 0.0;
    if (w_penalised) {
      scalars[3] = Wt.template cast<double>().sum();
      scalars[4] = Wt.template cast<double>().squaredNorm();
    }
    comm.allreduce_sum(reduction.data(), reduction.size());
    if (!kl) HHt = reduced_gram;
    if (w_penalised) {
      w_sum = scalars[3];
      w_squares = scalars[4];
    }
  };
  const auto with_ridge = [&](const Matrix& G, double l2) -> const Matrix& {
    if (l2 == 0) return G;
    gram = G;
    gram.diagonal().array() += l2;
    return gram;
  };

  SolveResult result = resumed;
  result.reason = StopReason::MaxIterations;
  const double seconds_before = resumed.history.empty() ? 0.0 : resumed.history.back().seconds;
  const double collective_seconds_before = comm.seconds_in_collectives();
  const std::uint64_t bytes_before = comm.bytes_in_collectives();
  const Stopwatch loop_watch;
  if (kl) {
    ratio_pass();
    h_sums = H.template cast<double>().rowwise().sum();
  } else {
    reduce_scalars(0.0, 0.0);
  }

  for (int iteration = resumed.iterations + 1; iteration <= options.stop.max_iterations;
       ++iteration) {
    // 1. W update, streamed over row blocks of A; Wᵀ W accumulated from the updated blocks.
    WtA.setZero();
    WtW.setZero();
    const Matrix& w_gram = kl ? HHt : with_ridge(HHt, w_penalty.l2);
    for (Index row = 0; row < local_rows; row += kRowsPerBlock) {
      const Index rows = std::min(kRowsPerBlock, local_rows - row);
      auto rhs = rhs_block.leftCols(rows);
      auto Wt_b = Wt.middleCols(row, rows);
      if (kl) {
        ratio->times_transposed_rows(H, row, rows, rhs);
        kl_multiplicative_update<Scalar>(Wt_b, h_sums, rhs, w_penalty);
        A.divide_by_product(Wt_b, H, row, rows, *ratio);
        ratio->add_product_with_rows(Wt_b, row, rows, WtA);
      } else {
        A.times_transposed_rows(H, row, rows, rhs);
        w_rule->update(Wt_b, w_gram, rhs, w_penalty.l1);
        A.add_product_with_rows(Wt_b, row, rows, WtA);
        const auto W_b = Wt_b.template cast<double>();
        WtW.noalias() += W_b * W_b.transpose();  // in double
      }
    }

    // 2. H update on this rank's column block.
    comm.reduce_scatter_sum(WtA.data(), WtA_block.data(), block_counts);
    auto H_block = H.middleCols(column_begin, column_count);
    if (kl) {
      w_sums = Wt.template cast<double>().rowwise().sum();
      comm.allreduce_sum(w_sums.data(), k);
      kl_multiplicative_update<Scalar>(H_block, w_sums, WtA_block, h_penalty);
    } else {
      comm.allreduce_sum(WtW.data(), k * k);
      h_rule->update(H_block, with_ridge(WtW, h_penalty.l2), WtA_block, h_penalty.l1);
    }
    comm.allgather_in_place(H.data(), block_counts);

    // 3-4. The loss term, the penalties and the objective.
    double loss_term = 0;
    if (kl) {
      loss_term = ratio_pass();
      h_sums = H.template cast<double>().rowwise().sum();
    } else {
      loss_term =
          (WtA_block.template cast<double>().array() * H_block.template cast<double>().array())
              .sum();
    }
    reduce_scalars(loss_term, loop_watch.seconds());
    const double penalties = w_penalty.l1 * w_sum + 0.5 * w_penalty.l2 * w_squares +
                             h_penalty.l1 * H.template cast<double>().sum() +
                             0.5 * h_penalty.l2 * H.template cast<double>().squaredNorm();
    IterationRecord record;
    record.iteration = iteration;
    if (kl) {
      const double divergence = reduced_loss_term - statistics.sum + w_sums.dot(h_sums);
      record.objective = divergence + penalties;
      record.relative_error = std::max(record.objective, 0.0) / statistics.sum;
    } else {
      const double fit =
          statistics.squared_norm - 2.0 * reduced_loss_term + (WtW.array() * HHt.array()).sum();
      record.objective = 0.5 * fit + penalties;
      record.relative_error =
          std::sqrt(std::max(2.0 * record.objective, 0.0) / statistics.squared_norm);
    }
    const double run_seconds = reduced_seconds / comm.size();
    record.seconds = seconds_before + run_seconds;
    result.history.push_back(record);
    result.iterations = iteration;
    if (hooks.progress) hooks.progress(record);

    if (stop_votes > 0) {
      result.reason = StopReason::Signal;
      if (hooks.checkpoint) hooks.checkpoint(factors, result);
      break;
    }
    if (record.relative_error == 0 || stalled(result.history, options.stop)) {
      result.reason = StopReason::Converged;
      break;
    }
    if (options.stop.time_limit > 0 && run_seconds >= options.stop.time_limit) {
      result.reason = StopReason::TimeLimit;
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
  const double local_flops =
      (kl ? 2.0 : 1.0) * A.product_flops(k) + w_rule->flops(k, local_rows) +
      h_rule->flops(k, column_count) +
      2.0 * static_cast<double>(k * k) * static_cast<double>(local_rows + column_count);
  result.flops_per_iteration = comm.sum(local_flops);
  result.relative_error = relative_error(A, factors, statistics, comm, options.loss);
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

#define DNMF_INSTANTIATE_SOLVER(Scalar)                                                            \
  template SolveResult solve<Scalar>(                                                              \
      const LocalBlockT<Scalar>&, FactorsT<Scalar>&, const SolverOptions&, const InputStatistics&, \
      mpi::Communicator&, const SolveResult&, const SolverHooksT<Scalar>&);                        \
  template double relative_error<Scalar>(const LocalBlockT<Scalar>&, const FactorsT<Scalar>&,      \
                                         const InputStatistics&, mpi::Communicator&, Loss);
DNMF_INSTANTIATE_SOLVER(float)
DNMF_INSTANTIATE_SOLVER(double)
#undef DNMF_INSTANTIATE_SOLVER

}  // namespace dnmf::nmf
