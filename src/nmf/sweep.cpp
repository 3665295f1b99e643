#include "dnmf/nmf/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <exception>

#include "dnmf/core/error.hpp"
#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/history_file.hpp"
#include "dnmf/nmf/transform.hpp"

namespace dnmf::nmf {
namespace {

constexpr int kFitFields = 6;  // of ReplicateFit, pooled as doubles

/// Collective over `group`: fits replicates [task.first, task.first + task.count) of k =
/// task.rank, as `dnmf factorize --rank k --seed (seed + r) --holdout-seed
/// (replicate_holdout_seed)` with the options would, into rows [r k, r k + k) of `H`. Their fits,
/// a batch's wall seconds shared equally; none done when a signal stopped them.
template <class Scalar>
std::vector<ReplicateFit> fit_batch(const SweepTask& task, const SweepOptions& options,
                                    const InputMatrixT<Scalar>& input,
                                    const PreparedInput& prepared, RowMatrix& H,
                                    mpi::Communicator& group) {
  const Stopwatch wall;
  const auto replicate_run = [&](int replicate) {
    FactorRun run = options.run;
    run.solver.rank = task.rank;
    run.seed = options.run.seed + static_cast<std::uint64_t>(replicate);
    run.mask.holdout_seed = replicate_holdout_seed(options, replicate);
    return run;
  };
  PhaseSeconds phases;
  FactorRun run = replicate_run(task.first);
  StartT<Scalar> start = start_from_prepared(options.init, input, prepared, run, phases, group);
  std::vector<FactorsT<Scalar>> batch;
  batch.push_back(std::move(start.factors));
  for (int replicate = task.first + 1; replicate < task.first + task.count; ++replicate) {
    run = replicate_run(replicate);
    batch.push_back(start_factors(options.init, input, start.scaled, run, phases, group));
  }
  const SolverOptions solver = start.scaled.scaling.solver_options(run.solver);
  const InputStatistics& statistics = start.scaled.statistics;
  // A batch of one as dnmf factorize calls it, so that the replicate is that run's.
  const std::vector<SolveResult> results =
      task.count == 1 ? std::vector{solve(*input.block, batch.front(), solver, statistics, group,
                                          {}, {}, &start.mask)}
                      : solve_batch(*input.block, batch, solver, statistics, group, &start.mask);
  put_back_held_out(input, start.mask);
  std::vector<ReplicateFit> fits(results.size());
  if (std::any_of(results.begin(), results.end(),
                  [](const SolveResult& result) { return result.reason == StopReason::Signal; })) {
    return fits;  // not done: fitted again on resume
  }
  const double seconds = group.max(wall.seconds()) / task.count;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const int replicate = task.first + static_cast<int>(i);
    MatrixT<Scalar> scaled_back = batch[i].H;
    scale_by_power_of_two(scaled_back, -start.scaled.scaling.h_exponent);
    require_finite_result(io::where(input.file, input.dataset) +
                              " (k = " + std::to_string(task.rank) + ", replicate " +
                              std::to_string(replicate) + ")",
                          options.output, scaled_back.allFinite(), results[i].relative_error,
                          results[i].history, group);
    H.middleRows(static_cast<Index>(replicate) * task.rank, task.rank) =
        scaled_back.template cast<double>();
    ReplicateFit& fit = fits[i];
    fit.done = true;
    fit.train_error = results[i].relative_error;
    fit.test_error = results[i].history.empty() ? 0 : results[i].history.back().test_error;
    fit.iterations = results[i].iterations;
    fit.seconds = seconds;
  }
  return fits;
}

/// Zero replicates of every k of `options.ranks`, for an input of `cols` columns.
std::vector<RankReplicates> empty_replicates(const SweepOptions& options, Index cols) {
  std::vector<RankReplicates> results;
  for (const Index k : options.ranks) {
    RankReplicates replicates;
    replicates.rank = k;
    replicates.H = RowMatrix::Zero(options.replicates * k, cols);
    replicates.fits.resize(static_cast<std::size_t>(options.replicates));
    results.push_back(std::move(replicates));
  }
  return results;
}

/// Collective over `group`: fits the replicates of `tasks` into `results`, each recording
/// `group_index`; true when a signal stopped it (the batch it interrupted is not done).
template <class Scalar>
bool fit_replicates(const std::vector<SweepTask>& tasks, const SweepOptions& options,
                    const InputMatrixT<Scalar>& input, const PreparedInput& prepared,
                    std::vector<RankReplicates>& results,
                    const std::function<void(Index, int, const ReplicateFit&)>& progress,
                    int group_index, mpi::Communicator& group) {
  for (const SweepTask& task : tasks) {
    if (group.max(stop_signal()) != 0) return true;
    RankReplicates& of_k =
        *std::find_if(results.begin(), results.end(),
                      [&](const RankReplicates& r) { return r.rank == task.rank; });
    const std::vector<ReplicateFit> fits = fit_batch(task, options, input, prepared, of_k.H, group);
    if (!fits.front().done) return true;
    for (int i = 0; i < task.count; ++i) {
      ReplicateFit fit = fits[static_cast<std::size_t>(i)];
      fit.group = group_index;
      of_k.fits[static_cast<std::size_t>(task.first + i)] = fit;
      if (progress) progress(task.rank, task.first + i, fit);
    }
  }
  return false;
}

/// Collective over `world`: every rank gets every replicate. Each was filled in by one group; the
/// ranks that `contribute` (one a group) add theirs to the zeros of the others: exact.
void pool_replicates(std::vector<RankReplicates>& results, bool contribute,
                     mpi::Communicator& world) {
  for (RankReplicates& of_k : results) {
    if (!contribute) of_k.H.setZero();
    world.allreduce_sum(of_k.H.data(), of_k.H.size());
    std::vector<double> fields;
    for (const ReplicateFit& fit : of_k.fits) {
      const double values[kFitFields] = {fit.train_error,
                                         fit.test_error,
                                         fit.iterations,
                                         fit.seconds,
                                         static_cast<double>(fit.group),
                                         fit.done ? 1.0 : 0.0};
      for (const double value : values) fields.push_back(contribute ? value : 0.0);
    }
    world.allreduce_sum(fields.data(), static_cast<std::int64_t>(fields.size()));
    for (std::size_t r = 0; r < of_k.fits.size(); ++r) {
      const double* values = fields.data() + kFitFields * r;
      of_k.fits[r] = {values[0],     values[1], values[2], values[3], static_cast<int>(values[4]),
                      values[5] != 0};
    }
  }
}

/// Collective over `group`: a UsageError naming the input unless every k fits its shape; a
/// resumed checkpoint of another matrix or shape is refused.
template <class Scalar>
void check_input(const InputMatrixT<Scalar>& input, const PreparedInput& prepared,
                 const SweepOptions& options, const ResumedReplicates* resumed,
                 mpi::Communicator& group) {
  mpi::agree(group, [&] {
    for (const Index k : options.ranks) {
      SolverOptions solver = options.run.solver;
      solver.rank = k;
      try {
        validate(solver, input.rows, input.cols);
      } catch (const UsageError& error) {
        throw UsageError(io::where(input.file, input.dataset) + ": " + error.what());
      }
    }
    if (resumed == nullptr) return;
    require_same_matrix(resumed->path, resumed->matrix, input, prepared.scaled);
    if (resumed->replicates.front().H.cols() != input.cols) {
      throw InputError(resumed->path + ": its replicates have " +
                       std::to_string(resumed->replicates.front().H.cols()) + " columns, " +
                       io::where(input.file, input.dataset) + " has " + std::to_string(input.cols));
    }
  });
}

}  // namespace

