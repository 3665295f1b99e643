// dnmf factorize: A ≈ W H for a matrix in an HDF5 file, rows spread over the MPI ranks.

#include <cstdio>
#include <optional>

#include "cli/command.hpp"
#include "cli/options.hpp"
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

/// --stop-on: which error the stopping rule watches.
enum class StopOn { Train, Test };
constexpr NamedValue<StopOn> kStopOnNames[] = {{StopOn::Train, "train"}, {StopOn::Test, "test"}};

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

/// --missing, --mask, --holdout and --stop-on into `run`.
void parse_left_out_entries(const po::variables_map& v, nmf::FactorRun& run) {
  nmf::MaskOptions& mask = run.mask;
  mask = missing_options(v);
  mask.holdout = v["holdout"].as<double>();
  nmf::HeldOutSet(mask.holdout, run.seed);  // refuses a fraction out of range
  bool& watch_test_error = run.solver.stop.watch_test_error;
  watch_test_error =
      parse_named("--stop-on", v["stop-on"].as<std::string>(), kStopOnNames) == StopOn::Test;
  if (watch_test_error && mask.holdout == 0) {
    throw UsageError("--stop-on test watches the error on held-out entries: give --holdout F");
  }
}

std::optional<FactorizeOptions> parse(const Invocation& invocation, mpi::Communicator& comm) {
  po::options_description options("dnmf factorize options");
  add_input_matrix_options(options, "factorize");
  // clang-format off
  options.add_options()
      ("loss", po::value<std::string>()->default_value("frobenius"),
       "frobenius|kl (generalized Kullback-Leibler; needs --algorithm mu)")
      ("l1-w", po::value<double>()->default_value(0), "L1 penalty l1 ||W||_1 added to the loss")
      ("l2-w", po::value<double>()->default_value(0), "L2 penalty (l2/2) ||W||_F^2")
      ("l1-h", po::value<double>()->default_value(0), "L1 penalty on H")
      ("l2-h", po::value<double>()->default_value(0), "L2 penalty on H")
      ("rank,k", po::value<std::int64_t>()->required(), "K, the number of components")
      ("algorithm,a", po::value<std::string>()->default_value("hals"), "mu|hals|bpp")
      ("precision", po::value<std::string>()->default_value("double"),
       "single|double: the type of A, W, H and the products with A (single: half the memory)")
      ("max-iter", po::value<int>()->default_value(200), "maximum number of iterations")
      ("tol", po::value<double>()->default_value(1e-4),
       "stop when the relative error improves by less than this, relatively, over 10 iterations")
      ("time-limit", po::value<double>()->default_value(0), "seconds; 0 for none")
      ("seed", po::value<std::int64_t>()->default_value(0),
       "seed of the random initialisation (and of NNDSVD's sketch and nndsvdar's fill)")
      ("init", po::value<std::string>()->default_value("random"),
       "random; nndsvd, nndsvda or nndsvdar (NNDSVD from a truncated SVD of A; its zeros kept, "
       "filled with mean(A), or with small random values); or an HDF5 file holding /W (m x K) "
       "and /H (K x n), e.g. an earlier output")
      ("output,o", po::value<std::string>()->required(), "HDF5 file to write W, H and provenance to")
      ("force,f", po::bool_switch(),
       "overwrite the output, report and checkpoint if they exist (never an input of the run)")
      ("report", po::value<std::string>()->default_value(""), "also write a JSON run report here")
      ("resume", po::value<std::string>()->default_value(""),
       "continue the run recorded in a checkpoint (or output) file exactly where it stopped")
      ("holdout", po::value<double>()->default_value(0),
       "hold out about this fraction of the entries (0 <= F < 1, chosen from --seed; see README) "
       "and record the error on them as the test error")
      ("stop-on", po::value<std::string>()->default_value("train"),
       "train|test: the error --tol watches (test: stop when the error on the held-out entries "
       "stops improving; needs --holdout)");
  // clang-format on
  add_missing_options(options);
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
  parsed.init = nmf::parse_init(v["init"].as<std::string>());
  nmf::FactorRun& run = parsed.run;
  run.command_line = invocation.command_line;
  run.seed = non_negative(v, "seed");
  if (!v["seed"].defaulted()) parsed.seed_given = run.seed;
  nmf::SolverOptions& solver = run.solver;
  solver.algorithm = nmf::parse_algorithm(v["algorithm"].as<std::string>());
  solver.rank = static_cast<Index>(v["rank"].as<std::int64_t>());
  solver.loss = nmf::parse_loss(v["loss"].as<std::string>());
  run.precision = nmf::parse_precision(v["precision"].as<std::string>());
  solver.w_penalty = {v["l1-w"].as<double>(), v["l2-w"].as<double>()};
  solver.h_penalty = {v["l1-h"].as<double>(), v["l2-h"].as<double>()};
  solver.stop.max_iterations = v["max-iter"].as<int>();
  solver.stop.tolerance = v["tol"].as<double>();
  solver.stop.time_limit = v["time-limit"].as<double>();
  parse_left_out_entries(v, run);
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
