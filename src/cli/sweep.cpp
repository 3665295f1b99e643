// dnmf sweep: many replicates of the factorization at every rank k of a list, in groups of MPI
// ranks; their consensus per k, and the k the held-out error chooses.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "cli/command.hpp"
#include "cli/sweep_options.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/rank_groups.hpp"
#include "dnmf/nmf/sweep_file.hpp"

namespace dnmf::cli {
namespace {

/// The table of the summaries, the chosen k and what to make of it.
void print_summary(const SweepCommandOptions& options,
                   const std::vector<nmf::RankReplicates>& replicates,
                   const std::vector<nmf::RankConsensus>& consensus,
                   const nmf::SweepLayout& layout) {
  std::printf("%6s %12s %12s %12s %10s %8s\n", "k", "test_error", "test_sd", "train_error",
              "stability", "kept");
  std::vector<nmf::RankSummary> summaries;
  for (std::size_t i = 0; i < replicates.size(); ++i) {
    const nmf::RankSummary& summary =
        summaries.emplace_back(nmf::summarize(replicates[i], consensus[i]));
    std::printf("%6lld %12.6f %12.6f %12.6f %10.4f %8lld%s\n", static_cast<long long>(summary.rank),
                summary.test_error_mean, summary.test_error_sd, summary.train_error_mean,
                summary.stability, static_cast<long long>(consensus[i].consensus.kept),
                consensus[i].consensus.filtered ? "" : " (threshold kept < k: none dropped)");
  }
  const nmf::SweepOptions& sweep = options.sweep;
  if (const std::optional<Index> chosen = nmf::chosen_k(summaries, sweep)) {
    std::printf("chosen k = %lld", static_cast<long long>(*chosen));
    if (summaries.size() > 1 && *chosen == summaries.back().rank) {
      std::printf(" (the largest swept: the test error still falls there; extend --rank)");
    }
    std::printf("\n");
  }
  std::printf("wrote %s: %zu values of k x %d replicates, %d groups, %.2f s\n",
              sweep.output.c_str(), replicates.size(), sweep.replicates, options.groups,
              layout.wall_seconds);
}

/// The consensus of every k, its W refitted over all ranks to A read once more in double.
void write_consensus(const SweepCommandOptions& options,
                     const std::vector<nmf::RankReplicates>& replicates, const io::RunFiles& files,
                     const Stopwatch& wall, mpi::Communicator& world) {
  const nmf::SweepOptions& sweep = options.sweep;
  const nmf::InputMatrix input = nmf::load_input_matrix(
      sweep.input_file, sweep.input_dataset, sweep.transpose, world, sweep.run.mask.missing_nan);
  nmf::MaskOptions missing_only = sweep.run.mask;
  missing_only.holdout = 0;
  nmf::EntryMask mask;
  const nmf::ScaledInput scaled = nmf::scale_masked_input(
      input, nmf::ScaledFactors::CodesOnly, "nothing to factorize", missing_only, 0, mask, world);
  std::vector<nmf::RankConsensus> consensus;
  for (const nmf::RankReplicates& of_k : replicates) {
    consensus.push_back(mpi::agreed(world, [&] {
      return nmf::consensus_fit(of_k, options.density_threshold, sweep,
                                {*input.block, scaled, mask}, world);
    }));
  }
  const nmf::SweepLayout layout{options.groups, options.density_threshold,
                                world.max(wall.seconds())};
  nmf::write_sweep_file(sweep.output, files.if_exists("--output"), sweep, layout, input, replicates,
                        consensus, world);
  if (world.is_root() && !options.quiet) print_summary(options, replicates, consensus, layout);
}

/// Collective: --groups 0's count (mpi/rank_groups.hpp: default_group_count), taking a copy of A
/// in memory as three times its file (A in double from float or compressed storage, and the
/// solver's buffers); one group when the file's size is unknown.
int automatic_groups(const nmf::SweepOptions& sweep, mpi::Communicator& comm) {
  double file_bytes = 0;
  if (comm.is_root()) {
    std::error_code error;
    const auto size = std::filesystem::file_size(sweep.input_file, error);
    file_bytes = error ? HUGE_VAL : static_cast<double>(size);
  }
  comm.broadcast(&file_bytes, 1, 0);
  const int batches = (sweep.replicates + sweep.batch - 1) / sweep.batch;
  const int tasks = batches * static_cast<int>(sweep.ranks.size());
  return mpi::default_group_count(comm.size(), tasks, 3 * file_bytes,
                                  mpi::memory_budget_per_rank(comm));
}

/// Collective: every replicate, fitted by the groups; a checkpoint and exit code 75 when a
/// signal stopped them.
template <class Scalar>
std::optional<nmf::SweepFits> fit(const SweepCommandOptions& options,
                                  const nmf::ResumedReplicates* resumed,
                                  const std::string& first_line, const io::RunFiles& files,
                                  mpi::Communicator& world) {
  mpi::RankGroups groups(world, options.groups);
  mpi::Communicator& group = groups.group();
  nmf::SweepHooks hooks;
  hooks.ready = [&] {
    if (world.is_root() && !options.quiet) std::fprintf(stderr, "%s\n", first_line.c_str());
  };
  hooks.progress = [&](Index k, int replicate, const nmf::ReplicateFit& fit) {
    if (options.quiet || !group.is_root()) return;
    std::fprintf(stderr,
                 "dnmf sweep: group %d: k = %lld, replicate %d: %.0f iterations, rel.err %.6f, "
                 "test %.6f, %.2f s\n",
                 groups.index(), static_cast<long long>(k), replicate, fit.iterations,
                 fit.train_error, fit.test_error, fit.seconds);
  };
  nmf::SweepFits fits = nmf::fit_sweep<Scalar>(options.sweep, resumed, hooks, groups, world);
  if (!fits.stopped) return fits;
  const char* checkpoint = options.checkpoint.c_str();
  if (!options.checkpoint.empty()) {
    nmf::write_sweep_checkpoint(options.checkpoint, files.if_exists("--checkpoint"), options.sweep,
                                fits.input, fits.prepared, fits.replicates, world);
  }
  if (world.is_root()) {
    if (options.checkpoint.empty()) {
      std::fprintf(stderr, "dnmf: stopped by a signal; nothing kept (give --checkpoint)\n");
    } else {
      std::fprintf(stderr,
                   "dnmf: stopped by a signal; the finished replicates are in %s, continue "
                   "with --resume %s\n",
                   checkpoint, checkpoint);
    }
  }
  return std::nullopt;
}

}  // namespace

int run_sweep(const Invocation& invocation, mpi::Communicator& comm) {
  // SIGTERM/SIGUSR1 stop the replicates cleanly (after a checkpoint with --checkpoint).
  install_stop_handlers();
  const Stopwatch wall;
  std::optional<SweepCommandOptions> options =
      mpi::agreed(comm, [&] { return parse_sweep_options(invocation, comm); });
  if (!options) return 0;
  const nmf::SweepOptions& sweep = options->sweep;
  if (options->groups == 0) options->groups = automatic_groups(sweep, comm);
  io::RunFiles files;
  files.input("--input", sweep.input_file)
      .input("--mask", sweep.run.mask.mask_file())
      .input("--resume", options->resume)
      .output("--output", sweep.output)
      // A resumed sweep's checkpoint may be the file it resumed from: it replaces that state.
      .output("--checkpoint", options->checkpoint, "--resume");
  files.check(options->force, comm);
  // Collective: made here, where every rank is; printed once the input is read and checked.
  const std::string first_line = layout_line("sweep", comm) + "; " +
                                 std::to_string(options->groups) +
                                 (options->groups == 1 ? " group" : " groups");
  std::optional<nmf::ResumedReplicates> resumed;
  if (!options->resume.empty()) resumed = nmf::read_sweep_checkpoint(options->resume, sweep, comm);
  const nmf::ResumedReplicates* from = resumed ? &*resumed : nullptr;
  const std::optional<nmf::SweepFits> fits =
      sweep.run.precision == nmf::Precision::Single
          ? fit<float>(*options, from, first_line, files, comm)
          : fit<double>(*options, from, first_line, files, comm);
  if (!fits) return kExitStoppedBySignal;
  write_consensus(*options, fits->replicates, files, wall, comm);
  return 0;
}

}  // namespace dnmf::cli
