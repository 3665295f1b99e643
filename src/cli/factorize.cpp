// dnmf factorize: A ≈ W H for a matrix in an HDF5 file, rows spread over the MPI ranks.

#include <cstdio>
#include <optional>

#include "cli/command.hpp"
#include "cli/fit_options.hpp"
#include "cli/report.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/input_matrix.hpp"
#include "dnmf/nmf/solver.hpp"
#include "dnmf/nmf/start.hpp"

namespace dnmf::cli {
namespace {

constexpr const char* kUsage =
    "usage: dnmf factorize --input FILE [--dataset PATH] --rank K --output FILE [options]\n"
    "Nonnegative matrix factorization A ≈ W H of a 2-D HDF5 dataset or a sparse matrix (AnnData\n"
    ".h5ad, 10x Genomics .h5, a CSR group); W is m x K, H is K x n.\n"
    "Stops after --max-iter iterations, or when the relative error ||A - WH|| / ||A|| improved\n"
    "by less than --tol, relatively, over the last 10 iterations, or after --time-limit seconds.\n"
    "With --loss kl the watched value is D(A || WH) / sum(A); penalties are included in both.\n"
    "--precision single reads A into float and computes in float (half the memory, faster dense\n"
    "products; W and H written as float32); the objective and stopping rule stay in double.\n"
    "--missing nan, --mask and --holdout leave entries out of the fit; the errors are then over\n"
    "the entries fitted, and the error on the held-out entries is recorded as the test error.";

struct FactorizeOptions {
  InputMatrixOptions input;
  std::string output;
  std::string report;
  nmf::Init init;
  CheckpointOptions checkpoint;
  std::string resume;
  bool force = false;
  std::optional<std::uint64_t> seed_given;  ///< --seed on the command line, not the default
  nmf::FactorRun run;  ///< the solver's options, precision and seed; the rest once known
  ProgressMode progress = ProgressMode::Auto;
  bool quiet = false;
};

std::optional<FactorizeOptions> parse(const Invocation& invocation, mpi::Communicator& comm) {
  po::options_description options("dnmf factorize options");
  add_input_matrix_options(options, "factorize");
  // clang-format off
  options.add_options()
      ("rank,k", po::value<std::int64_t>()->required(), "K, the number of components")
      ("output,o", po::value<std::string>()->required(), "HDF5 file to write W, H and provenance to")
      ("force,f", po::bool_switch(),
       "overwrite the output, report and checkpoint if they exist (never an input of the run)")
      ("report", po::value<std::string>()->default_value(""), "also write a JSON run report here")
      ("resume", po::value<std::string>()->default_value(""),
       "continue the run recorded in a checkpoint (or output) file exactly where it stopped");
  // clang-format on
  add_fit_options(options, 0);
  add_checkpoint_options(options, "iterations");
  add_progress_options(options);
  add_threads_option(options);
  const auto values = parse_options(kUsage, options, {}, invocation, comm);
  if (!values) return std::nullopt;
  const po::variables_map& v = *values;
  apply_threads_option(v);
  FactorizeOptions parsed;
  parsed.input = input_matrix_options(v);
  parsed.output = v["output"].as<std::string>();
  parsed.report = v["report"].as<std::string>();
  parsed.force = v["force"].as<bool>();
  parsed.checkpoint = checkpoint_options(v);
  parsed.resume = v["resume"].as<std::string>();
  if (!parsed.resume.empty() && !v["init"].defaulted()) {
    throw UsageError("--resume and --init both say where to start; give one");
  }
  FitOptions fit = fit_options(v, invocation);
  parsed.init = fit.init;
  parsed.seed_given = fit.seed_given;
  parsed.run = fit.run;
  parsed.run.solver.rank = static_cast<Index>(v["rank"].as<std::int64_t>());
  parsed.progress = progress_mode(v);
  parsed.quiet = v["quiet"].as<bool>();
  return parsed;
}

/// Everything after the options, written once for float and double.
template <class Scalar>
int factorize(FactorizeOptions& options, const io::RunFiles& files, const Stopwatch& wall,
              mpi::Communicator& comm) {
  PhaseSeconds phases;
  Stopwatch phase;
  const nmf::InputMatrixT<Scalar> input =
      nmf::load_input_matrix<Scalar>(options.input.file, options.input.dataset,
                                     options.input.transpose, comm, options.run.mask.missing_nan);
  phases.read = phase.seconds();
  nmf::FactorRun& run = options.run;
  nmf::StartT<Scalar> start = nmf::start_factorization(
      options.init, options.resume, options.seed_given, input, run, phases, comm);

  ProgressPrinter printer(options.progress, comm.is_root(), run.solver.stop.max_iterations, "it",
                          layout_line("factorize", comm));
  nmf::SolverHooksT<Scalar> hooks;
  const bool held_out = run.mask.holdout > 0;
  hooks.progress = [&](const nmf::IterationRecord& record) {
    if (!held_out) {
      printer.update(record.iteration, record.seconds, "rel.err", record.relative_error);
      return;
    }
    char status[64];
    std::snprintf(status, sizeof status, "rel.err %.6f test %.6f", record.relative_error,
                  record.test_error);
    printer.update(record.iteration, record.seconds, status);
  };
  if (!options.checkpoint.path.empty()) {
    hooks.checkpoint_every = options.checkpoint.every;
    hooks.checkpoint =
        nmf::checkpoint_writer<Scalar>(options.checkpoint.path, files.if_exists("--checkpoint"),
                                       run, input, start.scaled, wall, comm);
  }
  const nmf::SolveResult result =
      nmf::solve(*input.block, start.factors, start.scaled.scaling.solver_options(run.solver),
                 start.scaled.statistics, comm, start.so_far, hooks, &start.mask);
  printer.finish();
  phases.compute = result.compute_seconds;
  phases.communicate = result.communicate_seconds;
  if (result.reason == nmf::StopReason::Signal && !options.checkpoint.path.empty()) {
    const char* checkpoint = options.checkpoint.path.c_str();
    if (comm.is_root()) {
      std::fprintf(stderr,
                   "dnmf: stopped by a signal after iteration %d; checkpoint in %s, continue "
                   "with --resume %s\n",
                   result.iterations, checkpoint, checkpoint);
    }
    return kExitStoppedBySignal;
  }
  phase.restart();
  const double wall_seconds = comm.max(wall.seconds());
  nmf::write_factor_file(options.output, files.if_exists("--output"), nmf::FactorFileKind::Output,
                         run, input, start.scaled, start.factors, result, wall_seconds, comm);
  phases.write = phase.seconds();
  if (!options.report.empty()) {
    const JsonObject report =
        factorize_report(run, input, result, phases, comm.max(wall.seconds()), comm);
    write_text_atomically(options.report, report.text(), files.if_exists("--report"), comm);
  }
  const std::string summary =
      factorize_summary(options.output, run, input, result, wall_seconds, comm);
  if (comm.is_root() && !options.quiet) std::printf("%s\n", summary.c_str());
  return result.reason == nmf::StopReason::Signal ? kExitStoppedBySignal : 0;
}

}  // namespace

int run_factorize(const Invocation& invocation, mpi::Communicator& comm) {
  // SIGTERM/SIGUSR1 stop the iterations cleanly; every other subcommand keeps the default action.
  install_stop_handlers();
  const Stopwatch wall;
  std::optional<FactorizeOptions> options =
      mpi::agreed(comm, [&] { return parse(invocation, comm); });
  if (!options) return 0;
  io::RunFiles files;
  files.input("--input", options->input.file)
      .input("--init", options->init.file)
      .input("--mask", options->run.mask.mask_file())
      .input("--resume", options->resume)
      .output("--output", options->output)
      .output("--report", options->report)
      // The checkpoint of a resumed run may be the file it resumed from: it replaces that state.
      .output("--checkpoint", options->checkpoint.path, "--resume");
  files.check(options->force, comm);
  // The one dispatch on the precision.
  return options->run.precision == nmf::Precision::Single
             ? factorize<float>(*options, files, wall, comm)
             : factorize<double>(*options, files, wall, comm);
}

}  // namespace dnmf::cli
