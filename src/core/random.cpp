#include "dnmf/core/random.hpp"

#include <cmath>

namespace dnmf {
namespace {

// SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijective mixer with full avalanche.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t counter_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t row,
                           std::uint64_t col) {
  return mix(mix(mix(mix(seed) ^ stream) ^ row) ^ col);
}

double to_unit(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

/// Uniforms in [0, 1) one after another from one counter's bits.
class UniformSequence {
 public:
  explicit UniformSequence(std::uint64_t bits) : bits_(bits) {}
  double next() {
    const double u = to_unit(bits_);
    bits_ = mix(bits_);
    return u;
  }

 private:
  std::uint64_t bits_;
};

/// Inversion: the smallest k with u < P(X <= k). The sum of the probabilities can stop short of
/// u by rounding for u within ~1e-15 of 1; the tail beyond 60 + 10 means is then empty anyway.
double poisson_by_inversion(double mean, double u) {
  double probability = std::exp(-mean);
  double cumulative = probability;
  double k = 0;
  while (u >= cumulative && k < 60 + 10 * mean) {
    k += 1;
    probability *= mean / k;
    cumulative += probability;
  }
  return k;
}

/// PTRS, the transformed rejection with squeeze of Hörmann, "The transformed rejection method
/// for generating Poisson random variables", Insurance: Mathematics and Economics 12 (1993); the
/// constants are the paper's (numpy's generator uses the same method for means >= 10).
double poisson_by_transformed_rejection(double mean, UniformSequence& uniforms) {
  const double slam = std::sqrt(mean);
  const double log_mean = std::log(mean);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inverse_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double v_r = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double U = uniforms.next() - 0.5;
    const double V = uniforms.next();
    const double us = 0.5 - std::fabs(U);
    const double k = std::floor((2 * a / us + b) * U + mean + 0.43);
    if (us >= 0.07 && V <= v_r) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (std::log(V) + std::log(inverse_alpha) - std::log(a / (us * us) + b) <=
        -mean + k * log_mean - std::lgamma(k + 1)) {
      return k;
    }
  }
}

}  // namespace

double counter_uniform(std::uint64_t seed, RandomStream stream, std::uint64_t row,
                       std::uint64_t col) {
  return to_unit(counter_bits(seed, static_cast<std::uint64_t>(stream), row, col));
}

double counter_normal(std::uint64_t seed, RandomStream stream, std::uint64_t row,
                      std::uint64_t col) {
  const std::uint64_t bits = counter_bits(seed, static_cast<std::uint64_t>(stream), row, col);
  const double u1 = 1.0 - to_unit(bits);  // (0, 1]: log is finite
  const double u2 = to_unit(mix(bits));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double counter_half_normal(std::uint64_t seed, RandomStream stream, std::uint64_t row,
                           std::uint64_t col) {
  return std::fabs(counter_normal(seed, stream, row, col));
}

double counter_poisson(std::uint64_t seed, RandomStream stream, std::uint64_t row,
                       std::uint64_t col, double mean) {
  UniformSequence uniforms(counter_bits(seed, static_cast<std::uint64_t>(stream), row, col));
  if (mean < 10) return poisson_by_inversion(mean, uniforms.next());
  return poisson_by_transformed_rejection(mean, uniforms);
}

}  // namespace dnmf
