// mpi::RankGroups at any rank count: every count from 1 to the ranks gives groups of consecutive
// ranks whose sizes are BlockPartition's (counted naively here), each rank's group communicator
// holds exactly the ranks of its group in order, and a sum over it adds those ranks only.

#include <gtest/gtest.h>

#include <stdexcept>

#include "dnmf/mpi/rank_groups.hpp"

namespace {

using dnmf::mpi::Communicator;
using dnmf::mpi::RankGroups;

TEST(RankGroups, ConsecutiveRanksInBalancedGroups) {
  Communicator world = Communicator::world();
  const int ranks = world.size();
  for (int count = 1; count <= ranks; ++count) {
    RankGroups groups(world, count);
    // Naive: group g has ranks / count ranks, one more for g < ranks % count, in rank order.
    int first = 0;
    int expected_group = 0;
    int expected_size = 0;
    for (int g = 0; g < count; ++g) {
      const int size = ranks / count + (g < ranks % count ? 1 : 0);
      if (world.rank() >= first && world.rank() < first + size) {
        expected_group = g;
        expected_size = size;
        break;
      }
      first += size;
    }
    EXPECT_EQ(groups.count(), count);
    EXPECT_EQ(groups.index(), expected_group) << count << " groups";
    EXPECT_EQ(groups.group().size(), expected_size) << count << " groups";
    EXPECT_EQ(groups.group().rank(), world.rank() - first) << count << " groups";
    // The sum of the world ranks of the group: first + (first + 1) + ... over its size.
    const int sum = groups.group().sum(world.rank());
    EXPECT_EQ(sum, expected_size * first + expected_size * (expected_size - 1) / 2);
  }
}

TEST(RankGroups, ACountOutOfRangeIsRefusedBeforeAnySplit) {
  Communicator world = Communicator::world();
  EXPECT_THROW(RankGroups(world, 0), std::invalid_argument);
  EXPECT_THROW(RankGroups(world, world.size() + 1), std::invalid_argument);
}

TEST(RankGroups, DefaultCountHoldsACopyOfTheInputWithinTheBudget) {
  using dnmf::mpi::default_group_count;
  EXPECT_EQ(default_group_count(8, 100, 1e9, 4e9), 8) << "A fits on every rank";
  EXPECT_EQ(default_group_count(8, 3, 1e9, 4e9), 3) << "no more groups than tasks";
  EXPECT_EQ(default_group_count(8, 100, 1e9, 0.5e9), 4) << "two ranks hold one copy";
  EXPECT_EQ(default_group_count(8, 100, 1e9, 0.3e9), 2) << "four ranks (ceil 3.3) a copy";
  EXPECT_EQ(default_group_count(8, 100, 1e9, 0.1e9), 1) << "more than all ranks: one group";
  EXPECT_EQ(default_group_count(8, 100, 1e9, 0.0), 1) << "unknown memory: one group";
  EXPECT_EQ(default_group_count(3, 100, 1e9, 0.6e9), 1) << "2 ranks a copy: 3 / 2 = 1 group";
}

TEST(RankGroups, MemoryBudgetIsTheLeastOverRanksAndPositiveOnLinux) {
  Communicator world = Communicator::world();
  const double budget = dnmf::mpi::memory_budget_per_rank(world);
  EXPECT_GT(budget, 0);
  EXPECT_EQ(world.max(budget), budget) << "the same on every rank";
}

}  // namespace
