// mpi/communicator at any rank count: every collective against a naive computation of what each
// rank must end with, from values that are a known function of the rank (sums, minima and
// maxima of each element type, reduce-scatter and allgather over uneven blocks with empty ones,
// the ring variants over blocks laid out with gaps, gather_all, broadcasts of strings and
// arrays from every root); a split communicator; the byte accounting; MPI error codes and
// counts beyond int as MpiError.

#include <gtest/gtest.h>
#include <mpi.h>

#include <climits>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/mpi/communicator.hpp"

namespace {

using dnmf::mpi::Communicator;

/// The value rank `rank` contributes at position `i`: distinct per rank and position, integer
/// valued so that float sums are exact.
double value(int rank, std::int64_t i) { return static_cast<double>(100 * rank + i % 97 + 1); }

/// Uneven blocks, one per rank, some empty: rank r's block has (r * 3 + 2) % 5 values.
std::vector<int> uneven_counts(int ranks) {
  std::vector<int> counts;
  for (int r = 0; r < ranks; ++r) counts.push_back((r * 3 + 2) % 5);
  return counts;
}

std::vector<int> offsets_of(const std::vector<int>& counts) {
  std::vector<int> offsets(counts.size(), 0);
  std::partial_sum(counts.begin(), counts.end() - 1, offsets.begin() + 1);
  return offsets;
}

template <class T>
void expect_scalar_reductions(Communicator& comm) {
  const int p = comm.size();
  const int r = comm.rank();
  // Rank r holds 7 - 2r (negative beyond rank 3 for signed types) or, unsigned, 10 + 3r.
  const auto mine = [](int rank) {
    if constexpr (std::is_unsigned_v<T>) {
      return static_cast<T>(10 + 3 * rank);
    } else {
      return static_cast<T>(7 - 2 * rank);
    }
  };
  T sum = 0, low = mine(0), high = mine(0);
  for (int q = 0; q < p; ++q) {
    sum += mine(q);
    low = std::min(low, mine(q));
    high = std::max(high, mine(q));
  }
  EXPECT_EQ(comm.sum(mine(r)), sum);
  EXPECT_EQ(comm.min(mine(r)), low);
  EXPECT_EQ(comm.max(mine(r)), high);
}

TEST(Communicator, WorldHasTheRankAndSizeOfMpi) {
  Communicator world = Communicator::world();
  int rank = -1, size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(world.rank(), rank);
  EXPECT_EQ(world.size(), size);
  EXPECT_EQ(world.is_root(), rank == 0);
  EXPECT_EQ(world.raw(), MPI_COMM_WORLD);
  Communicator self = Communicator::self();
  EXPECT_EQ(self.rank(), 0);
  EXPECT_EQ(self.size(), 1);
  EXPECT_TRUE(self.is_root());
  EXPECT_EQ(self.sum(5.5), 5.5);
}

TEST(Communicator, ScalarSumMinAndMaxOfEveryType) {
  Communicator world = Communicator::world();
  expect_scalar_reductions<double>(world);
  expect_scalar_reductions<float>(world);
  expect_scalar_reductions<std::int32_t>(world);
  expect_scalar_reductions<std::int64_t>(world);
  expect_scalar_reductions<std::uint64_t>(world);
  // Beyond 32 bits: each rank adds 2^40 + rank.
  const std::int64_t big = std::int64_t{1} << 40;
  std::int64_t expected = 0;
  for (int q = 0; q < world.size(); ++q) expected += big + q;
  EXPECT_EQ(world.sum(big + world.rank()), expected);
}

TEST(Communicator, AllreduceSumOfArraysOfSeveralLengths) {
  Communicator world = Communicator::world();
  for (const std::int64_t count : {0, 1, 5, 1000}) {
    std::vector<double> data(static_cast<std::size_t>(count));
    std::vector<float> single(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
      data[static_cast<std::size_t>(i)] = value(world.rank(), i);
      single[static_cast<std::size_t>(i)] = static_cast<float>(value(world.rank(), i));
    }
    world.allreduce_sum(data.data(), count);
    world.allreduce_sum(single.data(), count);
    for (std::int64_t i = 0; i < count; ++i) {
      double expected = 0;
      for (int q = 0; q < world.size(); ++q) expected += value(q, i);
      EXPECT_EQ(data[static_cast<std::size_t>(i)], expected) << count << " values, at " << i;
      EXPECT_EQ(single[static_cast<std::size_t>(i)], static_cast<float>(expected));
    }
  }
}

TEST(Communicator, ReduceScatterGivesEachRankItsBlockOfTheSum) {
  Communicator world = Communicator::world();
  const std::vector<int> counts = uneven_counts(world.size());
  const std::vector<int> offsets = offsets_of(counts);
  const int total = std::accumulate(counts.begin(), counts.end(), 0);
  std::vector<double> send(static_cast<std::size_t>(total));
  for (int i = 0; i < total; ++i) send[static_cast<std::size_t>(i)] = value(world.rank(), i);
  const int mine = counts[static_cast<std::size_t>(world.rank())];
  std::vector<double> receive(static_cast<std::size_t>(mine) + 1, -1.0);
  world.reduce_scatter_sum(send.data(), receive.data(), counts);
  for (int i = 0; i < mine; ++i) {
    const int global = offsets[static_cast<std::size_t>(world.rank())] + i;
    double expected = 0;
    for (int q = 0; q < world.size(); ++q) expected += value(q, global);
    EXPECT_EQ(receive[static_cast<std::size_t>(i)], expected) << "position " << global;
  }
  EXPECT_EQ(receive[static_cast<std::size_t>(mine)], -1.0) << "nothing past the block";
}

TEST(Communicator, AllgatherInPlaceGivesEveryRankEveryBlock) {
  Communicator world = Communicator::world();
  const std::vector<int> counts = uneven_counts(world.size());
  const std::vector<int> offsets = offsets_of(counts);
  const int total = std::accumulate(counts.begin(), counts.end(), 0);
  std::vector<double> data(static_cast<std::size_t>(total), -1.0);
  std::vector<std::int64_t> integers(static_cast<std::size_t>(total), -1);
  const auto r = static_cast<std::size_t>(world.rank());
  for (int i = 0; i < counts[r]; ++i) {
    data[static_cast<std::size_t>(offsets[r] + i)] = value(world.rank(), i);
    integers[static_cast<std::size_t>(offsets[r] + i)] = world.rank() * 1000 + i;
  }
  world.allgather_in_place(data.data(), counts);
  world.allgather_in_place(integers.data(), counts);
  for (int q = 0; q < world.size(); ++q) {
    for (int i = 0; i < counts[static_cast<std::size_t>(q)]; ++i) {
      const auto at = static_cast<std::size_t>(offsets[static_cast<std::size_t>(q)] + i);
      EXPECT_EQ(data[at], value(q, i)) << "block " << q << ", value " << i;
      EXPECT_EQ(integers[at], q * 1000 + i);
    }
  }
}

/// Blocks of `counts` laid out in reverse rank order with a gap of two values before each.
std::vector<int> gapped_displacements(const std::vector<int>& counts, int* length) {
  std::vector<int> displacements(counts.size());
  int next = 0;
  for (std::size_t b = counts.size(); b-- > 0;) {
    next += 2;
    displacements[b] = next;
    next += counts[b];
  }
  *length = next + 2;
  return displacements;
}

template <class T>
void expect_ring_reduce_scatter(Communicator& comm) {
  const std::vector<int> counts = {3, 0, 5, 1, 4, 2, 6},
                         all(counts.begin(), counts.begin() + comm.size());
  int length = 0;
  const std::vector<int> displacements = gapped_displacements(all, &length);
  constexpr T kGap = -7;
  std::vector<T> data(static_cast<std::size_t>(length), kGap);
  for (std::size_t b = 0; b < all.size(); ++b)
    for (int i = 0; i < all[b]; ++i)
      data[static_cast<std::size_t>(displacements[b] + i)] =
          static_cast<T>(value(comm.rank(), displacements[b] + i));
  std::vector<T> scratch(static_cast<std::size_t>(*std::max_element(all.begin(), all.end()) + 1));
  comm.ring_reduce_scatter_sum(data.data(), all, displacements, scratch.data());
  const auto r = static_cast<std::size_t>(comm.rank());
  for (int i = 0; i < all[r]; ++i) {
    const int at = displacements[r] + i;
    double expected = 0;
    for (int q = 0; q < comm.size(); ++q) expected += value(q, at);
    EXPECT_EQ(data[static_cast<std::size_t>(at)], static_cast<T>(expected)) << "position " << at;
  }
  // The gaps between blocks are never written.
  for (std::size_t b = 0; b < all.size(); ++b) {
    EXPECT_EQ(data[static_cast<std::size_t>(displacements[b] - 1)], kGap);
    EXPECT_EQ(data[static_cast<std::size_t>(displacements[b] - 2)], kGap);
  }
  EXPECT_EQ(data.back(), kGap);
}

TEST(Communicator, RingReduceScatterSumsEachBlockOnItsRank) {
  Communicator world = Communicator::world();
  expect_ring_reduce_scatter<double>(world);
  expect_ring_reduce_scatter<float>(world);
}

template <class T>
void expect_ring_allgather(Communicator& comm) {
  const std::vector<int> counts = {2, 5, 0, 3, 1, 4, 6},
                         all(counts.begin(), counts.begin() + comm.size());
  int length = 0;
  const std::vector<int> displacements = gapped_displacements(all, &length);
  constexpr T kGap = -7;
  std::vector<T> data(static_cast<std::size_t>(length), kGap);
  const auto r = static_cast<std::size_t>(comm.rank());
  for (int i = 0; i < all[r]; ++i)
    data[static_cast<std::size_t>(displacements[r] + i)] = static_cast<T>(value(comm.rank(), i));
  comm.ring_allgather(data.data(), all, displacements);
  for (std::size_t b = 0; b < all.size(); ++b) {
    for (int i = 0; i < all[b]; ++i)
      EXPECT_EQ(data[static_cast<std::size_t>(displacements[b] + i)],
                static_cast<T>(value(static_cast<int>(b), i)))
          << "block " << b << ", value " << i;
    EXPECT_EQ(data[static_cast<std::size_t>(displacements[b] - 1)], kGap);
    EXPECT_EQ(data[static_cast<std::size_t>(displacements[b] - 2)], kGap);
  }
  EXPECT_EQ(data.back(), kGap);
}

TEST(Communicator, RingAllgatherGivesEveryRankEveryBlock) {
  Communicator world = Communicator::world();
  expect_ring_allgather<double>(world);
  expect_ring_allgather<float>(world);
  expect_ring_allgather<std::int32_t>(world);
}

TEST(Communicator, GatherAllIsEveryRanksValueInRankOrder) {
  Communicator world = Communicator::world();
  const std::vector<double> values = world.gather_all(0.25 * world.rank() - 1);
  ASSERT_EQ(static_cast<int>(values.size()), world.size());
  for (int q = 0; q < world.size(); ++q)
    EXPECT_EQ(values[static_cast<std::size_t>(q)], 0.25 * q - 1);
}

TEST(Communicator, BroadcastOfAStringFromEveryRoot) {
  Communicator world = Communicator::world();
  for (int root = 0; root < world.size(); ++root) {
    // The root's text: empty from rank 1, long from rank 2, with a NUL inside from the others.
    const auto text_of = [](int rank) {
      if (rank == 1) return std::string();
      if (rank == 2) return std::string(100000, 'x') + "end";
      return "from rank " + std::to_string(rank) + std::string(1, '\0') + "after";
    };
    // Every other rank starts with a longer text that must be replaced entirely.
    std::string text = world.rank() == root ? text_of(root) : std::string(200000, '?');
    world.broadcast(text, root);
    EXPECT_EQ(text, text_of(root)) << "root " << root;
  }
}

TEST(Communicator, BroadcastOfArraysFromEveryRoot) {
  Communicator world = Communicator::world();
  for (int root = 0; root < world.size(); ++root) {
    std::vector<std::int64_t> integers(6, world.rank());
    std::vector<double> doubles(4, 0.5 * world.rank());
    if (world.rank() == root) {
      for (std::size_t i = 0; i < integers.size(); ++i)
        integers[i] = (std::int64_t{1} << 50) + root * 10 + static_cast<std::int64_t>(i);
    }
    world.broadcast(integers.data(), static_cast<std::int64_t>(integers.size()), root);
    world.broadcast(doubles.data(), static_cast<std::int64_t>(doubles.size()), root);
    for (std::size_t i = 0; i < integers.size(); ++i)
      EXPECT_EQ(integers[i], (std::int64_t{1} << 50) + root * 10 + static_cast<std::int64_t>(i));
    for (const double d : doubles) EXPECT_EQ(d, 0.5 * root);
  }
  world.barrier();
}

TEST(Communicator, ASplitCommunicatorReducesOverItsOwnRanksOnly) {
  Communicator world = Communicator::world();
  MPI_Comm half = MPI_COMM_NULL;
  ASSERT_EQ(MPI_Comm_split(world.raw(), world.rank() % 2, world.rank(), &half), MPI_SUCCESS);
  {
    Communicator part(half);
    int expected_size = 0;
    std::int64_t expected_sum = 0;
    for (int q = world.rank() % 2; q < world.size(); q += 2) {
      ++expected_size;
      expected_sum += q;
    }
    EXPECT_EQ(part.size(), expected_size);
    EXPECT_EQ(part.rank(), world.rank() / 2);
    EXPECT_EQ(part.sum(std::int64_t{world.rank()}), expected_sum);
    std::string text = part.is_root() ? "half " + std::to_string(world.rank() % 2) : "";
    part.broadcast(text, 0);
    EXPECT_EQ(text, "half " + std::to_string(world.rank() % 2));
  }
  MPI_Comm_free(&half);
}

TEST(Communicator, BytesAreTheBandwidthOptimalVolumePerRank) {
  Communicator world = Communicator::world();
  Communicator fresh(world.raw());
  EXPECT_EQ(fresh.bytes_in_collectives(), 0u);
  EXPECT_EQ(fresh.seconds_in_collectives(), 0.0);
  const double p = fresh.size();
  // Ring allreduce: 2(p - 1)/p of 12 doubles.
  std::vector<double> twelve(12, 1.0);
  fresh.allreduce_sum(twelve.data(), 12);
  const double allreduce_bytes = 2 * (p - 1) / p * 96;
  EXPECT_NEAR(static_cast<double>(fresh.bytes_in_collectives()), allreduce_bytes, 1.0);
  // Allgather: (p - 1)/p of all blocks, 4 floats a rank.
  std::vector<float> gathered(static_cast<std::size_t>(4 * fresh.size()), 1.0f);
  fresh.allgather_in_place(gathered.data(), std::vector<int>(static_cast<std::size_t>(p), 4));
  const double allgather_bytes = (p - 1) / p * 16 * p;
  EXPECT_NEAR(static_cast<double>(fresh.bytes_in_collectives()), allreduce_bytes + allgather_bytes,
              2.0);
  // An exchange made elsewhere is added as given.
  const std::uint64_t before = fresh.bytes_in_collectives();
  const double seconds = fresh.seconds_in_collectives();
  EXPECT_GE(seconds, 0.0);
  fresh.account(1.5, 1000);
  EXPECT_EQ(fresh.bytes_in_collectives(), before + 1000);
  EXPECT_EQ(fresh.seconds_in_collectives(), seconds + 1.5);
  if (fresh.size() == 1) {
    EXPECT_EQ(before, 0u) << "nothing crosses on one rank";
  }
  // The world's own account is untouched by the other wrapper's collectives.
  EXPECT_EQ(world.bytes_in_collectives(), 0u);
}

TEST(Communicator, AnErrorCodeBecomesAnMpiErrorWithMpisText) {
  EXPECT_NO_THROW(Communicator::check(MPI_SUCCESS, "MPI_Nothing"));
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(MPI_ERR_COUNT, text, &length);
  try {
    Communicator::check(MPI_ERR_COUNT, "MPI_Something");
    FAIL() << "no error";
  } catch (const dnmf::MpiError& error) {
    EXPECT_EQ(std::string(error.what()),
              "MPI_Something failed: " + std::string(text, static_cast<std::size_t>(length)));
    EXPECT_EQ(error.kind(), dnmf::ErrorKind::Mpi);
  }
}

TEST(Communicator, CountsBeyondIntAreRefusedBeforeMpiSeesThem) {
  Communicator world = Communicator::world();
  double one = 1;
  try {
    world.allreduce_sum(&one, std::int64_t{INT_MAX} + 1);
    FAIL() << "no error";
  } catch (const dnmf::MpiError& error) {
    EXPECT_EQ(std::string(error.what()),
              "a collective of 2147483648 values exceeds MPI's int counts");
  }
  EXPECT_THROW(world.broadcast(&one, -1, 0), dnmf::MpiError);
  EXPECT_EQ(one, 1.0);
  // Every rank refused alike: the next collective still matches.
  EXPECT_EQ(world.sum(1), world.size());
}

}  // namespace
