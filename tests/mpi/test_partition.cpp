// BlockPartition against a naive count: the blocks tile [0, total) in order, their sizes differ
// by at most one with the larger ones first, empty blocks where parts > total, and counts()
// scales the sizes.

#include <gtest/gtest.h>

#include <cstdint>

#include "dnmf/mpi/partition.hpp"

namespace {

TEST(BlockPartition, TilesTheRangeInBalancedBlocksLargerFirst) {
  for (const std::int64_t total : {0, 1, 7, 10, 1000003}) {
    for (const int parts : {1, 2, 3, 4, 7, 16}) {
      const dnmf::mpi::BlockPartition partition(total, parts);
      std::int64_t next = 0;
      for (int part = 0; part < parts; ++part) {
        // Naive: part p gets floor(total / parts) plus one if p < total % parts.
        const std::int64_t expected = total / parts + (part < total % parts ? 1 : 0);
        EXPECT_EQ(partition.begin(part), next) << total << " over " << parts << ", part " << part;
        EXPECT_EQ(partition.size(part), expected)
            << total << " over " << parts << ", part " << part;
        EXPECT_EQ(partition.end(part), next + expected);
        next += expected;
      }
      EXPECT_EQ(next, total);
    }
  }
}

TEST(BlockPartition, CountsScaleTheSizes) {
  const dnmf::mpi::BlockPartition partition(10, 4);  // 3 3 2 2
  const std::vector<int> counts = partition.counts(5);
  ASSERT_EQ(counts.size(), 4U);
  EXPECT_EQ(counts[0], 15);
  EXPECT_EQ(counts[1], 15);
  EXPECT_EQ(counts[2], 10);
  EXPECT_EQ(counts[3], 10);
}

}  // namespace
