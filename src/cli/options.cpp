#include "cli/options.hpp"

#include <iostream>

#include "dnmf/core/error.hpp"
#include "dnmf/core/threads.hpp"
#include "dnmf/mpi/thread_layout.hpp"

namespace dnmf::cli {

std::optional<po::variables_map> parse_options(const std::string& usage,
                                               const po::options_description& options,
                                               const po::positional_options_description& positional,
                                               const Invocation& invocation,
                                               mpi::Communicator& comm) {
  po::options_description with_help(options);
  with_help.add_options()("help,h", "print this help and exit");
  po::variables_map values;
  try {
    po::store(po::command_line_parser(invocation.arguments)
                  .options(with_help)
                  .positional(positional)
                  .run(),
              values);
    if (values.count("help")) {
      if (comm.is_root()) std::cout << usage << "\n\n" << with_help << "\n";
      return std::nullopt;
    }
    po::notify(values);
  } catch (const po::error& error) {
    throw UsageError(std::string(error.what()) + " (see --help)");
  }
  return values;
}

void add_input_matrix_options(po::options_description& options, const std::string& verb) {
  // clang-format off
  options.add_options()
      ("input,i", po::value<std::string>()->required(), "HDF5 file holding A")
      ("dataset,d", po::value<std::string>()->default_value(""),
       "path of A in the file: a 2-D dataset or a sparse group such as X, layers/counts, raw/X "
       "(default: /X, /matrix, else the only 2-D dataset or sparse group)")
      ("transpose", po::bool_switch(), (verb + " Aᵀ instead of A (rows become columns)").c_str());
  // clang-format on
}

InputMatrixOptions input_matrix_options(const po::variables_map& values) {
  return {values["input"].as<std::string>(), values["dataset"].as<std::string>(),
          values["transpose"].as<bool>()};
}

void add_missing_options(po::options_description& options) {
  // clang-format off
  options.add_options()
      ("missing", po::value<std::string>()->default_value("none"),
       "none|nan: with nan, NaN entries of a dense A are missing values, left out of the fit")
      ("mask", po::value<std::string>()->default_value(""),
       "a dataset or sparse group of the input (/PATH) or of another file (FILE:/PATH), of A's "
       "shape, whose nonzero entries mark entries of A as missing");
  // clang-format on
}

nmf::MaskOptions missing_options(const po::variables_map& values) {
  nmf::MaskOptions mask;
  mask.missing_nan = parse_named("--missing", values["missing"].as<std::string>(),
                                 nmf::kMissingValueNames) == nmf::MissingValue::Nan;
  mask.mask = values["mask"].as<std::string>();
  return mask;
}

void add_progress_options(po::options_description& options) {
  // clang-format off
  options.add_options()
      ("progress", po::value<std::string>()->default_value("auto"),
       "auto|bar|lines|none: a live bar on a terminal, a line every 10 iterations otherwise")
      ("quiet,q", po::bool_switch(), "print nothing but errors");
  // clang-format on
}

ProgressMode progress_mode(const po::variables_map& values) {
  // Parsed whatever --quiet says: a bad value is a usage error either way.
  const ProgressMode mode = parse_progress_mode(values["progress"].as<std::string>());
  return values["quiet"].as<bool>() ? ProgressMode::None : mode;
}

void add_threads_option(po::options_description& options) {
  options.add_options()(
      "threads", po::value<int>(),
      "kernel threads per rank (default: OMP_NUM_THREADS if set, else the CPUs of the rank's "
      "affinity mask, shared among the ranks of a node whose masks overlap)");
}

void apply_threads_option(const po::variables_map& values) {
  if (values.count("threads") == 0) return;
  const int threads = values["threads"].as<int>();
  if (threads < 1) throw UsageError("--threads must be >= 1, got " + std::to_string(threads));
  set_kernel_threads(threads);
}

std::string layout_line(const std::string& command, mpi::Communicator& comm) {
  return "dnmf " + command + ": " + mpi::describe_layout(comm) + ", " + blas_description();
}

void add_checkpoint_options(po::options_description& options, const std::string& unit) {
  // clang-format off
  options.add_options()
      ("checkpoint", po::value<std::string>()->default_value(""),
       ("write everything needed to continue exactly here (atomically) every --checkpoint-every " +
        unit + " and when SIGTERM or SIGUSR1 arrives; the run then exits with code 75").c_str())
      ("checkpoint-every", po::value<int>()->default_value(0),
       (unit + " between checkpoints; 0: only on a signal").c_str());
  // clang-format on
}

CheckpointOptions checkpoint_options(const po::variables_map& values) {
  CheckpointOptions checkpoint{values["checkpoint"].as<std::string>(),
                               values["checkpoint-every"].as<int>()};
  if (checkpoint.every < 0) throw UsageError("--checkpoint-every must be >= 0");
  if (checkpoint.every > 0 && checkpoint.path.empty()) {
    throw UsageError("--checkpoint-every needs --checkpoint FILE");
  }
  return checkpoint;
}

std::uint64_t non_negative(const po::variables_map& values, const std::string& name) {
  const std::int64_t value = values[name].as<std::int64_t>();
  if (value < 0) throw UsageError("--" + name + " must be >= 0, got " + std::to_string(value));
  return static_cast<std::uint64_t>(value);
}

}  // namespace dnmf::cli
