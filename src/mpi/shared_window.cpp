#include "dnmf/mpi/shared_window.hpp"

#include <cstring>
#include <string>

#include "dnmf/core/error.hpp"

namespace dnmf::mpi {

bool SharedWindow::on_one_node(const Communicator& comm) {
  MPI_Comm node = MPI_COMM_NULL;
  Communicator::check(
      MPI_Comm_split_type(comm.raw(), MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node),
      "MPI_Comm_split_type");
  int size = 0;
  MPI_Comm_size(node, &size);
  MPI_Comm_free(&node);
  return size == comm.size();
}

bool SharedWindow::available(Communicator& comm) {
  if (!on_one_node(comm)) return false;
  void* local = nullptr;
  MPI_Win trial = MPI_WIN_NULL;
  const int made =
      MPI_Win_allocate_shared(1, 1, MPI_INFO_NULL, comm.raw(), &local, &trial) == MPI_SUCCESS;
  const int ranks_made = comm.sum(made);
  if (ranks_made == 0) return false;
  // A rank without the window could not join its collective MPI_Win_free: it stays allocated.
  if (ranks_made < comm.size()) {
    throw MpiError("MPI made a shared window on " + std::to_string(ranks_made) + " of " +
                   std::to_string(comm.size()) + " ranks of one node");
  }
  MPI_Win_free(&trial);
  return true;
}

SharedWindow::SharedWindow(Communicator& comm, std::size_t bytes) : comm_(comm) {
  // Rank 0 holds the whole window; the others map it.
  void* local = nullptr;
  const auto size = static_cast<MPI_Aint>(comm.is_root() ? bytes : 0);
  Communicator::check(MPI_Win_allocate_shared(size, 1, MPI_INFO_NULL, comm.raw(), &local, &window_),
                      "MPI_Win_allocate_shared");
  MPI_Aint root_size = 0;
  int unit = 0;
  Communicator::check(MPI_Win_shared_query(window_, 0, &root_size, &unit, &memory_),
                      "MPI_Win_shared_query");
  Communicator::check(MPI_Win_lock_all(MPI_MODE_NOCHECK, window_), "MPI_Win_lock_all");
  if (comm.is_root()) std::memset(memory_, 0, bytes);
  synchronize();
}

SharedWindow::~SharedWindow() {
  // Every rank is done with the memory before it goes.
  MPI_Win_sync(window_);
  MPI_Barrier(comm_.raw());
  MPI_Win_unlock_all(window_);
  MPI_Win_free(&window_);
}

void SharedWindow::synchronize() {
  const double start = MPI_Wtime();
  Communicator::check(MPI_Win_sync(window_), "MPI_Win_sync");
  Communicator::check(MPI_Barrier(comm_.raw()), "MPI_Barrier");
  Communicator::check(MPI_Win_sync(window_), "MPI_Win_sync");
  comm_.account(MPI_Wtime() - start, 0);
}

}  // namespace dnmf::mpi
