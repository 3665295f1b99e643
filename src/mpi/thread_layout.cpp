#include "dnmf/mpi/thread_layout.hpp"

#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/core/threads.hpp"

namespace dnmf::mpi {
namespace {

void check(int code, const char* call) {
  if (code != MPI_SUCCESS) throw MpiError(std::string(call) + " failed");
}

/// The affinity masks of the ranks on this rank's node, this one's at `own`.
std::vector<cpu_set_t> node_masks(Communicator& comm, int& own) {
  MPI_Comm node = MPI_COMM_NULL;
  check(MPI_Comm_split_type(comm.raw(), MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &node),
        "MPI_Comm_split_type");
  int size = 1;
  MPI_Comm_size(node, &size);
  MPI_Comm_rank(node, &own);
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) CPU_ZERO(&mask);
  std::vector<cpu_set_t> masks(static_cast<std::size_t>(size));
  const int code =
      MPI_Allgather(&mask, sizeof mask, MPI_BYTE, masks.data(), sizeof mask, MPI_BYTE, node);
  MPI_Comm_free(&node);
  check(code, "MPI_Allgather");
  return masks;
}

}  // namespace

int default_threads(Communicator& comm) {
  // Collective whatever OMP_NUM_THREADS says on this rank, so ranks never disagree on calling it.
  int own = 0;
  std::vector<cpu_set_t> masks = node_masks(comm, own);
  if (const int threads = threads_from_environment(); threads > 0) {
    return threads;
  }
  const cpu_set_t& mine = masks[static_cast<std::size_t>(own)];
  int sharing = 0;
  for (cpu_set_t& other : masks) {
    cpu_set_t both;
    CPU_AND(&both, &mine, &other);
    if (CPU_COUNT(&both) > 0) ++sharing;
  }
  return std::max(1, CPU_COUNT(&mine) / std::max(1, sharing));
}

std::string describe_layout(Communicator& comm) {
  const int threads = kernel_threads();
  const int fewest = comm.min(threads);
  const int most = comm.max(threads);
  const int ranks = comm.size();
  std::string text = std::to_string(ranks) + (ranks == 1 ? " rank × " : " ranks × ");
  text +=
      fewest == most ? std::to_string(most) : std::to_string(fewest) + "–" + std::to_string(most);
  return text + (most == 1 ? " thread" : " threads");
}

}  // namespace dnmf::mpi
