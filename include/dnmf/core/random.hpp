#pragma once
// Counter-based random numbers: every value is a pure function of (seed, stream, row, column),
// so a matrix initialised on p ranks equals the one initialised on one rank, entry for entry.

#include <cstdint>

namespace dnmf {

/// Which matrix a random value belongs to; part of the counter so factors are independent.
enum class RandomStream : std::uint64_t {
  W = 1,
  H = 2,
  Noise = 3,
  TrueW = 4,
  TrueH = 5,
  Sketch = 6,          ///< the test matrix of the randomized SVD (nmf/truncated_svd.hpp)
  KMeans = 7,          ///< the k-means++ starts of the consensus (nmf/consensus.hpp)
  HeldOutRows = 8,     ///< the row bins of the held-out set (nmf/entry_mask.hpp)
  HeldOutColumns = 9,  ///< its column bins
};

/// Uniform in [0, 1), 53 random bits.
double counter_uniform(std::uint64_t seed, RandomStream stream, std::uint64_t row,
                       std::uint64_t col);

/// N(0, 1), a standard normal (Box-Muller on two counter uniforms).
double counter_normal(std::uint64_t seed, RandomStream stream, std::uint64_t row,
                      std::uint64_t col);

/// |N(0, 1)|: the absolute value of a standard normal.
double counter_half_normal(std::uint64_t seed, RandomStream stream, std::uint64_t row,
                           std::uint64_t col);

/// A Poisson count of mean `mean` (>= 0, finite): inversion of the distribution function below
/// a mean of 10, Hörmann's transformed rejection (PTRS) above it; the further uniforms a value
/// needs are the counter's bits mixed again, so it is still a pure function of the counter.
double counter_poisson(std::uint64_t seed, RandomStream stream, std::uint64_t row,
                       std::uint64_t col, double mean);

}  // namespace dnmf
