// mpi/launch_check at any rank count: SLURM_STEP_NUM_TASKS above 1 with a world of one rank
// (each task alone) is a UsageError marked on all ranks naming the task count; one task, no
// Slurm, an unparsable count, or a world of several ranks pass.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>
#include <string>

#include "dnmf/core/error.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/launch_check.hpp"

namespace {

using dnmf::mpi::Communicator;

/// Sets SLURM_STEP_NUM_TASKS (unsets for nullopt) while it lives, then restores it.
class StepTasks {
 public:
  explicit StepTasks(const std::optional<std::string>& value) {
    if (const char* old = getenv("SLURM_STEP_NUM_TASKS")) saved_ = old;
    if (value) {
      setenv("SLURM_STEP_NUM_TASKS", value->c_str(), 1);
    } else {
      unsetenv("SLURM_STEP_NUM_TASKS");
    }
  }
  ~StepTasks() {
    if (saved_) {
      setenv("SLURM_STEP_NUM_TASKS", saved_->c_str(), 1);
    } else {
      unsetenv("SLURM_STEP_NUM_TASKS");
    }
  }
  StepTasks(const StepTasks&) = delete;
  StepTasks& operator=(const StepTasks&) = delete;

 private:
  std::optional<std::string> saved_;
};

TEST(LaunchCheck, WithoutSlurmEveryLaunchPasses) {
  const StepTasks tasks(std::nullopt);
  EXPECT_NO_THROW(dnmf::mpi::check_launch(Communicator::world()));
  EXPECT_NO_THROW(dnmf::mpi::check_launch(Communicator::self()));
}

TEST(LaunchCheck, OneTaskOrAnUnreadableCountPasses) {
  for (const char* value : {"1", "0", "", "many"}) {
    const StepTasks tasks(std::string{value});
    EXPECT_NO_THROW(dnmf::mpi::check_launch(Communicator::self())) << "'" << value << "'";
  }
}

TEST(LaunchCheck, SeveralTasksInAWorldOfOneAreAUsageErrorOnEveryTask) {
  const StepTasks tasks(std::string("4"));
  // Communicator::self is the world each task sees when MPI is not wired to Slurm.
  try {
    dnmf::mpi::check_launch(Communicator::self());
    FAIL() << "no error";
  } catch (const dnmf::UsageError& error) {
    EXPECT_TRUE(error.on_all_ranks()) << "every task prints and stops on its own";
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("Slurm started 4 tasks but MPI sees a world of 1 rank", 0), 0u)
        << message;
    EXPECT_NE(message.find("srun --mpi=pmix"), std::string::npos) << message;
  }
}

TEST(LaunchCheck, AWorldOfSeveralRanksPasses) {
  Communicator world = Communicator::world();
  const StepTasks tasks(std::to_string(world.size()));
  // A world as large as the step (of one rank for one task) is a launch wired to Slurm.
  EXPECT_NO_THROW(dnmf::mpi::check_launch(world));
  // The check itself is local: the ranks still meet in the next collective.
  EXPECT_EQ(world.sum(1), world.size());
}

}  // namespace
