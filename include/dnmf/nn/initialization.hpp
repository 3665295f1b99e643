#pragma once
// Seeded random initialisation. Values are drawn from std::mt19937_64's raw 64-bit output
// (whose sequence the C++ standard fixes), not from std::*_distribution (whose algorithm it
// does not), so a seed gives the same network with every standard library.

#include <cmath>
#include <cstdint>
#include <random>

#include "dnmf/nn/tensor.hpp"

namespace dnmf::nn {

using RandomEngine = std::mt19937_64;

/// Uniform in [low, high), 53 random bits.
inline double uniform(RandomEngine& engine, double low, double high) {
  return low + (high - low) * static_cast<double>(engine() >> 11) * 0x1.0p-53;
}

/// Fills every coefficient, in storage order, uniformly from [low, high).
template <typename Derived>
void fill_uniform(Eigen::DenseBase<Derived>& values, double low, double high,
                  RandomEngine& engine) {
  using Scalar = typename Derived::Scalar;
  Scalar* data = values.derived().data();
  for (Index i = 0; i < values.size(); ++i) {
    data[i] = static_cast<Scalar>(uniform(engine, low, high));
  }
}

/// How a weight matrix is drawn: He et al. 2015 for layers followed by a ReLU
/// (U(±sqrt(6/fan_in))), Glorot & Bengio 2010 otherwise (U(±sqrt(6/(fan_in+fan_out)))), or
/// FanIn: U(±1/sqrt(fan_in)), biases too (PyTorch's nn.Linear default, sqrt(6) below He).
enum class WeightInit { He, Glorot, FanIn };

inline double weight_init_limit(WeightInit init, Index fan_in, Index fan_out) {
  switch (init) {
    case WeightInit::He: return std::sqrt(6.0 / static_cast<double>(fan_in));
    case WeightInit::Glorot: return std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    case WeightInit::FanIn: break;
  }
  return 1.0 / std::sqrt(static_cast<double>(fan_in));
}

}  // namespace dnmf::nn
