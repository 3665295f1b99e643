#include "dnmf/mpi/environment.hpp"

#include <mpi.h>

#include <exception>

#include "dnmf/core/error.hpp"
#include "dnmf/core/threads.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/thread_layout.hpp"

namespace dnmf::mpi {

Environment::Environment(int& argc, char**& argv) {
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    throw MpiError("MPI_Init_thread failed");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  // Before any kernel runs: the BLAS would otherwise start one thread per core on every rank.
  Communicator world(MPI_COMM_WORLD);
  set_kernel_threads(default_threads(world));
}

Environment::~Environment() {
  if (std::uncaught_exceptions() > 0) {
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
}

}  // namespace dnmf::mpi
