// dnmf sweep: many replicates of the factorization at every rank k of a list, in groups of MPI
// ranks; their consensus per k, and the k the held-out error chooses.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "cli/command.hpp"
#include "cli/fit_options.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/rank_groups.hpp"
#include "dnmf/nmf/sweep_file.hpp"

namespace dnmf::cli {
namespace {

constexpr const char* kUsage =
    "usage: dnmf sweep --input FILE --rank A:B[:STEP]|K1,K2,... --output FILE [options]\n"
    "Factorizes A --replicates times at every rank k listed, replicate r from --seed + r (the\n"
    "run dnmf factorize --rank k --seed (seed + r) would make), each with its own held-out set\n"
    "(--holdout, default 0.05; with --batch B, one a batch). The ranks split into --groups\n"
    "groups (consecutive ranks), each holding A once and fitting its share of the replicates,\n"
    "--batch at a time. Per k: the consensus of the replicates' components (cNMF's: unit rows\n"
    "pooled, outliers by local density dropped, k-means, cluster medians) with W refitted to\n"
    "it, its stability (silhouette), and the test error's mean and spread; chosen_k is the\n"
    "smallest k whose mean test error is within one standard error of the least. The factorize\n"
    "options apply to every replicate.";

struct SweepCommandOptions {
  nmf::SweepOptions sweep;
  std::string checkpoint;
  std::string resume;
  int groups = 0;  ///< 0: automatic (run_sweep decides)
  double density_threshold = 0.5;
  bool force = false;
  bool quiet = false;
};

std::optional<SweepCommandOptions> parse(const Invocation& invocation, mpi::Communicator& comm) {
  po::options_description options("dnmf sweep options");
  add_input_matrix_options(options, "factorize");
  // clang-format off
  options.add_options()
      ("rank,k", po::value<std::string>()->required(),
       "the ranks: A:B (A to B), A:B:STEP, or a list K1,K2,...; one value: its consensus only")
      ("replicates,r", po::value<int>()->default_value(10), "replicates at every k (>= 2)")
      ("batch", po::value<int>()->default_value(1),
       "fit replicates of one k this many at a time, in one pass over A for all (faster, most "
       "at small k); the replicates of a batch share one held-out set (see README)")
      ("groups", po::value<int>()->default_value(0),
       "groups of consecutive MPI ranks, each fitting its share of the replicates; each holds A "
       "(0: as many as the tasks allow with a copy of A within half the memory of its ranks)")
      ("density-threshold", po::value<double>()->default_value(0.5),
       "drop pooled components whose mean distance to their R/3 nearest neighbours (unit rows) "
       "is above this before clustering")
      ("output,o", po::value<std::string>()->required(),
       "HDF5 file to write the sweep to; FILE.h5ad: an AnnData file with the chosen k's W in "
       "obsm['X_nmf'], H transposed in varm['nmf_loadings'] and the sweep in uns['dnmf_sweep']")
      ("force,f", po::bool_switch(),
       "overwrite the output and checkpoint if they exist (never an input)")
      ("checkpoint", po::value<std::string>()->default_value(""),
       "when SIGTERM or SIGUSR1 arrives, write the replicates finished so far here (atomically) "
       "and exit with code 75")
      ("resume", po::value<std::string>()->default_value(""),
       "continue the sweep a checkpoint records: its finished replicates are not fitted again")
      ("quiet,q", po::bool_switch(), "print nothing but errors");
  // clang-format on
  add_fit_options(options, 0.05);
  add_threads_option(options);
  const auto values = parse_options(kUsage, options, {}, invocation, comm);
  if (!values) return std::nullopt;
  const po::variables_map& v = *values;
  apply_threads_option(v);
  SweepCommandOptions parsed;
  nmf::SweepOptions& sweep = parsed.sweep;
  const InputMatrixOptions input = input_matrix_options(v);
  sweep.input_file = input.file;
  sweep.input_dataset = input.dataset;
  sweep.transpose = input.transpose;
  parsed.checkpoint = v["checkpoint"].as<std::string>();
  parsed.resume = v["resume"].as<std::string>();
  const FitOptions fit = fit_options(v, invocation);
  if (fit.init.method == nmf::InitMethod::File) {
    throw UsageError("--init " + fit.init.file +
                     ": a file would start every replicate alike; sweep takes random or nndsvd*");
  }
  sweep.run = fit.run;
  sweep.init = fit.init;
  sweep.run.init = fit.init.text();
  sweep.ranks = nmf::parse_ranks(v["rank"].as<std::string>());
  sweep.replicates = v["replicates"].as<int>();
  if (sweep.replicates < 2) {
    throw UsageError("--replicates " + std::to_string(sweep.replicates) +
                     ": the consensus needs at least 2");
  }
  sweep.batch = v["batch"].as<int>();
  if (sweep.batch < 1 || sweep.batch > sweep.replicates) {
    throw UsageError("--batch " + std::to_string(sweep.batch) + ": between 1 and --replicates (" +
                     std::to_string(sweep.replicates) + ")");
  }
  if (sweep.batch > 1 && sweep.run.solver.loss == nmf::Loss::KullbackLeibler) {
    throw UsageError("--batch " + std::to_string(sweep.batch) +
                     ": KL's products are with A / WH, each replicate's own, so its replicates "
                     "cannot share a pass over A; leave --batch at 1");
  }
  sweep.output = v["output"].as<std::string>();
  if (nmf::writes_anndata(sweep.output) && sweep.run.mask.holdout == 0 && sweep.ranks.size() > 1) {
    throw UsageError("--output " + sweep.output +
                     ": an AnnData file holds the chosen k's factors, and without --holdout no k "
                     "is chosen (give --holdout F, or one --rank)");
  }
  parsed.groups = v["groups"].as<int>();
  if (parsed.groups < 0 || parsed.groups > comm.size()) {
    throw UsageError("--groups " + std::to_string(parsed.groups) +
                     ": between 0 (automatic) and the " + std::to_string(comm.size()) +
                     " MPI ranks");
  }
  parsed.density_threshold = v["density-threshold"].as<double>();
  if (!(parsed.density_threshold > 0)) throw UsageError("--density-threshold must be > 0");
  parsed.force = v["force"].as<bool>();
  parsed.quiet = v["quiet"].as<bool>();
  return parsed;
}

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
      mpi::agreed(comm, [&] { return parse(invocation, comm); });
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
