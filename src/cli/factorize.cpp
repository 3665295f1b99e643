// dnmf factorize: A ≈ W H for a matrix in an HDF5 file, rows spread over the MPI ranks.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/command.hpp"
#include "cli/history.hpp"
#include "cli/input_matrix.hpp"
#include "cli/options.hpp"
#include "cli/report.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/memory.hpp"
#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/input_scaling.hpp"
#include "dnmf/nmf/nndsvd.hpp"
#include "dnmf/nmf/solver.hpp"

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
    "products; W and H written as float32); the objective and stopping rule stay in double.";

struct FactorizeOptions {
  std::string input;
  std::string dataset;
  std::string output;
  std::string report;
  std::string init;
  CheckpointOptions checkpoint;
  std::string resume;
  bool force = false;
  bool seed_given = false;  ///< --seed on the command line, not the default
  bool transpose = false;
  std::uint64_t seed = 0;
  nmf::SolverOptions solver;
  nmf::Precision precision = nmf::Precision::Double;
  ProgressMode progress = ProgressMode::Auto;
  bool quiet = false;
};

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
       "continue the run recorded in a checkpoint (or output) file exactly where it stopped");
  // clang-format on
  add_checkpoint_options(options, "iterations");
  add_progress_options(options);
  const auto values = parse_options(kUsage, options, {}, invocation, comm);
  if (!values) return std::nullopt;
  const po::variables_map& v = *values;
  FactorizeOptions parsed;
  parsed.input = v["input"].as<std::string>();
  parsed.dataset = v["dataset"].as<std::string>();
  parsed.output = v["output"].as<std::string>();
  parsed.report = v["report"].as<std::string>();
  parsed.init = v["init"].as<std::string>();
  parsed.force = v["force"].as<bool>();
  parsed.transpose = v["transpose"].as<bool>();
  parsed.checkpoint = checkpoint_options(v);
  parsed.resume = v["resume"].as<std::string>();
  if (!parsed.resume.empty() && !v["init"].defaulted()) {
    throw UsageError("--resume and --init both say where to start; give one");
  }
  if (!parsed.resume.empty()) parsed.init = parsed.resume;
  parsed.seed = non_negative(v, "seed");
  parsed.seed_given = !v["seed"].defaulted();
  parsed.solver.algorithm = nmf::parse_algorithm(v["algorithm"].as<std::string>());
  parsed.solver.rank = static_cast<Index>(v["rank"].as<std::int64_t>());
  parsed.solver.loss = nmf::parse_loss(v["loss"].as<std::string>());
  parsed.precision = nmf::parse_precision(v["precision"].as<std::string>());
  parsed.solver.w_penalty = {v["l1-w"].as<double>(), v["l2-w"].as<double>()};
  parsed.solver.h_penalty = {v["l1-h"].as<double>(), v["l2-h"].as<double>()};
  parsed.solver.stop.max_iterations = v["max-iter"].as<int>();
  parsed.solver.stop.tolerance = v["tol"].as<double>();
  parsed.solver.stop.time_limit = v["time-limit"].as<double>();
  parsed.progress = progress_mode(v);
  parsed.quiet = v["quiet"].as<bool>();
  return parsed;
}

