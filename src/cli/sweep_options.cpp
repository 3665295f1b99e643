#include "cli/sweep_options.hpp"

#include "cli/fit_options.hpp"
#include "dnmf/core/error.hpp"
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

/// What every replicate is fitted to and with: the input, the fit options, the ranks, the
/// replicates and their batches, the output; UsageError for a value out of range.
nmf::SweepOptions sweep_options(const po::variables_map& v, const Invocation& invocation) {
  nmf::SweepOptions sweep;
  const InputMatrixOptions input = input_matrix_options(v);
  sweep.input_file = input.file;
  sweep.input_dataset = input.dataset;
  sweep.transpose = input.transpose;
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
  return sweep;
}

}  // namespace

std::optional<SweepCommandOptions> parse_sweep_options(const Invocation& invocation,
                                                       mpi::Communicator& comm) {
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
  parsed.sweep = sweep_options(v, invocation);
  parsed.checkpoint = v["checkpoint"].as<std::string>();
  parsed.resume = v["resume"].as<std::string>();
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

}  // namespace dnmf::cli
