// dnmf transform: the nonnegative codes W of new rows A against the fixed basis H of an earlier
// fit, with the fit's loss and W penalties; rows spread over the MPI ranks as factorize spreads
// them.

#include <cmath>
#include <cstdio>
#include <optional>

#include "cli/command.hpp"
#include "cli/history.hpp"
#include "cli/input_matrix.hpp"
#include "cli/options.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/input_scaling.hpp"
#include "dnmf/nmf/transform.hpp"

namespace dnmf::cli {
namespace {

constexpr const char* kUsage =
    "usage: dnmf transform --basis FIT.h5 --input FILE [--dataset PATH] --output FILE [options]\n"
    "The nonnegative codes W (m x K) of the rows of A (m x n) against the fixed basis /H (K x n)\n"
    "of FIT.h5, a dnmf factorize output, with the loss and the W penalties (l1_w, l2_w) that fit\n"
    "used. Frobenius: every row is one exact nonnegative least-squares problem (block principal\n"
    "pivoting). KL: multiplicative updates of W with H fixed, from the constant code matching\n"
    "each row's total, until the objective improves by less than --tol, relatively, in one\n"
    "iteration, or --max-iter. The output holds /W and its provenance, not a copy of /H.\n"
    "--transpose is not taken from the fit: give it when A is stored as the fit's input was.";

struct TransformCommandOptions {
  std::string basis;
  std::string input;
  std::string dataset;
  bool transpose = false;
  std::string output;
  bool force = false;
  int max_iterations = 0;
  double tolerance = 0;
  ProgressMode progress = ProgressMode::Auto;
  bool quiet = false;
};

std::optional<TransformCommandOptions> parse(const Invocation& invocation,
                                             mpi::Communicator& comm) {
  const nmf::TransformOptions defaults;
  po::options_description options("dnmf transform options");
  // clang-format off
  options.add_options()
      ("basis,b", po::value<std::string>()->required(),
       "a dnmf factorize output: /H (K x n) and the attributes loss, l1_w, l2_w");
  // clang-format on
  add_input_matrix_options(options, "transform");
  // clang-format off
  options.add_options()
      ("output,o", po::value<std::string>()->required(), "HDF5 file to write /W and provenance to")
      ("force,f", po::bool_switch(), "overwrite the output if it exists")
      ("max-iter", po::value<int>()->default_value(defaults.max_iterations),
       "KL only: maximum number of multiplicative updates")
      ("tol", po::value<double>()->default_value(defaults.tolerance, "1e-6"),
       "KL only: stop when the objective improves by less than this, relatively, in one iteration");
  // clang-format on
  add_progress_options(options);
  const auto values = parse_options(kUsage, options, {}, invocation, comm);
  if (!values) return std::nullopt;
  const po::variables_map& v = *values;
  TransformCommandOptions parsed;
  parsed.basis = v["basis"].as<std::string>();
  parsed.input = v["input"].as<std::string>();
  parsed.dataset = v["dataset"].as<std::string>();
  parsed.transpose = v["transpose"].as<bool>();
  parsed.output = v["output"].as<std::string>();
  parsed.force = v["force"].as<bool>();
  parsed.max_iterations = v["max-iter"].as<int>();
  parsed.tolerance = v["tol"].as<double>();
  if (parsed.max_iterations < 0) throw UsageError("--max-iter must be >= 0");
  if (!(parsed.tolerance >= 0) || !std::isfinite(parsed.tolerance)) {
    throw UsageError("--tol must be a finite number >= 0");
  }
  parsed.progress = progress_mode(v);
  parsed.quiet = v["quiet"].as<bool>();
  return parsed;
}

/// What transform takes from the fit: its basis, loss and W penalties.
struct Basis {
  Matrix H;  ///< k x n
  nmf::Loss loss = nmf::Loss::Frobenius;
  nmf::Penalty penalty;
  std::optional<bool> transposed;  ///< whether the fit factorized its input's transpose
};

/// Collective: /H (nonnegative, finite) and the attributes of a factorize output.
Basis read_basis(const std::string& path, mpi::Communicator& comm) {
  const io::InputFile file(path, comm);
  Basis basis;
  io::DatasetInfo info;
  mpi::agree(comm, [&] {
    try {
      info = file.dataset("/H");
      require_2d_numeric(info, path);
      const std::string loss = file.string_attribute("loss");
      try {
        basis.loss = nmf::parse_loss(loss);
      } catch (const UsageError&) {
        throw InputError(path + ": attribute loss is '" + loss + "', not frobenius or kl");
      }
      basis.penalty = {file.number_attribute("l1_w"), file.number_attribute("l2_w")};
    } catch (const InputError& error) {
      throw InputError(std::string(error.what()) + " (--basis takes a dnmf factorize output)");
    }
    if (!(basis.penalty.l1 >= 0) || !(basis.penalty.l2 >= 0) || !std::isfinite(basis.penalty.l1) ||
        !std::isfinite(basis.penalty.l2)) {
      throw InputError(path + ": the penalties l1_w, l2_w must be finite numbers >= 0");
    }
    if (const auto transpose = file.object_number_attribute("/", "transpose");
        transpose && transpose->size() == 1) {
      basis.transposed = transpose->front() != 0;
    }
  });
  RowMatrix h;
  mpi::agree(comm, [&] { h = file.read_all(info); });
  mpi::agree(comm, [&] {
    check_nonnegative_finite(h, 0, io::where(path, "/H"), comm);
    if (h.size() == 0 || h.maxCoeff() == 0) {
      throw InputError(io::where(path, "/H") + ": every entry is zero; no codes fit a zero basis");
    }
  });
  basis.H = h;
  return basis;
}

/// InputError naming both files unless A's rows have the basis's n columns.
void require_matching_columns(const InputMatrix& input, const TransformCommandOptions& options,
                              const Basis& basis) {
  if (input.cols == basis.H.cols()) return;
  std::string message =
      io::where(input.file, input.dataset) + ": has " + std::to_string(input.cols) + " columns" +
      (input.transposed ? " (with --transpose)" : "") + ", but the basis " +
      io::where(options.basis, "/H") + " is " + std::to_string(basis.H.rows()) + "x" +
      std::to_string(basis.H.cols()) + " and needs " + std::to_string(basis.H.cols()) + " columns";
  if (basis.transposed && *basis.transposed != input.transposed) {
    message += *basis.transposed ? "; the fit was made with --transpose: give it here too?"
                                 : "; the fit was made without --transpose";
  }
  throw InputError(message);
}

/// `result` is the solver's, for the scaled rows: W is written in A's units.
void write_codes(const TransformCommandOptions& options, io::IfExists if_exists,
                 const Invocation& invocation, const InputMatrix& input,
                 const nmf::InputScaling& scaling, const Basis& basis,
                 const nmf::TransformResult& result, double wall_seconds, mpi::Communicator& comm) {
  Matrix Wt = result.Wt;
  nmf::scale_by_power_of_two(Wt, -scaling.w_exponent);
  require_finite_result(io::where(input.file, input.dataset), options.output, Wt.allFinite(),
                        result.relative_error, result.history, comm);
  io::OutputFile out(options.output, comm, if_exists);
  mpi::agree(comm, [&] {
    const Index k = basis.H.rows();
    out.write_rows("/W", input.rows, k, Wt.data(), input.row_begin, Wt.cols());
    const bool kl = basis.loss == nmf::Loss::KullbackLeibler;
    out.set_attribute("dnmf_version", std::string(DNMF_VERSION));
    out.set_attribute("command_line", invocation.command_line);
    out.set_attribute("basis_file", options.basis);
    out.set_attribute("input_file", input.file);
    out.set_attribute("input_dataset", input.dataset);
    out.set_attribute("input_kind", input.kind);
    out.set_attribute("transpose", static_cast<std::int64_t>(input.transposed ? 1 : 0));
    out.set_attribute("loss", nmf::to_string(basis.loss));
    out.set_attribute("algorithm", nmf::to_string(kl ? nmf::Algorithm::Mu : nmf::Algorithm::Bpp));
    out.set_attribute("l1_w", basis.penalty.l1);
    out.set_attribute("l2_w", basis.penalty.l2);
    out.set_attribute("rank", static_cast<std::int64_t>(k));
    out.set_attribute("relative_error", result.relative_error);
    out.set_attribute("mpi_ranks", static_cast<std::int64_t>(comm.size()));
    out.set_attribute("wall_seconds", wall_seconds);
    if (!kl) return;  // the Frobenius codes are exact: no iterations to record
    out.set_attribute("max_iter", static_cast<std::int64_t>(options.max_iterations));
    out.set_attribute("tol", options.tolerance);
    out.set_attribute("iterations", static_cast<std::int64_t>(result.iterations));
    out.set_attribute("stop_reason", nmf::to_string(result.reason));
    write_history(out, result.history, scaling.objective_exponent(basis.loss));
  });
  out.commit();
}

}  // namespace

int run_transform(const Invocation& invocation, mpi::Communicator& comm) {
  const Stopwatch wall;
  std::optional<TransformCommandOptions> options;
  mpi::agree(comm, [&] { options = parse(invocation, comm); });
  if (!options) return 0;
  io::RunFiles files;
  files.input("--basis", options->basis)
      .input("--input", options->input)
      .output("--output", options->output);
  files.check(options->force, comm);

  const Basis basis = read_basis(options->basis, comm);
  const InputMatrix input =
      load_input_matrix(options->input, options->dataset, options->transpose, comm);
  mpi::agree(comm, [&] { require_matching_columns(input, *options, basis); });
  const nmf::InputScaling scaling =
      nmf::normalize_input(*input.block, nmf::ScaledFactors::CodesOnly, comm);
  if (scaling.largest_entry == 0) {
    mpi::agree(comm, [&] {
      throw InputError(
          io::where(input.file, input.dataset) +
          ": every entry is zero; its codes are zero and its relative error undefined");
    });
  }
  const nmf::InputStatistics statistics = nmf::input_statistics(*input.block, comm);

  nmf::TransformOptions transform_options;
  transform_options.loss = basis.loss;
  transform_options.penalty = scaling.w_penalty(basis.penalty, basis.loss);
  transform_options.max_iterations = options->max_iterations;
  transform_options.tolerance = options->tolerance;
  const bool kl = basis.loss == nmf::Loss::KullbackLeibler;
  ProgressPrinter printer(kl ? options->progress : ProgressMode::None, comm.is_root(),
                          options->max_iterations, "it");
  const auto progress = [&](const nmf::IterationRecord& record) {
    char status[64];
    std::snprintf(status, sizeof status, "D/sum(A) %.6f", record.relative_error);
    printer.update(record.iteration, record.seconds, status);
  };
  const nmf::TransformResult result =
      nmf::transform(*input.block, basis.H, transform_options, statistics, comm, progress);
  printer.finish();

  const double wall_seconds = comm.max(wall.seconds());
  write_codes(*options, files.if_exists("--output"), invocation, input, scaling, basis, result,
              wall_seconds, comm);
  if (comm.is_root() && !options->quiet) {
    std::string how = "exact NNLS";
    if (kl) {
      how = std::to_string(result.iterations) + " KL iterations (" + nmf::to_string(result.reason) +
            ")";
    }
    std::printf("wrote %s: W %lldx%lld; %s, relative error %.6g, %.2f s on %d rank%s\n",
                options->output.c_str(), static_cast<long long>(input.rows),
                static_cast<long long>(basis.H.rows()), how.c_str(), result.relative_error,
                wall_seconds, comm.size(), comm.size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace dnmf::cli