/// Random, or read from a file in whatever float type it holds (HDF5 converts to Scalar), in
/// the units of the scaled A that the solver factorizes.
template <class Scalar>
nmf::FactorsT<Scalar> initial_factors(const FactorizeOptions& options,
                                      const InputMatrixT<Scalar>& input,
                                      const nmf::InputScaling& scaling,
                                      const nmf::InputStatistics& statistics,
                                      mpi::Communicator& comm) {
  const Index k = options.solver.rank;
  const Index local_rows = input.block->rows();
  if (options.init == "random") {
    return nmf::random_factors<Scalar>(k, local_rows, input.row_begin, input.cols,
                                       statistics.mean(), options.seed);
  }
  if (const std::optional<nmf::NndsvdFill> fill = nmf::parse_nndsvd(options.init)) {
    return nmf::nndsvd_factors(*input.block, input.row_begin, statistics, k, *fill, options.seed,
                               comm);
  }
  const io::InputFile file(options.init, comm);
  io::DatasetInfo w_info;
  io::DatasetInfo h_info;
  mpi::agree(comm, [&] {
    w_info = require_matrix(file, "/W", input.rows, k);
    h_info = require_matrix(file, "/H", k, input.cols);
  });
  RowMatrixT<Scalar> w_rows;
  RowMatrixT<Scalar> h;
  mpi::agree(comm, [&] {
    w_rows = file.read_rows<Scalar>(w_info, input.row_begin, local_rows);
    h = file.read_all<Scalar>(h_info);
  });
  mpi::agree(comm, [&] {
    check_nonnegative_finite(w_rows, input.row_begin, io::where(options.init, "/W"), comm);
    check_nonnegative_finite(h, 0, io::where(options.init, "/H"), comm);
    // A zero factor stays zero under MU, and BPP's H update makes H zero from it: the run then
    // "converges" at W H = 0. Refused, as scikit-learn refuses it. (Entries are >= 0 here.)
    for (const auto& [values, name] : {std::pair{&w_rows, "/W"}, std::pair{&h, "/H"}}) {
      const double largest = values->size() > 0 ? static_cast<double>(values->maxCoeff()) : 0.0;
      if (comm.max(largest) == 0) {
        throw InputError(io::where(options.init, name) +
                         ": every entry is zero; NMF cannot start from a zero factor");
      }
    }
  });
  nmf::FactorsT<Scalar> factors{w_rows.transpose(), h};
  nmf::scale_by_power_of_two(factors.Wt, scaling.w_exponent);
  nmf::scale_by_power_of_two(factors.H, scaling.h_exponent);
  return factors;
}

/// The record of the run a --resume file holds: its history, hence its iteration count. The run
/// continues only with what determines its steps unchanged: the algorithm, the loss, the
/// penalties, the orientation and the matrix itself (recognised by Σ A and ||A||², compared at
/// this run's scale; the history's objectives come back in the solver's units). It takes
/// the file's seed into `options`: the factors it continues from came from that seed, so that is
/// what its output and report record (another --seed given is refused).
template <class Scalar>
nmf::SolveResult resumed_run(FactorizeOptions& options, const InputMatrixT<Scalar>& input,
                             const nmf::InputScaling& scaling,
                             const nmf::InputStatistics& statistics, mpi::Communicator& comm) {
  nmf::SolveResult resumed;
  if (options.resume.empty()) return resumed;
  const io::InputFile file(options.resume, comm);
  mpi::agree(comm, [&] {
    const std::int64_t seed = file.integer_attribute("seed");
    if (options.seed_given && static_cast<std::uint64_t>(seed) != options.seed) {
      throw UsageError(options.resume + ": was made with --seed " + std::to_string(seed) +
                       "; resume it with the same seed (or leave --seed out)");
    }
    options.seed = static_cast<std::uint64_t>(seed);
    const std::string algorithm = file.string_attribute("algorithm");
    if (algorithm != nmf::to_string(options.solver.algorithm)) {
      throw UsageError(options.resume + ": was made with --algorithm " + algorithm +
                       "; resume it with the same algorithm");
    }
    const std::string loss = file.string_attribute("loss");
    if (loss != nmf::to_string(options.solver.loss)) {
      throw UsageError(options.resume + ": was made with --loss " + loss +
                       "; resume it with the same loss");
    }
    const nmf::Penalty& w = options.solver.w_penalty;
    const nmf::Penalty& h = options.solver.h_penalty;
    for (const auto& [name, value] :
         {std::pair{"l1_w", w.l1}, {"l2_w", w.l2}, {"l1_h", h.l1}, {"l2_h", h.l2}}) {
      const double made_with = file.number_attribute(name);
      if (made_with != value) {
        std::ostringstream message;
        message << options.resume << ": was made with --" << name[0] << name[1] << '-' << name[3]
                << ' ' << made_with << "; resume it with the same penalties";
        throw UsageError(message.str());
      }
    }
    if ((file.number_attribute("transpose") != 0) != input.transposed) {
      throw UsageError(options.resume + ": was made " + (input.transposed ? "without" : "with") +
                       " --transpose; resume it the same way");
    }
    // Summed in another order at another rank count (or read at another precision): equal to
    // well within 1e-6, while another matrix of the same shape differs far more.
    const auto differs = [](double stored, double now) {
      return std::abs(stored - now) > 1e-6 * std::max(std::abs(stored), std::abs(now));
    };
    // The file's statistics are of A scaled by its own exponent, which read at the other
    // precision can differ by 2 from this run's (a largest entry that rounds up to a power of
    // two): brought to this run's scale first.
    const int rescale =
        scaling.exponent - static_cast<int>(file.number_attribute("input_scale_exponent"));
    if (differs(std::ldexp(file.number_attribute("input_sum"), rescale), statistics.sum) ||
        differs(std::ldexp(file.number_attribute("input_squared_norm"), 2 * rescale),
                statistics.squared_norm)) {
      throw InputError(options.resume + ": was made from another matrix than " +
                       io::where(input.file, input.dataset) + " (its sum and norm differ)");
    }
    const auto column = [&](const char* name) {
      const io::DatasetInfo info = file.dataset(std::string("/history/") + name);
      if (info.shape.size() != 1)
        throw InputError(io::where(options.resume, info.path) + ": expected 1-D");
      return file.read_array<double>(info);
    };
    const std::vector<double> iterations = column("iteration");
    const std::vector<double> errors = column("relative_error");
    const std::vector<double> seconds = column("seconds");
    std::vector<double> objectives = column("objective");
    const int to_solver_units = static_cast<int>(file.number_attribute("objective_exponent")) -
                                scaling.objective_exponent(options.solver.loss);
    for (double& objective : objectives) objective = std::ldexp(objective, to_solver_units);
    require_consistent_history(options.resume, "/history/iteration", iterations,
                               file.number_attribute("iterations"), "iterations",
                               {{"/history/relative_error", errors.size()},
                                {"/history/seconds", seconds.size()},
                                {"/history/objective", objectives.size()}});
    for (std::size_t i = 0; i < iterations.size(); ++i) {
      resumed.history.push_back(
          {static_cast<int>(iterations[i]), errors[i], objectives[i], seconds[i]});
    }
    resumed.iterations = resumed.history.empty() ? 0 : resumed.history.back().iteration;
  });
  return resumed;
}

