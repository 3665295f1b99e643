#pragma once
// The three classifiers dnmf trains, built from one options value.
//
//   cnn:     Conv 3x3 (valid) -> ReLU -> MaxPool 2 -> Flatten -> Dense hidden -> ReLU -> Dense C
//   nmf:     NMFEncoder(k, T) -> Dense hidden -> ReLU -> Dense C
//   nmf-cnn: Concat(conv branch up to Flatten, NMFEncoder(k, T)) -> Dense hidden -> ReLU
//            -> Dense C
//
// The conv branch is built as Conv -> MaxPool -> ReLU: the same function and gradients
// (ReLU is monotone, so it commutes with max), with the ReLU on the pooled quarter of the values.
//
// Layer names, hence parameter names: conv1, pool1, relu1, flatten, nmf, dense1, relu2, dense2
// (and concat with branches conv_branch, nmf_branch): "conv1/W", "conv1/b", "nmf/H",
// "dense1/W", "dense1/b", "dense2/W", "dense2/b".

#include <cstdint>
#include <string>

#include "dnmf/core/named_values.hpp"
#include "dnmf/nn/network.hpp"

namespace dnmf::nn {

enum class Architecture { Cnn, Nmf, NmfCnn };
inline constexpr NamedValue<Architecture> kArchitectureNames[] = {
    {Architecture::Cnn, "cnn"}, {Architecture::Nmf, "nmf"}, {Architecture::NmfCnn, "nmf-cnn"}};

/// Whether the network has an NMF encoder (which needs images >= 0 and may start from a basis).
inline bool uses_nmf(Architecture architecture) { return architecture != Architecture::Cnn; }

struct ArchitectureOptions {
  Architecture architecture = Architecture::Cnn;
  /// One input sample; the nmf architecture reads it as input.size() features (d).
  ImageShape input{28, 28, 1};
  Index classes = 10;
  Index filters = 32;         // convolution filters
  Index kernel = 3;           // convolution kernel size
  Index hidden = 128;         // units of the first dense layer
  Index nmf_rank = 50;        // k, codes of the NMF encoder
  Index nmf_iterations = 10;  // T, unrolled multiplicative updates
  double nmf_epsilon = 1e-6;  // guards the update's division
};

/// The network `options` describe, initialised from `seed` (He for layers followed by a ReLU,
/// Glorot for the last, zero biases; the nmf architecture's dense layers FanIn, weights and
/// biases U(±1/sqrt(fan_in)); a random nonnegative NMF basis with unit rows; load an
/// NMF basis afterwards with network.layer<NMFEncoder<Scalar>>("nmf").load_basis(H)).
/// Throws InputError for sizes that do not make a network.
template <typename Scalar>
Network<Scalar> make_network(const ArchitectureOptions& options, std::uint64_t seed);

}  // namespace dnmf::nn
