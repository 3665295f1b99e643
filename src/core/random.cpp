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

}  // namespace dnmf
