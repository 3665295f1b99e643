// dnmf transform: the nonnegative codes W of new rows A against the fixed basis H of an earlier
// fit, with the fit's loss and W penalties; rows spread over the MPI ranks as factorize spreads
// them.

#include <cmath>
#include <cstdio>
#include <optional>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/input_matrix.hpp"
#include "dnmf/nmf/transform.hpp"
#include "dnmf/nmf/transform_files.hpp"

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
    "--transpose is not taken from the fit: give it when A is stored as the fit's input was.\n"
    "With --missing nan or --mask each row's codes fit its observed entries only.";

struct TransformCommandOptions {
  std::string basis;
  InputMatrixOptions input;
  nmf::MaskOptions mask;
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
  add_missing_options(options);
  add_progress_options(options);
  add_threads_option(options);
  const auto values = parse_options(kUsage, options, {}, invocation, comm);
  if (!values) return std::nullopt;
  const po::variables_map& v = *values;
  apply_threads_option(v);
  TransformCommandOptions parsed;
  parsed.basis = v["basis"].as<std::string>();
  parsed.input = input_matrix_options(v);
  parsed.mask = missing_options(v);
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

}  // namespace

int run_transform(const Invocation& invocation, mpi::Communicator& comm) {
  const Stopwatch wall;
  std::optional<TransformCommandOptions> options =
      mpi::agreed(comm, [&] { return parse(invocation, comm); });
  if (!options) return 0;
  io::RunFiles files;
  files.input("--basis", options->basis)
      .input("--input", options->input.file)
      .input("--mask", options->mask.mask_file())
      .output("--output", options->output);
  files.check(options->force, comm);

  const nmf::Basis basis = nmf::read_basis(options->basis, comm);
  const nmf::InputMatrix input =
      nmf::load_input_matrix(options->input.file, options->input.dataset, options->input.transpose,
                             comm, options->mask.missing_nan);
  mpi::agree(comm, [&] { nmf::require_matching_columns(input, options->basis, basis); });
  nmf::EntryMask mask;
  const nmf::ScaledInput scaled = nmf::scale_masked_input(
      input, nmf::ScaledFactors::CodesOnly, "its codes are zero and its relative error undefined",
      options->mask, 0, mask, comm);

  nmf::TransformOptions transform_options;
  transform_options.loss = basis.loss;
  transform_options.penalty = scaled.scaling.w_penalty(basis.penalty, basis.loss);
  transform_options.max_iterations = options->max_iterations;
  transform_options.tolerance = options->tolerance;
  const bool kl = basis.loss == nmf::Loss::KullbackLeibler;
  ProgressPrinter printer(kl ? options->progress : ProgressMode::None, comm.is_root(),
                          options->max_iterations, "it");
  const auto progress = [&](const nmf::IterationRecord& record) {
    printer.update(record.iteration, record.seconds, "D/sum(A)", record.relative_error);
  };
  const nmf::TransformResult result = nmf::transform(*input.block, basis.H, transform_options,
                                                     scaled.statistics, comm, progress, &mask);
  printer.finish();

  const double wall_seconds = comm.max(wall.seconds());
  const nmf::CodesRun run{invocation.command_line, options->basis, options->max_iterations,
                          options->tolerance,      options->mask,  mask.missing_entries};
  nmf::write_codes(options->output, files.if_exists("--output"), run, input, scaled.scaling, basis,
                   result, wall_seconds, comm);
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