/// The output file, or a checkpoint: the same layout, so either can be resumed (in either
/// precision: W and H are float32 datasets in single precision, float64 in double). `factors`
/// are the solver's, of the scaled A: they are written in A's units.
template <class Scalar>
void write_factors(const std::string& target, io::IfExists if_exists, bool is_checkpoint,
                   const FactorizeOptions& options, const Invocation& invocation,
                   const InputMatrixT<Scalar>& input, const nmf::InputScaling& scaling,
                   const nmf::InputStatistics& statistics, const nmf::FactorsT<Scalar>& factors,
                   const nmf::SolveResult& result, double init_seconds, double wall_seconds,
                   mpi::Communicator& comm) {
  MatrixT<Scalar> Wt = factors.Wt;
  MatrixT<Scalar> H = factors.H;
  nmf::scale_by_power_of_two(Wt, -scaling.w_exponent);
  nmf::scale_by_power_of_two(H, -scaling.h_exponent);
  require_finite_result(io::where(input.file, input.dataset), target,
                        Wt.allFinite() && H.allFinite(), result.relative_error, result.history,
                        comm);
  io::OutputFile out(target, comm, if_exists);
  mpi::agree(comm, [&] {
    const Index k = options.solver.rank;
    out.write_rows("/W", input.rows, k, Wt.data(), input.row_begin, Wt.cols());
    out.write_matrix("/H", RowMatrixT<Scalar>(H));
    write_history(out, result.history, scaling.objective_exponent(options.solver.loss));
    out.set_attribute("dnmf_version", std::string(DNMF_VERSION));
    out.set_attribute("command_line", invocation.command_line);
    out.set_attribute("algorithm", nmf::to_string(options.solver.algorithm));
    out.set_attribute("loss", nmf::to_string(options.solver.loss));
    out.set_attribute("precision", nmf::to_string(options.precision));
    out.set_attribute("l1_w", options.solver.w_penalty.l1);
    out.set_attribute("l2_w", options.solver.w_penalty.l2);
    out.set_attribute("l1_h", options.solver.h_penalty.l1);
    out.set_attribute("l2_h", options.solver.h_penalty.l2);
    out.set_attribute("transpose", static_cast<std::int64_t>(input.transposed ? 1 : 0));
    out.set_attribute("input_kind", input.kind);
    out.set_attribute("rank", static_cast<std::int64_t>(k));
    out.set_attribute("seed", static_cast<std::int64_t>(options.seed));
    out.set_attribute("init", options.init);
    out.set_attribute("init_seconds", init_seconds);
    out.set_attribute("max_iter", static_cast<std::int64_t>(options.solver.stop.max_iterations));
    out.set_attribute("tol", options.solver.stop.tolerance);
    out.set_attribute("time_limit", options.solver.stop.time_limit);
    out.set_attribute("iterations", static_cast<std::int64_t>(result.iterations));
    out.set_attribute("converged", static_cast<std::int64_t>(result.converged() ? 1 : 0));
    out.set_attribute("stop_reason", nmf::to_string(result.reason));
    // A checkpoint is written before the final direct evaluation: it records the loop's value.
    out.set_attribute("checkpoint", static_cast<std::int64_t>(is_checkpoint ? 1 : 0));
    out.set_attribute("relative_error", is_checkpoint && !result.history.empty()
                                            ? result.history.back().relative_error
                                            : result.relative_error);
    out.set_attribute("input_file", input.file);
    out.set_attribute("input_dataset", input.dataset);
    out.set_attribute("input_scale_exponent", static_cast<std::int64_t>(scaling.exponent));
    out.set_attribute("input_sum", statistics.sum);
    out.set_attribute("input_squared_norm", statistics.squared_norm);
    out.set_attribute("mpi_ranks", static_cast<std::int64_t>(comm.size()));
    out.set_attribute("wall_seconds", wall_seconds);
  });
  out.commit();
}

