#pragma once
// A scratch directory that every rank of an MPI test shares: rank 0 makes it under /tmp, every
// rank learns its name, and rank 0 removes it with all it holds when the test program ends.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "dnmf/mpi/communicator.hpp"

namespace testing_support {

/// The directories this process made, removed when the program ends.
class MadeDirectories {
 public:
  ~MadeDirectories() {
    for (const std::string& path : paths_) {
      std::error_code ignored;  // a test that removed its own directory leaves nothing to do
      std::filesystem::remove_all(path, ignored);
    }
  }
  void add(const std::string& path) { paths_.push_back(path); }

 private:
  std::vector<std::string> paths_;
};

inline MadeDirectories& made_directories() {
  static MadeDirectories directories;
  return directories;
}

inline std::string scratch_directory(dnmf::mpi::Communicator& comm) {
  std::string path;
  if (comm.is_root()) {
    char pattern[] = "/tmp/dnmf-test-XXXXXX";
    path = mkdtemp(pattern);
    made_directories().add(path);
  }
  comm.broadcast(path, 0);
  return path;
}

}  // namespace testing_support