std::uint64_t replicate_holdout_seed(const SweepOptions& options, int replicate) {
  if (options.run.mask.holdout_seed) return *options.run.mask.holdout_seed;
  return options.run.seed + static_cast<std::uint64_t>(replicate - replicate % options.batch);
}

template <class Scalar>
SweepFits fit_sweep(const SweepOptions& options, const ResumedReplicates* resumed,
                    const SweepHooks& hooks, mpi::RankGroups& groups, mpi::Communicator& world) {
  mpi::Communicator& group = groups.group();
  SweepFits fits;
  std::exception_ptr failure;
  try {
    const InputMatrixT<Scalar> input =
        load_input_matrix<Scalar>(options.input_file, options.input_dataset, options.transpose,
                                  group, options.run.mask.missing_nan);
    const PreparedInput prepared = prepare_masked_input(
        input, ScaledFactors::Both, "nothing to factorize", options.run.mask, group);
    check_input(input, prepared, options, resumed, group);
    if (hooks.ready) hooks.ready();
    fits.input = input;
    fits.prepared = prepared.scaled;
    fits.replicates = empty_replicates(options, input.cols);
    const auto done = [&](Index k, int replicate) {
      if (resumed == nullptr) return false;
      const std::size_t at = static_cast<std::size_t>(
          std::find(options.ranks.begin(), options.ranks.end(), k) - options.ranks.begin());
      return resumed->replicates[at].fits[static_cast<std::size_t>(replicate)].done;
    };
    const auto plan =
        assign_tasks(options.ranks, options.replicates, options.batch, groups.count(), done);
    fits.stopped = fit_replicates(plan[static_cast<std::size_t>(groups.index())], options, input,
                                  prepared, fits.replicates, hooks.progress, groups.index(), group);
  } catch (const Error&) {
    failure = std::current_exception();  // every rank of the group has it; the others learn it:
  }
  mpi::agree(world, [&] {
    if (failure) std::rethrow_exception(failure);
  });
  pool_replicates(fits.replicates, group.is_root(), world);
  fits.stopped = world.max(fits.stopped ? 1 : 0) != 0;
  // Rank 0's statistics, recorded by a checkpoint: identical on every rank.
  world.broadcast(&fits.prepared.statistics.sum, 1, 0);
  world.broadcast(&fits.prepared.statistics.squared_norm, 1, 0);
  for (std::size_t i = 0; resumed != nullptr && i < fits.replicates.size(); ++i) {
    RankReplicates& of_k = fits.replicates[i];
    const RankReplicates& earlier = resumed->replicates[i];
    for (std::size_t r = 0; r < of_k.fits.size(); ++r) {
      if (!earlier.fits[r].done) continue;
      of_k.fits[r] = earlier.fits[r];
      const Index k = of_k.rank;
      of_k.H.middleRows(static_cast<Index>(r) * k, k) =
          earlier.H.middleRows(static_cast<Index>(r) * k, k);
    }
  }
  return fits;
}

