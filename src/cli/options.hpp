#pragma once
// Boost.Program_options glue shared by the subcommands: parsing that turns every problem into a
// UsageError, and the options every long-running subcommand has.

#include <boost/program_options.hpp>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/progress.hpp"
#include "dnmf/nmf/input_matrix.hpp"

namespace dnmf::cli {

namespace po = boost::program_options;

/// Parses on every rank (the arguments are the same everywhere, so are the errors). Prints the
/// help on rank 0 and returns nullopt for --help.
std::optional<po::variables_map> parse_options(const std::string& usage,
                                               const po::options_description& options,
                                               const po::positional_options_description& positional,
                                               const Invocation& invocation,
                                               mpi::Communicator& comm);

/// --progress and --quiet, added to a subcommand's options.
void add_progress_options(po::options_description& options);
ProgressMode progress_mode(const po::variables_map& values);

/// --threads N: the kernel threads of each rank (default: from the layout, mpi/thread_layout.hpp).
void add_threads_option(po::options_description& options);
/// Sets the kernel thread count when --threads was given.
void apply_threads_option(const po::variables_map& values);

/// "dnmf COMMAND: P ranks × T threads, BLAS", the first line a long-running command prints.
/// Collective.
std::string layout_line(const std::string& command, mpi::Communicator& comm);

/// --checkpoint FILE and --checkpoint-every N (`unit`: "iterations", "steps").
struct CheckpointOptions {
  std::string path;  ///< empty: no checkpoints
  int every = 0;     ///< 0: only when a stop signal arrives
};
void add_checkpoint_options(po::options_description& options, const std::string& unit);
CheckpointOptions checkpoint_options(const po::variables_map& values);

/// --input FILE, --dataset PATH and --transpose: the matrix whose rows nmf::load_input_matrix
/// reads (nmf/input_matrix.hpp). `verb` completes the --transpose help: "factorize", "transform".
struct InputMatrixOptions {
  std::string file;
  std::string dataset;  ///< empty: the default one
  bool transpose = false;
};
void add_input_matrix_options(po::options_description& options, const std::string& verb);
InputMatrixOptions input_matrix_options(const po::variables_map& values);

/// --missing none|nan and --mask PATH: the missing entries of A (README "Missing values and
/// held-out entries"); the held-out fraction is left 0.
void add_missing_options(po::options_description& options);
nmf::MaskOptions missing_options(const po::variables_map& values);

/// A value that must be >= 0, given as a signed integer so "-1" is an error, not 2^64 - 1.
std::uint64_t non_negative(const po::variables_map& values, const std::string& name);

}  // namespace dnmf::cli
