#pragma once
// How the samples of one epoch are dealt to the ranks of a data-parallel run: which samples a
// rank needs (so it reads only those), and which of them form its part of each global batch.
//
//   Global shuffle: a permutation of the N samples, a pure function of (seed, epoch), is cut
//     into global batches of B samples (the last one shorter); each batch is split into p
//     balanced blocks, block r for rank r. Every rank count sees the same global batches, so
//     1 and p ranks take the same steps (up to the order of the gradient sums).
//   Local shuffle: rank r owns the balanced block r of [0, N) (a contiguous shard, read
//     contiguously) and shuffles it by (seed, epoch, rank); each step it takes its next b_r
//     samples, b_r being its balanced share of B. The global batches then depend on p.
//
// A rank's samples an epoch, and its count a step, are the same every epoch: buffers are sized
// once. Permutations use std::seed_seq and std::mt19937_64 (both fixed by the C++ standard) and a
// Fisher-Yates shuffle written here, so a seed gives the same order with every standard library.

#include <cstdint>
#include <string>
#include <vector>

#include "dnmf/core/named_values.hpp"
#include "dnmf/nn/tensor.hpp"

namespace dnmf::nn {

enum class Shuffle { Global, Local };
inline constexpr NamedValue<Shuffle> kShuffleNames[] = {{Shuffle::Global, "global"},
                                                        {Shuffle::Local, "local"}};

class EpochSchedule {
 public:
  /// Throws InputError unless samples >= 1 and ranks <= batch_size.
  EpochSchedule(Index samples, Index batch_size, int ranks, int rank, Shuffle shuffle,
                std::uint64_t seed);

  /// Global batches (optimizer steps) an epoch.
  Index steps() const { return static_cast<Index>(global_count_.size()); }
  /// This rank's samples an epoch.
  Index local_samples() const { return local_begin_.back(); }
  /// The largest part of a global batch that this rank gets.
  Index max_local_batch() const { return max_local_batch_; }
  /// Step `step`'s samples on this rank are local_order[local_begin(step) + i], i < local_count.
  Index local_begin(Index step) const { return local_begin_[static_cast<std::size_t>(step)]; }
  Index local_count(Index step) const {
    return local_begin_[static_cast<std::size_t>(step) + 1] - local_begin(step);
  }
  /// Samples in the global batch of `step`, over all ranks.
  Index global_count(Index step) const { return global_count_[static_cast<std::size_t>(step)]; }

  /// This rank's sample indices of `epoch` in the order of its steps (local_samples() values).
  std::vector<std::int64_t> local_order(std::int64_t epoch) const;

 private:
  /// A permutation of [first, first + count) from (seed, epoch, stream).
  std::vector<std::int64_t> permutation(std::int64_t first, std::int64_t count, std::int64_t epoch,
                                        std::uint64_t stream) const;

  Index samples_;
  Index batch_size_;
  int ranks_;
  int rank_;
  Shuffle shuffle_;
  std::uint64_t seed_;
  Index max_local_batch_ = 0;
  std::vector<Index> local_begin_;   // steps() + 1 offsets into the local order
  std::vector<Index> global_count_;  // steps() batch sizes
};

}  // namespace dnmf::nn
