// Finite-difference checks of every layer's input and parameter gradients, and of the loss.

#include <gtest/gtest.h>

#include <cmath>
#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/nn/concat.hpp"
#include "dnmf/nn/conv2d.hpp"
#include "dnmf/nn/dense.hpp"
#include "dnmf/nn/flatten.hpp"
#include "dnmf/nn/max_pool2d.hpp"
#include "dnmf/nn/nmf_encoder.hpp"
#include "dnmf/nn/relu.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"
#include "gradient_check.hpp"

namespace dnmf::nn::testing {
namespace {

TEST(LayerGradients, Dense) {
  RandomEngine engine(11);
  Dense<double> dense("dense", 5, 4, WeightInit::He);
  expect_layer_gradients(dense, random_matrix(5, 3, -1, 1, engine), engine);
}

// Deferred, backward leaves W's gradient alone; assign_weight_gradient then sets any range of
// it (inside one row, a row's tail, whole rows and a row's head) to sum_b dY(o, b) X(i, b),
// computed here by loops, and nothing outside the range.
TEST(LayerGradients, DenseDeferredWeightGradientMatchesLoopsOverAnyRange) {
  RandomEngine engine(17);
  const Index inputs = 7;
  const Index outputs = 5;
  Dense<double> dense("dense", inputs, outputs, WeightInit::He);
  BoundLayer bound(dense, engine);
  dense.set_weight_gradient_deferred(true);
  const MatrixD input = random_matrix(inputs, 4, -1, 1, engine);
  const MatrixD output_gradient = random_matrix(outputs, 4, -1, 1, engine);
  dense.forward(view(input));
  dense.backward(view(output_gradient));
  EXPECT_EQ(bound.gradients.head(inputs * outputs).norm(), 0) << "W's gradient was touched";
  EXPECT_EQ(dense.last_input(), input);
  EXPECT_EQ(dense.last_output_gradient(), output_gradient);
  const std::pair<Index, Index> ranges[] = {{2, 3}, {3, 12}, {7, 14}, {0, 35}, {9, 26}, {34, 1}};
  for (const auto& [first, count] : ranges) {
    bound.gradients.setConstant(-7);
    dense.assign_weight_gradient(view(output_gradient), view(input), first, count);
    for (Index entry = 0; entry < inputs * outputs; ++entry) {
      double expected = -7;
      double magnitude = 0;  // Σ_b |dY(o, b) X(i, b)|
      if (entry >= first && entry < first + count) {
        expected = 0;
        for (Index b = 0; b < input.cols(); ++b) {
          expected += output_gradient(entry / inputs, b) * input(entry % inputs, b);
          magnitude += std::abs(output_gradient(entry / inputs, b) * input(entry % inputs, b));
        }
      }
      // Two sums of the batch's products in any order, each within γ_batch of the magnitude.
      EXPECT_NEAR(bound.gradients[entry], expected,
                  2 * error_bounds::gamma<double>(static_cast<double>(input.cols())) * magnitude)
          << "entry " << entry << " of range " << first << " + " << count;
    }
  }
}

TEST(LayerGradients, ReLU) {
  RandomEngine engine(12);
  ReLU<double> relu("relu", 7);
  expect_layer_gradients(relu, random_matrix(7, 3, -1, 1, engine), engine);
}

TEST(LayerGradients, MaxPoolWithOddHeight) {
  RandomEngine engine(13);
  const ImageShape shape{5, 4, 3};
  MaxPool2D<double> pool("pool", shape);
  EXPECT_EQ(pool.output_shape().height, 2);
  EXPECT_EQ(pool.output_shape().width, 2);
  expect_layer_gradients(pool, random_matrix(shape.size(), 2, -1, 1, engine), engine);
}

TEST(LayerGradients, Flatten) {
  RandomEngine engine(14);
  Flatten<double> flatten("flatten", {3, 2, 2});
  expect_layer_gradients(flatten, random_matrix(12, 2, -1, 1, engine), engine);
}

TEST(LayerGradients, Conv2DValid) {
  RandomEngine engine(15);
  const ImageShape shape{5, 6, 2};
  Conv2D<double> conv("conv", shape, 3, 3, Padding::Valid, WeightInit::He);
  EXPECT_EQ(conv.output_shape().height, 3);
  EXPECT_EQ(conv.output_shape().width, 4);
  expect_layer_gradients(conv, random_matrix(shape.size(), 2, -1, 1, engine), engine);
}

TEST(LayerGradients, Conv2DSame) {
  RandomEngine engine(16);
  const ImageShape shape{5, 4, 2};
  Conv2D<double> conv("conv", shape, 3, 3, Padding::Same, WeightInit::Glorot);
  EXPECT_EQ(conv.output_shape().height, 5);
  EXPECT_EQ(conv.output_shape().width, 4);
  expect_layer_gradients(conv, random_matrix(shape.size(), 2, -1, 1, engine), engine);
}

TEST(LayerGradients, NMFEncoder) {
  RandomEngine engine(17);
  NMFEncoder<double> encoder("nmf", 6, 3, 4, 1e-3);
  expect_layer_gradients(encoder, random_matrix(6, 3, 0, 1, engine), engine);
}

TEST(LayerGradients, ConcatOfTwoBranches) {
  RandomEngine engine(18);
  LayerList<double> first;
  first.push_back(std::make_unique<Dense<double>>("dense", 6, 3, WeightInit::He));
  first.push_back(std::make_unique<ReLU<double>>("relu", 3));
  Concat<double> concat("concat", std::make_unique<Sequential<double>>("first", std::move(first)),
                        std::make_unique<NMFEncoder<double>>("nmf", 6, 2, 3, 1e-3));
  expect_layer_gradients(concat, random_matrix(6, 3, 0, 1, engine), engine);
}

TEST(LossGradient, SoftmaxCrossEntropyIsTheGradientOfTheSum) {
  RandomEngine engine(19);
  MatrixD logits = random_matrix(4, 5, -3, 3, engine);
  const Eigen::VectorXi labels = (Eigen::VectorXi(5) << 0, 3, 1, 1, 2).finished();
  SoftmaxCrossEntropy<double> loss(4);
  const auto objective = [&] { return loss.evaluate(view(logits), labels).loss_sum; };

  objective();
  const VectorD analytic = loss.gradient().reshaped();
  const VectorD numeric = numeric_gradient(logits.data(), logits.size(), objective);
  expect_same_gradient(analytic, numeric, "logits");
}

TEST(Loss, SumOfPerSampleLossesAndAccuracy) {
  const MatrixD logits = (MatrixD(2, 2) << 1, 0, 0, 2).finished();  // columns are samples
  const Eigen::VectorXi labels = (Eigen::VectorXi(2) << 0, 0).finished();
  SoftmaxCrossEntropy<double> loss(2);
  const LossResult<double> result = loss.evaluate(view(logits), labels);
  const double expected = std::log(1 + std::exp(-1.0)) + std::log(1 + std::exp(2.0));
  // Each side takes a handful of roundings and elementary functions (exp, log: within one ulp,
  // 2u) per sample, at most 8, on values no larger than 1 + |expected| (a logit of 2 and the
  // log of 1 + e²).
  EXPECT_NEAR(result.loss_sum, expected,
              2 * 8 * 2 * error_bounds::unit_roundoff<double>() * (1 + std::abs(expected)));
  EXPECT_EQ(result.correct, 1);
}

TEST(Loss, RejectsLabelsOutOfRange) {
  const MatrixD logits = MatrixD::Zero(3, 2);
  const Eigen::VectorXi labels = (Eigen::VectorXi(2) << 0, 3).finished();
  SoftmaxCrossEntropy<double> loss(3);
  EXPECT_THROW(loss.evaluate(view(logits), labels), InputError);
}

}  // namespace
}  // namespace dnmf::nn::testing