RankConsensus consensus_fit(const RankReplicates& replicates, double density_threshold,
                            const SweepOptions& options, const RefitInput& input,
                            mpi::Communicator& comm) {
  const Index k = replicates.rank;
  ConsensusOptions consensus_options;
  consensus_options.rank = k;
  consensus_options.neighbours = std::max(1, options.replicates / 3);
  consensus_options.density_threshold = density_threshold;
  consensus_options.seed = options.run.seed;
  consensus_options.keep_all_below_k = true;  // one k's outliers must not end the sweep
  RankConsensus result;
  result.consensus = consensus(replicates.H, consensus_options);
  // A median of unit rows is not one: the consensus H is, so that W carries the scale.
  result.consensus.components = unit_rows(result.consensus.components);

  TransformOptions refit;
  refit.loss = options.run.solver.loss;
  refit.penalty = input.scaled.scaling.w_penalty(options.run.solver.w_penalty, refit.loss);
  const Matrix H = result.consensus.components;
  const TransformResult codes =
      transform(input.block, H, refit, input.scaled.statistics, comm, {}, &input.mask);
  result.Wt = codes.Wt;
  scale_by_power_of_two(result.Wt, -input.scaled.scaling.w_exponent);
  result.error = codes.relative_error;
  return result;
}

RankSummary summarize(const RankReplicates& replicates, const RankConsensus& consensus) {
  RankSummary summary;
  summary.rank = replicates.rank;
  const auto count = static_cast<double>(replicates.fits.size());
  for (const ReplicateFit& fit : replicates.fits) {
    summary.test_error_mean += fit.test_error / count;
    summary.train_error_mean += fit.train_error / count;
    summary.iterations_mean += fit.iterations / count;
    summary.seconds += fit.seconds;
  }
  double squares = 0;
  for (const ReplicateFit& fit : replicates.fits) {
    squares +=
        (fit.test_error - summary.test_error_mean) * (fit.test_error - summary.test_error_mean);
  }
  summary.test_error_sd = count > 1 ? std::sqrt(squares / (count - 1)) : 0;
  summary.stability = consensus.consensus.silhouette;
  return summary;
}

std::optional<Index> chosen_k(const std::vector<RankSummary>& summaries,
                              const SweepOptions& options) {
  if (summaries.size() == 1) return summaries.front().rank;
  if (options.run.mask.holdout == 0) return std::nullopt;
  std::vector<RankScore> scores;
  for (const RankSummary& summary : summaries) {
    scores.push_back(
        {summary.rank, summary.test_error_mean, summary.test_error_sd, options.replicates});
  }
  return chosen_rank(scores);
}

#define DNMF_INSTANTIATE_SWEEP(Scalar)                                                \
  template SweepFits fit_sweep<Scalar>(const SweepOptions&, const ResumedReplicates*, \
                                       const SweepHooks&, mpi::RankGroups&, mpi::Communicator&);
DNMF_INSTANTIATE_SWEEP(float)
DNMF_INSTANTIATE_SWEEP(double)
#undef DNMF_INSTANTIATE_SWEEP

}  // namespace dnmf::nmf
