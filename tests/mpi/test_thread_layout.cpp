// mpi/thread_layout at any rank count: each rank sets its own affinity mask for a scenario (the
// test's own binding, whatever mpirun chose), then default_threads must give what the layout
// says: ranks that share all the CPUs divide them, ranks on a CPU each get one, a rank alone on
// one CPU beside ranks sharing the rest gets one and they divide the rest; OMP_NUM_THREADS wins
// over every mask. describe_layout says "P ranks × T threads", with the range when ranks differ.

#include <gtest/gtest.h>
#include <mpi.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "dnmf/core/threads.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/thread_layout.hpp"

namespace {

using dnmf::mpi::Communicator;

/// Sets OMP_NUM_THREADS (unsets it for nullopt) and this process's affinity mask while it lives,
/// then restores both.
class Scenario {
 public:
  Scenario(const std::optional<std::string>& omp, const std::vector<int>& cpus) {
    if (const char* old = getenv("OMP_NUM_THREADS")) saved_omp_ = old;
    if (omp) {
      setenv("OMP_NUM_THREADS", omp->c_str(), 1);
    } else {
      unsetenv("OMP_NUM_THREADS");
    }
    sched_getaffinity(0, sizeof saved_mask_, &saved_mask_);
    cpu_set_t mask;
    CPU_ZERO(&mask);
    for (const int cpu : cpus) CPU_SET(cpu, &mask);
    EXPECT_EQ(sched_setaffinity(0, sizeof mask, &mask), 0);
  }
  ~Scenario() {
    sched_setaffinity(0, sizeof saved_mask_, &saved_mask_);
    if (saved_omp_) {
      setenv("OMP_NUM_THREADS", saved_omp_->c_str(), 1);
    } else {
      unsetenv("OMP_NUM_THREADS");
    }
  }
  Scenario(const Scenario&) = delete;
  Scenario& operator=(const Scenario&) = delete;

 private:
  std::optional<std::string> saved_omp_;
  cpu_set_t saved_mask_;
};

/// The CPUs this process may be bound to: every online CPU it is allowed (a cpuset may keep some).
std::vector<int> allowed_cpus() {
  cpu_set_t saved;
  sched_getaffinity(0, sizeof saved, &saved);
  cpu_set_t all;
  CPU_ZERO(&all);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  for (int cpu = 0; cpu < online && cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &all);
  sched_setaffinity(0, sizeof all, &all);
  cpu_set_t granted;
  sched_getaffinity(0, sizeof granted, &granted);
  sched_setaffinity(0, sizeof saved, &saved);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &granted)) cpus.push_back(cpu);
  }
  return cpus;
}

/// This rank's place on its node: (index, ranks on the node).
std::pair<int, int> node_place(Communicator& comm) {
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(comm.raw(), MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &node);
  int index = 0, size = 1;
  MPI_Comm_rank(node, &index);
  MPI_Comm_size(node, &size);
  MPI_Comm_free(&node);
  return {index, size};
}

TEST(ThreadLayout, RanksSharingTheirCpusDivideThem) {
  Communicator comm = Communicator::world();
  const std::vector<int> cpus = allowed_cpus();
  const auto [index, ranks] = node_place(comm);
  const Scenario everyone_everywhere(std::nullopt, cpus);
  EXPECT_EQ(dnmf::mpi::default_threads(comm), std::max(1, static_cast<int>(cpus.size()) / ranks));
}

TEST(ThreadLayout, RanksBoundToOneCpuEachRunOne) {
  Communicator comm = Communicator::world();
  const std::vector<int> cpus = allowed_cpus();
  const auto [index, ranks] = node_place(comm);
  const Scenario own_cpu(std::nullopt, {cpus[static_cast<std::size_t>(index) % cpus.size()]});
  EXPECT_EQ(dnmf::mpi::default_threads(comm), 1);
}

TEST(ThreadLayout, ARankAloneBesideRanksSharingTheRest) {
  Communicator comm = Communicator::world();
  const std::vector<int> cpus = allowed_cpus();
  const auto [index, ranks] = node_place(comm);
  if (cpus.size() < 2 || ranks < 2) GTEST_SKIP() << "needs two CPUs and two ranks on the node";
  const std::vector<int> rest(cpus.begin() + 1, cpus.end());
  const Scenario split(std::nullopt, index == 0 ? std::vector<int>{cpus[0]} : rest);
  const int expected = index == 0 ? 1 : std::max(1, static_cast<int>(rest.size()) / (ranks - 1));
  EXPECT_EQ(dnmf::mpi::default_threads(comm), expected);
}

TEST(ThreadLayout, OmpNumThreadsWinsOverTheMask) {
  Communicator comm = Communicator::world();
  const std::vector<int> cpus = allowed_cpus();
  const Scenario told("3", {cpus[0]});
  EXPECT_EQ(dnmf::mpi::default_threads(comm), 3);
}

TEST(ThreadLayout, TheLayoutIsDescribed) {
  Communicator comm = Communicator::world();
  const int p = comm.size();
  const std::string ranks = std::to_string(p) + (p == 1 ? " rank × " : " ranks × ");
  dnmf::set_kernel_threads(1);
  EXPECT_EQ(dnmf::mpi::describe_layout(comm), ranks + "1 thread");
  dnmf::set_kernel_threads(4);
  EXPECT_EQ(dnmf::mpi::describe_layout(comm), ranks + "4 threads");
  if (p > 1) {
    dnmf::set_kernel_threads(comm.rank() == 0 ? 1 : 2);
    EXPECT_EQ(dnmf::mpi::describe_layout(comm), ranks + "1–2 threads");
  }
  dnmf::set_kernel_threads(1);
}

}  // namespace
