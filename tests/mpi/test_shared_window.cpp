// mpi/shared_window at any rank count: ranks started by one mpirun on one machine are on one
// node, and a window is mapped zeroed; what each rank writes into its own part is what every
// rank reads after synchronize(), round after round; a window on a split communicator is shared
// by its ranks only; synchronize counts no bytes.

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/shared_window.hpp"

namespace {

using dnmf::mpi::Communicator;
using dnmf::mpi::SharedWindow;

constexpr int kPerRank = 1000;

TEST(SharedWindow, TheRanksOfOneMachineAreOnOneNode) {
  Communicator world = Communicator::world();
  EXPECT_TRUE(SharedWindow::on_one_node(world));
  Communicator self = Communicator::self();
  EXPECT_TRUE(SharedWindow::on_one_node(self));
}

TEST(SharedWindow, WritesOfEachRankAreReadByAllAfterSynchronize) {
  Communicator world = Communicator::world();
  if (!SharedWindow::available(world)) GTEST_SKIP() << "MPI has no shared-memory windows here";
  const int p = world.size();
  const auto total = static_cast<std::size_t>(p * kPerRank);
  SharedWindow window(world, total * sizeof(std::int64_t));
  std::int64_t* shared = window.data<std::int64_t>();
  for (std::size_t i = 0; i < total; ++i) ASSERT_EQ(shared[i], 0) << "zeroed at " << i;
  window.synchronize();  // nobody writes before every rank has seen the zeros
  const std::uint64_t bytes = world.bytes_in_collectives();
  for (int round = 1; round <= 3; ++round) {
    // Each round, rank r writes its part; then every rank reads every part.
    for (int i = 0; i < kPerRank; ++i)
      shared[world.rank() * kPerRank + i] = round * 1000000 + world.rank() * 1000 + i;
    window.synchronize();
    for (int q = 0; q < p; ++q)
      for (int i = 0; i < kPerRank; ++i)
        ASSERT_EQ(shared[q * kPerRank + i], round * 1000000 + q * 1000 + i)
            << "round " << round << ", rank " << q << "'s value " << i;
    window.synchronize();  // every rank has read before the next round writes
  }
  EXPECT_EQ(world.bytes_in_collectives(), bytes) << "a synchronization moves no data";
  EXPECT_GE(world.seconds_in_collectives(), 0.0);
}

TEST(SharedWindow, ASplitCommunicatorSharesAmongItsRanksOnly) {
  Communicator world = Communicator::world();
  MPI_Comm half = MPI_COMM_NULL;
  ASSERT_EQ(MPI_Comm_split(world.raw(), world.rank() % 2, world.rank(), &half), MPI_SUCCESS);
  {
    Communicator part(half);
    if (SharedWindow::available(part)) {
      SharedWindow window(part, sizeof(double) * static_cast<std::size_t>(part.size()));
      double* shared = window.data<double>();
      shared[part.rank()] = 10.0 * (world.rank() % 2) + part.rank();
      window.synchronize();
      for (int q = 0; q < part.size(); ++q) EXPECT_EQ(shared[q], 10.0 * (world.rank() % 2) + q);
    }
  }
  MPI_Comm_free(&half);
  // Both halves are done with their windows before the world goes on.
  world.barrier();
}

TEST(SharedWindow, WindowsComeAndGoOneAfterAnother) {
  Communicator world = Communicator::world();
  if (!SharedWindow::available(world)) GTEST_SKIP() << "MPI has no shared-memory windows here";
  for (int i = 1; i <= 5; ++i) {
    SharedWindow window(world, static_cast<std::size_t>(i) * 4096);
    char* bytes = window.data<char>();
    if (world.is_root()) bytes[i * 4096 - 1] = static_cast<char>(i);
    window.synchronize();
    EXPECT_EQ(bytes[i * 4096 - 1], static_cast<char>(i));
    EXPECT_EQ(bytes[0], 0);
  }
}

}  // namespace