template <class Scalar>
JsonObject report_json(const FactorizeOptions& options, const Invocation& invocation,
                       const InputMatrixT<Scalar>& input, const nmf::SolveResult& result,
                       const PhaseSeconds& phases, double wall_seconds, mpi::Communicator& comm) {
  const OverRanks loop = over_ranks(result.loop_seconds, comm);
  JsonObject seconds;
  seconds.add("read", over_ranks(phases.read, comm))
      .add("init", over_ranks(phases.init, comm))
      .add("compute", over_ranks(phases.compute, comm))
      .add("communicate", over_ranks(phases.communicate, comm))
      .add("write", over_ranks(phases.write, comm))
      .add("iteration_loop", loop);
  std::vector<double> errors;
  for (const nmf::IterationRecord& record : result.history) errors.push_back(record.relative_error);
  const double iterations = result.iterations;
  JsonObject report;
  report.add("dnmf_version", DNMF_VERSION)
      .add("command_line", invocation.command_line)
      .add("algorithm", nmf::to_string(options.solver.algorithm))
      .add("loss", nmf::to_string(options.solver.loss))
      .add("precision", nmf::to_string(options.precision))
      .add("input_kind", input.kind)
      .add("rank", static_cast<double>(options.solver.rank))
      .add("seed", static_cast<double>(options.seed))
      .add("rows", static_cast<double>(input.rows))
      .add("cols", static_cast<double>(input.cols))
      .add("iterations", iterations)
      .add("converged", result.converged())
      .add("stop_reason", nmf::to_string(result.reason))
      .add("relative_error", result.relative_error)
      .add("input_file", input.file)
      .add("input_dataset", input.dataset)
      .add("mpi_ranks", static_cast<double>(comm.size()))
      .add("wall_seconds", wall_seconds)
      .add("seconds", seconds)
      .add("seconds_per_iteration",
           result.iterations_this_run > 0 ? loop.max / result.iterations_this_run : 0.0)
      .add("bytes_per_iteration_per_rank", over_ranks(result.bytes_per_iteration, comm))
      .add("flops_per_iteration", result.flops_per_iteration)
      .add("gflops_per_second",
           loop.max > 0 ? result.flops_per_iteration * result.iterations_this_run / loop.max / 1e9
                        : 0.0)
      .add("peak_memory_bytes_per_rank",
           over_ranks(static_cast<double>(peak_resident_bytes()), comm))
      .add("history_relative_error", errors);
  return report;
}

