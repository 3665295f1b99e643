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

}  // namespace
