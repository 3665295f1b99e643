#pragma once
// The subcommands of the dnmf program. Each parses its own options, validates them collectively
// and returns the exit code; errors are thrown as dnmf::Error (see core/error.hpp).

#include <string>
#include <vector>

#include "dnmf/mpi/communicator.hpp"

namespace dnmf::cli {

struct Invocation {
  std::vector<std::string> arguments;  ///< after the subcommand name
  std::string command_line;            ///< the whole command line, for provenance
};

int run_factorize(const Invocation& invocation, mpi::Communicator& comm);
int run_transform(const Invocation& invocation, mpi::Communicator& comm);
int run_generate(const Invocation& invocation, mpi::Communicator& comm);
int run_info(const Invocation& invocation, mpi::Communicator& comm);
int run_train(const Invocation& invocation, mpi::Communicator& comm);
int run_evaluate(const Invocation& invocation, mpi::Communicator& comm);
int run_predict(const Invocation& invocation, mpi::Communicator& comm);
int run_convert(const Invocation& invocation, mpi::Communicator& comm);
int run_sweep(const Invocation& invocation, mpi::Communicator& comm);

}  // namespace dnmf::cli