/// Everything after the options, written once for float and double.
template <class Scalar>
int factorize(FactorizeOptions& options, const io::RunFiles& files, const Invocation& invocation,
              const Stopwatch& wall, mpi::Communicator& comm) {
  PhaseSeconds phases;
  Stopwatch phase;
  const InputMatrixT<Scalar> input =
      load_input_matrix<Scalar>(options.input, options.dataset, options.transpose, comm);
  phases.read = phase.seconds();
  mpi::agree(comm, [&] {
    try {
      nmf::validate(options.solver, input.rows, input.cols);
    } catch (const UsageError& error) {
      throw UsageError(io::where(input.file, input.dataset) + ": " + error.what());
    }
  });
  const nmf::InputScaling scaling =
      nmf::normalize_input(*input.block, nmf::ScaledFactors::Both, comm);
  if (scaling.largest_entry == 0) {
    mpi::agree(comm, [&] {
      throw InputError(io::where(input.file, input.dataset) +
                       ": every entry is zero; nothing to factorize");
    });
  }
  const nmf::InputStatistics statistics = nmf::input_statistics(*input.block, comm);
  phase.restart();
  nmf::FactorsT<Scalar> factors = initial_factors(options, input, scaling, statistics, comm);
  phases.init = phase.seconds();
  const double init_seconds = comm.max(phases.init);
  const nmf::SolveResult resumed = resumed_run(options, input, scaling, statistics, comm);

  ProgressPrinter printer(options.progress, comm.is_root(), options.solver.stop.max_iterations,
                          "it");
  nmf::SolverHooksT<Scalar> hooks;
  hooks.progress = [&](const nmf::IterationRecord& record) {
    char status[64];
    std::snprintf(status, sizeof status, "rel.err %.6f", record.relative_error);
    printer.update(record.iteration, record.seconds, status);
  };
  if (!options.checkpoint.path.empty()) {
    hooks.checkpoint_every = options.checkpoint.every;
    hooks.checkpoint = [&, if_exists = files.if_exists("--checkpoint")](
                           const nmf::FactorsT<Scalar>& current,
                           const nmf::SolveResult& so_far) mutable {
      write_factors(options.checkpoint.path, if_exists, true, options, invocation, input, scaling,
                    statistics, current, so_far, init_seconds, comm.max(wall.seconds()), comm);
      if_exists = io::IfExists::Replace;  // the next checkpoint replaces this run's own
    };
  }
  const nmf::SolveResult result =
      nmf::solve(*input.block, factors, scaling.solver_options(options.solver), statistics, comm,
                 resumed, hooks);
  printer.finish();
  phases.compute = result.compute_seconds;
  phases.communicate = result.communicate_seconds;

  if (result.reason == nmf::StopReason::Signal && !options.checkpoint.path.empty()) {
    if (comm.is_root()) {
      std::fprintf(stderr,
                   "dnmf: stopped by a signal after iteration %d; checkpoint in %s, "
                   "continue with --resume %s\n",
                   result.iterations, options.checkpoint.path.c_str(),
                   options.checkpoint.path.c_str());
    }
    return kExitStoppedBySignal;
  }
  phase.restart();
  const double wall_seconds = comm.max(wall.seconds());
  write_factors(options.output, files.if_exists("--output"), false, options, invocation, input,
                scaling, statistics, factors, result, init_seconds, wall_seconds, comm);
  phases.write = phase.seconds();
  if (!options.report.empty()) {
    const JsonObject report =
        report_json(options, invocation, input, result, phases, comm.max(wall.seconds()), comm);
    write_text_atomically(options.report, report.text(), files.if_exists("--report"), comm);
  }
  if (comm.is_root() && !options.quiet) {
    std::printf(
        "wrote %s: W %lldx%lld, H %lldx%lld; %d iterations (%s), relative error %.6g, "
        "%.2f s on %d rank%s\n",
        options.output.c_str(), static_cast<long long>(input.rows),
        static_cast<long long>(options.solver.rank), static_cast<long long>(options.solver.rank),
        static_cast<long long>(input.cols), result.iterations,
        nmf::to_string(result.reason).c_str(), result.relative_error, wall_seconds, comm.size(),
        comm.size() == 1 ? "" : "s");
  }
  return result.reason == nmf::StopReason::Signal ? kExitStoppedBySignal : 0;
}

}  // namespace

int run_factorize(const Invocation& invocation, mpi::Communicator& comm) {
  // SIGTERM/SIGUSR1 stop the iterations cleanly; every other subcommand keeps the default action.
  install_stop_handlers();
  const Stopwatch wall;
  std::optional<FactorizeOptions> options;
  mpi::agree(comm, [&] { options = parse(invocation, comm); });
  if (!options) return 0;
  const bool init_from_file =
      options->resume.empty() && options->init != "random" && !nmf::parse_nndsvd(options->init);
  io::RunFiles files;
  files.input("--input", options->input)
      .input("--init", init_from_file ? options->init : "")
      .input("--resume", options->resume)
      .output("--output", options->output)
      .output("--report", options->report)
      // The checkpoint of a resumed run may be the file it resumed from: it replaces that state.
      .output("--checkpoint", options->checkpoint.path, "--resume");
  files.check(options->force, comm);
  // The one dispatch on the precision.
  return options->precision == nmf::Precision::Single
             ? factorize<float>(*options, files, invocation, wall, comm)
             : factorize<double>(*options, files, invocation, wall, comm);
}

}  // namespace dnmf::cli
