// The step loop allocates nothing once the buffers are reserved (allocations counted by
// allocation_counter.cpp, in a program of its own).

#include <gtest/gtest.h>

#include "allocation_counter.hpp"
#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"

namespace dnmf::nn {
namespace {

TEST(StepLoop, AllocatesNothingAfterReserve) {
  ArchitectureOptions options;
  options.architecture = Architecture::NmfCnn;
  options.input = {10, 10, 1};
  options.classes = 3;
  options.filters = 4;
  options.hidden = 8;
  options.nmf_rank = 5;
  options.nmf_iterations = 3;
  constexpr Index kMaxBatch = 16;
  Network<float> network = make_network<float>(options, 51);
  SoftmaxCrossEntropy<float> loss(options.classes);
  Adam<float> adam(network.parameter_count(), {});
  network.reserve(kMaxBatch);
  loss.reserve(kMaxBatch);
  Matrix<float> images = Matrix<float>::Constant(options.input.size(), kMaxBatch, 0.5f);
  Eigen::VectorXi labels = Eigen::VectorXi::Zero(kMaxBatch);
  const auto step = [&](Index batch) {
    network.zero_gradients();
    loss.evaluate(network.forward(BatchView<float>(images.data(), images.rows(), batch)),
                  labels.head(batch));
    network.backward(loss.gradient());
    adam.step(network, 1.0f / static_cast<float>(batch));
  };
  step(kMaxBatch);  // a BLAS library may set up its own buffers on its first call

  test::set_allocation_counting(true);
  step(kMaxBatch);
  step(7);  // a short last batch reuses the same buffers
  step(kMaxBatch);
  test::set_allocation_counting(false);
  EXPECT_EQ(test::allocations_counted(), 0u);
}

TEST(StepLoop, CountingSeesAnAllocation) {
  test::set_allocation_counting(true);
  Matrix<float> grown(100, 100);
  test::set_allocation_counting(false);
  EXPECT_GT(test::allocations_counted(), 0u);
  test::reset_allocation_count();
}

}  // namespace
}  // namespace dnmf::nn
