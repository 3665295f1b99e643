#include "dnmf/mpi/launch_check.hpp"

#include <cstdlib>
#include <string>

#include "dnmf/core/error.hpp"

namespace dnmf::mpi {

void check_launch(const Communicator& world) {
  const char* step_tasks = std::getenv("SLURM_STEP_NUM_TASKS");
  if (step_tasks == nullptr || world.size() != 1) return;
  const long tasks = std::strtol(step_tasks, nullptr, 10);
  if (tasks <= 1) return;
  UsageError error("Slurm started " + std::to_string(tasks) +
                   " tasks but MPI sees a world of 1 rank: each task would run alone and "
                   "overwrite the others' output. Launch with srun --mpi=pmix (see srun "
                   "--mpi=list), or with mpirun inside the allocation.");
  error.set_on_all_ranks();  // every task is rank 0 of its own world: each prints and stops
  throw error;
}

}  // namespace dnmf::mpi
