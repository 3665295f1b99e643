// The dnmf program: one binary, subcommands, started with mpirun/srun or as a single process.

#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <string>

#include "cli/command.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/mpi/environment.hpp"
#include "dnmf/mpi/launch_check.hpp"

namespace {

constexpr const char* kUsage =
    "usage: dnmf COMMAND [options]   (dnmf COMMAND --help for its options)\n"
    "commands:\n"
    "  factorize   A ≈ W H for a nonnegative matrix in an HDF5 file (MU, HALS, ANLS-BPP)\n"
    "  sweep       replicates at many ranks k: their consensus, stability and held-out error\n"
    "  transform   the nonnegative codes of new rows against the fixed H of an earlier fit\n"
    "  generate    a synthetic low-rank nonnegative matrix, with its planted factors\n"
    "  info        the datasets, shapes, types and attributes of an HDF5 file\n"
    "  train       a digit classifier (cnn, nmf, nmf-cnn), data-parallel over the ranks\n"
    "  evaluate    accuracy and confusion matrix of a trained model on labelled images\n"
    "  predict     class probabilities of a trained model for images\n"
    "  convert     MNIST IDX files (gzip too) into the HDF5 layout train reads\n"
    "Run many ranks with mpirun -np P dnmf ... or srun dnmf ...; one process works too.";

std::string quote_for_shell(const std::string& argument) {
  if (!argument.empty() && argument.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos) {
    return argument;
  }
  std::string quoted = "'";
  for (const char c : argument) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

int run(int argc, char** argv, dnmf::mpi::Communicator& comm) {
  using Runner = int (*)(const dnmf::cli::Invocation&, dnmf::mpi::Communicator&);
  const std::map<std::string, Runner> commands = {
      {"factorize", dnmf::cli::run_factorize}, {"sweep", dnmf::cli::run_sweep},
      {"transform", dnmf::cli::run_transform}, {"generate", dnmf::cli::run_generate},
      {"info", dnmf::cli::run_info},           {"train", dnmf::cli::run_train},
      {"evaluate", dnmf::cli::run_evaluate},   {"predict", dnmf::cli::run_predict},
      {"convert", dnmf::cli::run_convert},
  };
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    // Asked for, the usage is the output; missing a command, it is an error message.
    if (comm.is_root()) std::fprintf(argc < 2 ? stderr : stdout, "%s\n", kUsage);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    if (comm.is_root()) std::printf("dnmf %s\n", DNMF_VERSION);
    return 0;
  }
  const auto command = commands.find(argv[1]);
  if (command == commands.end()) {
    dnmf::UsageError error(std::string("unknown command '") + argv[1] + "' (see dnmf --help)");
    error.set_on_all_ranks();  // every rank sees the same argv
    throw error;
  }
  dnmf::cli::Invocation invocation;
  invocation.command_line = "dnmf";
  for (int i = 1; i < argc; ++i) invocation.command_line += " " + quote_for_shell(argv[i]);
  invocation.arguments.assign(argv + 2, argv + argc);
  return command->second(invocation, comm);
}

}  // namespace

int main(int argc, char** argv) {
  dnmf::mpi::Environment environment(argc, argv);
  dnmf::mpi::Communicator comm = dnmf::mpi::Communicator::world();
  try {
    dnmf::mpi::check_launch(comm);
    return run(argc, argv, comm);
  } catch (const dnmf::Error& error) {
    if (error.on_all_ranks()) {
      if (comm.is_root()) std::fprintf(stderr, "dnmf: error: %s\n", error.what());
      return error.exit_code();
    }
    std::fprintf(stderr, "dnmf: error on rank %d: %s\n", comm.rank(), error.what());
    MPI_Abort(MPI_COMM_WORLD, error.exit_code());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "dnmf: internal error on rank %d: %s\n", comm.rank(), error.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 1;
}
