// A short training run on separable synthetic data must cut the loss by more than half.

#include <gtest/gtest.h>

#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/sgd.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"

namespace dnmf::nn {
namespace {

constexpr Index kSamples = 64;
constexpr Index kBatch = 16;

/// Class 0 is bright in the left half of a 6x6 image, class 1 in the right half; all >= 0.
struct Dataset {
  Matrix<float> images{36, kSamples};
  Eigen::VectorXi labels{kSamples};

  explicit Dataset(std::uint64_t seed) {
    RandomEngine engine(seed);
    for (Index sample = 0; sample < kSamples; ++sample) {
      const int label = static_cast<int>(sample % 2);
      labels[sample] = label;
      for (Index y = 0; y < 6; ++y) {
        for (Index x = 0; x < 6; ++x) {
          const bool bright = (x < 3) == (label == 0);
          images(y * 6 + x, sample) =
              static_cast<float>(bright ? uniform(engine, 0.5, 1.0) : uniform(engine, 0.0, 0.2));
        }
      }
    }
  }
};

float mean_loss(Network<float>& network, SoftmaxCrossEntropy<float>& loss, const Dataset& data) {
  const BatchView<float> images(data.images.data(), 36, kSamples);
  return loss.evaluate(network.forward(images), data.labels).loss_sum / kSamples;
}

/// Mini-batch steps over the data; gradients are batch sums, scaled by 1/batch in the step.
void train(Network<float>& network, Optimizer<float>& optimizer, const Dataset& data, int epochs) {
  SoftmaxCrossEntropy<float> loss(2);
  network.reserve(kSamples);
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (Index first = 0; first < kSamples; first += kBatch) {
      const BatchView<float> images(data.images.col(first).data(), 36, kBatch);
      network.zero_gradients();
      loss.evaluate(network.forward(images), data.labels.segment(first, kBatch));
      network.backward(loss.gradient());
      optimizer.step(network, 1.0f / kBatch);
    }
  }
}

ArchitectureOptions small(Architecture architecture) {
  ArchitectureOptions options;
  options.architecture = architecture;
  options.input = {6, 6, 1};
  options.classes = 2;
  options.filters = 4;
  options.hidden = 8;
  options.nmf_rank = 4;
  options.nmf_iterations = 5;
  return options;
}

class Training : public ::testing::TestWithParam<Architecture> {};

TEST_P(Training, AdamHalvesTheLoss) {
  const Dataset data(41);
  Network<float> network = make_network<float>(small(GetParam()), 42);
  SoftmaxCrossEntropy<float> loss(2);
  const float before = mean_loss(network, loss, data);
  Adam<float> adam(network.parameter_count(), {0.01f, 0.9f, 0.999f, 1e-8f});
  train(network, adam, data, 10);
  const float after = mean_loss(network, loss, data);
  EXPECT_LT(after, before / 2) << "loss " << before << " -> " << after;
}

INSTANTIATE_TEST_SUITE_P(Architectures, Training,
                         ::testing::Values(Architecture::Cnn, Architecture::Nmf,
                                           Architecture::NmfCnn));

TEST(Training, SgdWithMomentumHalvesTheLossOfTheCnn) {
  const Dataset data(43);
  Network<float> network = make_network<float>(small(Architecture::Cnn), 44);
  SoftmaxCrossEntropy<float> loss(2);
  const float before = mean_loss(network, loss, data);
  Sgd<float> sgd(network.parameter_count(), {0.05f, 0.9f});
  train(network, sgd, data, 10);
  const float after = mean_loss(network, loss, data);
  EXPECT_LT(after, before / 2) << "loss " << before << " -> " << after;
}

}  // namespace
}  // namespace dnmf::nn
