#include "dnmf/nn/epoch_schedule.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/mpi/partition.hpp"

namespace dnmf::nn {
EpochSchedule::EpochSchedule(Index samples, Index batch_size, int ranks, int rank, Shuffle shuffle,
                             std::uint64_t seed)
    : samples_(samples),
      batch_size_(batch_size),
      ranks_(ranks),
      rank_(rank),
      shuffle_(shuffle),
      seed_(seed) {
  if (samples < 1) throw InputError("no samples to train on");
  if (batch_size < ranks) {
    throw InputError("the global batch size " + std::to_string(batch_size) +
                     " is smaller than the number of ranks " + std::to_string(ranks));
  }
  local_begin_.push_back(0);
  if (shuffle == Shuffle::Global) {
    for (Index first = 0; first < samples; first += batch_size) {
      const Index count = std::min(batch_size, samples - first);
      const Index mine = mpi::BlockPartition(count, ranks).size(rank);
      global_count_.push_back(count);
      local_begin_.push_back(local_begin_.back() + mine);
      max_local_batch_ = std::max(max_local_batch_, mine);
    }
    return;
  }
  // Local: every rank walks its shard b_r samples a step; the epoch ends with the longest walk.
  const mpi::BlockPartition shards(samples, ranks);
  const mpi::BlockPartition shares(batch_size, ranks);
  Index steps = 0;
  for (int r = 0; r < ranks; ++r) {
    steps = std::max(steps, (shards.size(r) + shares.size(r) - 1) / shares.size(r));
  }
  for (Index step = 0; step < steps; ++step) {
    Index count = 0;
    for (int r = 0; r < ranks; ++r) {
      const Index taken =
          std::clamp<Index>(shards.size(r) - step * shares.size(r), 0, shares.size(r));
      count += taken;
      if (r == rank) local_begin_.push_back(local_begin_.back() + taken);
    }
    global_count_.push_back(count);
  }
  max_local_batch_ = std::min<Index>(shares.size(rank), shards.size(rank));
}

std::vector<std::int64_t> EpochSchedule::permutation(std::int64_t first, std::int64_t count,
                                                     std::int64_t epoch,
                                                     std::uint64_t stream) const {
  std::seed_seq sequence{static_cast<std::uint32_t>(seed_), static_cast<std::uint32_t>(seed_ >> 32),
                         static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(stream)};
  std::mt19937_64 engine(sequence);
  std::vector<std::int64_t> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), first);
  for (std::int64_t i = count - 1; i > 0; --i) {  // Fisher-Yates; modulo bias < 2^-40
    const auto j = static_cast<std::int64_t>(engine() % static_cast<std::uint64_t>(i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

std::vector<std::int64_t> EpochSchedule::local_order(std::int64_t epoch) const {
  if (shuffle_ == Shuffle::Local) {
    const mpi::BlockPartition shards(samples_, ranks_);
    return permutation(shards.begin(rank_), shards.size(rank_), epoch,
                       static_cast<std::uint64_t>(rank_) + 1);
  }
  const std::vector<std::int64_t> global = permutation(0, samples_, epoch, 0);
  std::vector<std::int64_t> order;
  order.reserve(static_cast<std::size_t>(local_samples()));
  for (Index step = 0; step < steps(); ++step) {
    const mpi::BlockPartition blocks(global_count(step), ranks_);
    const auto first = global.begin() + step * batch_size_ + blocks.begin(rank_);
    order.insert(order.end(), first, first + blocks.size(rank_));
  }
  return order;
}

}  // namespace dnmf::nn
