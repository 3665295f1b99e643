#pragma once
// Catches a launch that would run N independent copies: srun started several tasks, but MPI was
// not wired to Slurm (srun without the right --mpi), so every task is rank 0 of a world of one and
// all of them would compute the same thing and overwrite each other's output.

#include "dnmf/mpi/communicator.hpp"

namespace dnmf::mpi {

/// Throws UsageError (with how to launch correctly) when SLURM_STEP_NUM_TASKS > 1 but the MPI
/// world has one rank.
void check_launch(const Communicator& world);

}  // namespace dnmf::mpi
