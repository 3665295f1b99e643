#pragma once
// How many kernel threads each rank runs by default, from where the ranks are and what they may
// run on: a rank bound to its own cores (mpirun --bind-to core, --map-by ...:PE=N, srun
// --cpus-per-task, taskset) uses the CPUs of its affinity mask; ranks that share their CPUs
// (unbound, or bound to one socket) divide them. One process on a laptop uses every core; one
// rank per node uses the node, with one copy of H, the Grams and the buffers instead of one per
// core.

#include <string>

#include "dnmf/mpi/communicator.hpp"

namespace dnmf::mpi {

/// Collective over `comm`. OMP_NUM_THREADS when set to a positive count; otherwise the CPUs of
/// this rank's affinity mask divided by the ranks of its node (MPI_COMM_TYPE_SHARED) whose masks
/// overlap it, this one included; at least 1.
int default_threads(Communicator& comm);

/// "P ranks × T threads" (or "1 rank × 1 thread"), with the range when ranks differ.
std::string describe_layout(Communicator& comm);

}  // namespace dnmf::mpi
