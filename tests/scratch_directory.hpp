#pragma once
// A scratch directory that every rank of an MPI test shares: rank 0 makes it under /tmp, every
// rank learns its name.

#include <stdlib.h>

#include <string>

#include "dnmf/mpi/communicator.hpp"

namespace testing_support {

inline std::string scratch_directory(dnmf::mpi::Communicator& comm) {
  std::string path;
  if (comm.is_root()) {
    char pattern[] = "/tmp/dnmf-test-XXXXXX";
    path = mkdtemp(pattern);
  }
  comm.broadcast(path, 0);
  return path;
}

}  // namespace testing_support
