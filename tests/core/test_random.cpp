// core/random: the counter-based generator against an independent SplitMix64 (the reference
// generator's first output of a state is the mixer dnmf chains over seed, stream, row and
// column), its range and resolution, the independence of streams, seeds and indices, the
// moments of the uniform, normal and half-normal values over a fixed large sample, and the
// Poisson counts against the Poisson distribution.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "dnmf/core/random.hpp"

namespace {

using dnmf::RandomStream;

/// Vigna's reference SplitMix64: the next output of a generator whose state is `state`.
std::uint64_t splitmix64_next(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t first_output(std::uint64_t state) { return splitmix64_next(state); }

double naive_uniform(std::uint64_t seed, RandomStream stream, std::uint64_t row,
                     std::uint64_t col) {
  const std::uint64_t bits = first_output(
      first_output(first_output(first_output(seed) ^ static_cast<std::uint64_t>(stream)) ^ row) ^
      col);
  return std::ldexp(static_cast<double>(bits >> 11), -53);
}

TEST(Random, TheReferenceSplitMix64IsTheKnownSequence) {
  // The published first outputs of SplitMix64 seeded with 0.
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64_next(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64_next(state), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(splitmix64_next(state), 0x06c45d188009454fULL);
}

TEST(Random, UniformIsTheChainedSplitMixOfSeedStreamRowAndColumn) {
  for (const std::uint64_t seed : {0ULL, 1ULL, 42ULL, 0xffffffffffffffffULL}) {
    for (const RandomStream stream : {RandomStream::W, RandomStream::H, RandomStream::Sketch}) {
      for (std::uint64_t row = 0; row < 5; ++row) {
        for (const std::uint64_t col : {0ULL, 3ULL, 1000000007ULL}) {
          EXPECT_EQ(dnmf::counter_uniform(seed, stream, row, col),
                    naive_uniform(seed, stream, row, col))
              << seed << " " << static_cast<int>(stream) << " " << row << " " << col;
        }
      }
    }
  }
}

TEST(Random, UniformIsInTheUnitIntervalOnA53BitGrid) {
  for (std::uint64_t i = 0; i < 10000; ++i) {
    const double u = dnmf::counter_uniform(7, RandomStream::Noise, i / 100, i % 100);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    const double scaled = std::ldexp(u, 53);
    ASSERT_EQ(scaled, std::floor(scaled));
  }
}

TEST(Random, EveryValueIsAPureFunctionOfItsCounter) {
  // Called in another order, or again, a counter gives the same value.
  const double first = dnmf::counter_normal(3, RandomStream::W, 10, 20);
  for (int i = 0; i < 100; ++i) (void)dnmf::counter_normal(3, RandomStream::W, 10, i);
  EXPECT_EQ(dnmf::counter_normal(3, RandomStream::W, 10, 20), first);
}

TEST(Random, SeedsStreamsRowsAndColumnsGiveDistinctValues) {
  std::set<double> seen;
  int draws = 0;
  for (const std::uint64_t seed : {0ULL, 1ULL, 2ULL}) {
    for (const RandomStream stream :
         {RandomStream::W, RandomStream::H, RandomStream::Noise, RandomStream::TrueW,
          RandomStream::TrueH, RandomStream::Sketch}) {
      for (std::uint64_t row = 0; row < 8; ++row) {
        for (std::uint64_t col = 0; col < 8; ++col) {
          seen.insert(dnmf::counter_uniform(seed, stream, row, col));
          ++draws;
        }
      }
    }
  }
  // 1152 values of 53 bits: a repeat would mean two counters share their bits.
  EXPECT_EQ(static_cast<int>(seen.size()), draws);
  // Swapping row and column is another counter.
  EXPECT_NE(dnmf::counter_uniform(5, RandomStream::H, 1, 2),
            dnmf::counter_uniform(5, RandomStream::H, 2, 1));
}

struct Moments {
  double mean = 0;
  double variance = 0;
};

template <class Draw>
Moments moments(int n, Draw draw) {
  double sum = 0, squares = 0;
  for (int i = 0; i < n; ++i) {
    const double x = draw(static_cast<std::uint64_t>(i));
    sum += x;
    squares += x * x;
  }
  const double mean = sum / n;
  return {mean, squares / n - mean * mean};
}

// 200000 fixed draws: the standard error of each mean is below 0.003, the bounds are 5 times it.
constexpr int kDraws = 200000;

TEST(Random, UniformHasTheMomentsOfU01) {
  const Moments m = moments(kDraws, [](std::uint64_t i) {
    return dnmf::counter_uniform(11, RandomStream::W, i / 500, i % 500);
  });
  EXPECT_NEAR(m.mean, 0.5, 0.005);
  EXPECT_NEAR(m.variance, 1.0 / 12.0, 0.005);
}

TEST(Random, NormalHasTheMomentsOfAStandardNormal) {
  int beyond_two = 0;
  const Moments m = moments(kDraws, [&](std::uint64_t i) {
    const double x = dnmf::counter_normal(12, RandomStream::H, i % 700, i / 700);
    EXPECT_TRUE(std::isfinite(x));
    if (std::fabs(x) > 2) ++beyond_two;
    return x;
  });
  EXPECT_NEAR(m.mean, 0.0, 0.015);
  EXPECT_NEAR(m.variance, 1.0, 0.02);
  // P(|Z| > 2) = 0.0455.
  EXPECT_NEAR(static_cast<double>(beyond_two) / kDraws, 0.0455, 0.003);
}

TEST(Random, HalfNormalIsTheAbsoluteValueOfTheNormal) {
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const double z = dnmf::counter_normal(9, RandomStream::Sketch, i, 2 * i);
    EXPECT_EQ(dnmf::counter_half_normal(9, RandomStream::Sketch, i, 2 * i), std::fabs(z));
  }
  // E|Z| = sqrt(2/pi), Var|Z| = 1 - 2/pi.
  const Moments m = moments(kDraws, [](std::uint64_t i) {
    return dnmf::counter_half_normal(13, RandomStream::TrueW, i / 300, i % 300);
  });
  EXPECT_NEAR(m.mean, std::sqrt(2 / M_PI), 0.01);
  EXPECT_NEAR(m.variance, 1 - 2 / M_PI, 0.01);
}

/// P(X = k) for X ~ Poisson(mean), from logarithms (no overflow at large means).
double poisson_probability(double mean, int k) {
  return std::exp(-mean + k * std::log(mean) - std::lgamma(k + 1.0));
}

TEST(Random, PoissonOfMeanZeroIsZero) {
  for (std::uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(dnmf::counter_poisson(1, RandomStream::Noise, i, 0, 0.0), 0.0);
  }
}

// Both methods (inversion below a mean of 10, transformed rejection from 10) against the Poisson
// distribution: the mean and variance of 200000 fixed draws within 5 standard errors (that of
// the sample variance is sqrt((mean + 2 mean²) / n)), and the frequency of every count within
// three standard deviations of the mean within 5 binomial standard errors of its probability.
TEST(Random, PoissonHasTheDistributionOfItsMean) {
  for (const double mean : {0.3, 3.0, 9.9, 10.0, 47.5, 1000.0}) {
    std::vector<int> frequency(static_cast<std::size_t>(mean + 12 * std::sqrt(mean) + 20), 0);
    const Moments m = moments(kDraws, [&](std::uint64_t i) {
      const double x = dnmf::counter_poisson(21, RandomStream::Noise, i / 400, i % 400, mean);
      EXPECT_EQ(x, std::floor(x));
      EXPECT_GE(x, 0);
      if (x < static_cast<double>(frequency.size())) ++frequency[static_cast<std::size_t>(x)];
      return x;
    });
    EXPECT_NEAR(m.mean, mean, 5 * std::sqrt(mean / kDraws)) << mean;
    EXPECT_NEAR(m.variance, mean, 5 * std::sqrt((mean + 2 * mean * mean) / kDraws)) << mean;
    const int low = std::max(0, static_cast<int>(mean - 3 * std::sqrt(mean)));
    const int high = static_cast<int>(mean + 3 * std::sqrt(mean));
    for (int k = low; k <= high; ++k) {
      const double p = poisson_probability(mean, k);
      EXPECT_NEAR(static_cast<double>(frequency[static_cast<std::size_t>(k)]) / kDraws, p,
                  5 * std::sqrt(p * (1 - p) / kDraws) + 1.0 / kDraws)
          << "mean " << mean << ", count " << k;
    }
  }
}

TEST(Random, PoissonIsAPureFunctionOfItsCounterAndMean) {
  const double first = dnmf::counter_poisson(4, RandomStream::Noise, 3, 5, 25.0);
  for (int i = 0; i < 50; ++i) (void)dnmf::counter_poisson(4, RandomStream::Noise, 3, i, 25.0);
  EXPECT_EQ(dnmf::counter_poisson(4, RandomStream::Noise, 3, 5, 25.0), first);
}

}  // namespace
