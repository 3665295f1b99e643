#pragma once
// MPI start-up and shut-down as one RAII object, created once in main().

namespace dnmf::mpi {

class Environment {
 public:
  Environment(int& argc, char**& argv);
  /// Finalizes MPI; if an exception is still in flight, aborts the whole job instead, so the
  /// other ranks never wait forever in a collective this rank will not join.
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
};

}  // namespace dnmf::mpi
