#include "dnmf/nmf/solver.hpp"

#include <algorithm>
#include <cmath>

#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/update_rule.hpp"

namespace dnmf::nmf {
namespace {

// Rows of A streamed per W-update block: big enough for efficient GEMMs, small enough that the
// block (rows x n doubles) is still in cache when Wt_b A_b reads it again.
constexpr Index kRowsPerBlock = 256;

/// Relative improvement over the stopping window, (e[t-w] - e[t]) / e[t-w].
bool stalled(const std::vector<IterationRecord>& history, const StopRule& rule) {
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

SolveResult solve(const LocalBlock& A, Factors& factors, const SolverOptions& options,
                  const InputStatistics& statistics, mpi::Communicator& comm,
                  const SolveResult& resumed, const SolverHooks& hooks) {
  const Index k = options.rank;
  const Index n = A.cols();
  const Index local_rows = A.rows();
  Matrix& Wt = factors.Wt;
  Matrix& H = factors.H;

  // H's column block C_r, owned by this rank for the H update.
  const mpi::BlockPartition column_blocks(n, comm.size());
  const std::vector<int> block_counts = column_blocks.counts(k);
  const Index column_begin = column_blocks.begin(comm.rank());
  const Index column_count = column_blocks.size(comm.rank());

  std::unique_ptr<UpdateRule> w_rule = make_update_rule(options.algorithm);
  std::unique_ptr<UpdateRule> h_rule = make_update_rule(options.algorithm);

  Matrix rhs_block(k, std::min(kRowsPerBlock, local_rows));  // B_b = H A_bᵀ   (k x rows)
  Matrix WtA(k, n);                 // this rank's W_rᵀ A_r              (k x n)
  Matrix WtA_block(k, column_count);  // (Wᵀ A)[:, C_r] after reduce-scatter  (k x |C_r|)
  Matrix WtW(k, k);                 // Wᵀ W, allreduced
  Matrix HHt(k, k);                 // H Hᵀ, allreduced
  // [H_C H_Cᵀ (k*k) | <(WᵀA)_C, H_C> | elapsed seconds | stop votes]: one allreduce an iteration.
  std::vector<double> reduction(static_cast<std::size_t>(k * k + 3));
  Eigen::Map<Matrix> reduced_gram(reduction.data(), k, k);
  double& reduced_cross = reduction[static_cast<std::size_t>(k * k)];
  double& reduced_seconds = reduction[static_cast<std::size_t>(k * k + 1)];
  double& stop_votes = reduction[static_cast<std::size_t>(k * k + 2)];

  const auto reduce_gram_of_H = [&](double cross, double seconds) {
    auto H_block = H.middleCols(column_begin, column_count);
    reduced_gram.noalias() = H_block * H_block.transpose();
    reduced_cross = cross;
    reduced_seconds = seconds;
    stop_votes = stop_signal() != 0 ? 1.0 : 0.0;
    comm.allreduce_sum(reduction.data(), static_cast<std::int64_t>(reduction.size()));
    HHt = reduced_gram;
  };

  SolveResult result = resumed;
  result.reason = StopReason::MaxIterations;
  const double seconds_before = resumed.history.empty() ? 0.0 : resumed.history.back().seconds;
  const double collective_seconds_before = comm.seconds_in_collectives();
  const std::uint64_t bytes_before = comm.bytes_in_collectives();
  const Stopwatch loop_watch;
  reduce_gram_of_H(0.0, 0.0);

  for (int iteration = resumed.iterations + 1; iteration <= options.stop.max_iterations;
       ++iteration) {
    // 1. W update, streamed over row blocks of A.
    WtA.setZero();
    for (Index row = 0; row < local_rows; row += kRowsPerBlock) {
      const Index rows = std::min(kRowsPerBlock, local_rows - row);
      auto rhs = rhs_block.leftCols(rows);
      A.times_transposed_rows(H, row, rows, rhs);
      w_rule->update(Wt.middleCols(row, rows), HHt, rhs);
      A.add_product_with_rows(Wt.middleCols(row, rows), row, rows, WtA);
    }
    WtW.noalias() = Wt * Wt.transpose();

    // 2. H update on this rank's column block.
    comm.reduce_scatter_sum(WtA.data(), WtA_block.data(), block_counts);
    comm.allreduce_sum(WtW.data(), k * k);
    auto H_block = H.middleCols(column_begin, column_count);
    h_rule->update(H_block, WtW, WtA_block);
    comm.allgather_in_place(H.data(), block_counts);

    // 3-4. H Hᵀ for the next W update, and the objective by the Gram trick.
    const double cross_partial = (WtA_block.array() * H_block.array()).sum();
    reduce_gram_of_H(cross_partial, loop_watch.seconds());
    const double objective =
        statistics.squared_norm - 2.0 * reduced_cross + (WtW.array() * HHt.array()).sum();
    IterationRecord record;
    record.iteration = iteration;
    record.relative_error = std::sqrt(std::max(objective, 0.0) / statistics.squared_norm);
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
  const double local_flops = A.product_flops(k) + w_rule->flops(k, local_rows) +
                             h_rule->flops(k, column_count) +
                             2.0 * static_cast<double>(k * k) * static_cast<double>(local_rows + column_count);
  result.flops_per_iteration = comm.sum(local_flops);
  result.relative_error = relative_error(A, factors, statistics, comm);
  return result;
}

double relative_error(const LocalBlock& A, const Factors& factors,
                      const InputStatistics& statistics, mpi::Communicator& comm) {
  double residual = 0;
  for (Index row = 0; row < A.rows(); row += kRowsPerBlock) {
    const Index rows = std::min(kRowsPerBlock, A.rows() - row);
    residual += A.residual_squared_norm(factors.Wt.middleCols(row, rows), factors.H, row, rows);
  }
  return std::sqrt(comm.sum(residual) / statistics.squared_norm);
}

}  // namespace dnmf::nmf
