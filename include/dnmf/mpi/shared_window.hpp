#pragma once
// Memory that every rank of a communicator maps, when they all run on one node (an MPI-3 shared
// window). Ranks then exchange data by writing and reading it directly, where messages between
// them copy it (Open MPI's shared-memory transport also pins the sender's pages for every large
// message: CMA, get_user_pages).
//
// A write becomes visible to the other ranks at the next synchronize(); two ranks must not write
// the same bytes between two synchronizations, nor read bytes another rank writes then.

#include <mpi.h>

#include <cstddef>

#include "dnmf/mpi/communicator.hpp"

namespace dnmf::mpi {

class SharedWindow {
 public:
  /// Whether every rank of `comm` runs on one node. Collective.
  static bool on_one_node(const Communicator& comm);
  /// Whether the ranks of `comm` can share memory: all on one node, and MPI makes a shared
  /// window on each (it cannot without a shared-memory one-sided component, e.g. Open MPI run
  /// with `--mca osc ^sm`). Collective; throws MpiError on every rank if MPI made one on some
  /// ranks only.
  static bool available(Communicator& comm);

  /// Maps `bytes` of memory shared by the ranks of `comm` (which must be on_one_node), zeroed.
  /// Collective, as is the destructor. Throws MpiError if MPI cannot make the window.
  SharedWindow(Communicator& comm, std::size_t bytes);
  ~SharedWindow();
  SharedWindow(const SharedWindow&) = delete;
  SharedWindow& operator=(const SharedWindow&) = delete;

  /// The same memory on every rank (at its own address).
  template <class T>
  T* data() const {
    return reinterpret_cast<T*>(memory_);
  }

  /// Makes every rank's writes so far visible to all: a barrier between memory syncs (MPI's
  /// idiom for shared windows). Collective; counted in the communicator's time.
  void synchronize();

 private:
  Communicator& comm_;
  MPI_Win window_ = MPI_WIN_NULL;
  char* memory_ = nullptr;
};

}  // namespace dnmf::mpi
