// The step loop allocates nothing once the buffers are reserved, on one kernel thread and with
// the layers' loops split over two (allocations counted by allocation_counter.cpp, in a program
// of its own, on every thread; the BLAS library's own are counted apart), and an allocation of
// dnmf's own inside the step is seen among the BLAS calls.

#include <gtest/gtest.h>

#include <iostream>
#include <vector>

#include "../kernel_threads.hpp"
#include "allocation_counter.hpp"
#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"

namespace dnmf::nn {
namespace {

/// A small nmf-cnn with its buffers reserved for batches of up to kMaxBatch, and one training
/// step of it, on the kernel thread count of the test's parameter. `extra_allocation` makes the
/// step allocate a vector of its own between the forward and the backward pass, as a forgotten
/// buffer in dnmf's code would.
class StepLoop : public ::testing::TestWithParam<int> {
 protected:
  static constexpr Index kMaxBatch = 16;

  static ArchitectureOptions small_nmf_cnn() {
    ArchitectureOptions options;
    options.architecture = Architecture::NmfCnn;
    options.input = {10, 10, 1};
    options.classes = 3;
    options.filters = 4;
    options.hidden = 8;
    options.nmf_rank = 5;
    options.nmf_iterations = 3;
    return options;
  }

  StepLoop() {
    network_.reserve(kMaxBatch);
    loss_.reserve(kMaxBatch);
    step(kMaxBatch);  // a BLAS library may set up its own buffers on its first call, the pool
                      // its threads on its first loop
  }

  void step(Index batch, bool extra_allocation = false) {
    network_.zero_gradients();
    loss_.evaluate(network_.forward(BatchView<float>(images_.data(), images_.rows(), batch)),
                   labels_.head(batch));
    if (extra_allocation) {
      std::vector<float> forgotten(static_cast<std::size_t>(batch));
      // Keeps the compiler from removing the unused allocation (it may, since C++14).
      asm volatile("" : : "g"(forgotten.data()) : "memory");
    }
    network_.backward(loss_.gradient());
    adam_.step(network_, 1.0f / static_cast<float>(batch));
  }

  test::ScopedKernelThreads threads_{GetParam()};  // first: the warm-up step runs on them
  ArchitectureOptions options_ = small_nmf_cnn();
  Network<float> network_ = make_network<float>(options_, 51);
  SoftmaxCrossEntropy<float> loss_{options_.classes};
  Adam<float> adam_{network_.parameter_count(), {}};
  Matrix<float> images_ = Matrix<float>::Constant(options_.input.size(), kMaxBatch, 0.5f);
  Eigen::VectorXi labels_ = Eigen::VectorXi::Zero(kMaxBatch);
};

TEST_P(StepLoop, AllocatesNothingAfterReserve) {
  test::reset_allocation_count();
  test::set_allocation_counting(true);
  step(kMaxBatch);
  step(7);  // a short last batch reuses the same buffers
  step(kMaxBatch);
  test::set_allocation_counting(false);
  EXPECT_EQ(test::allocations_counted(), 0u);
  // Not an expectation: whether the BLAS library allocates depends on the kernel it picked.
  std::cout << "allocations inside the BLAS library: " << test::blas_allocations_counted() << '\n';
}

TEST_P(StepLoop, CountsAnAllocationOfItsOwnAmongTheBlasCalls) {
  test::reset_allocation_count();
  test::set_allocation_counting(true);
  step(kMaxBatch, /*extra_allocation=*/true);
  step(7);
  test::set_allocation_counting(false);
  EXPECT_EQ(test::allocations_counted(), 1u);
}

INSTANTIATE_TEST_SUITE_P(KernelThreads, StepLoop, ::testing::Values(1, 2));

TEST(AllocationCounter, SeesAnAllocation) {
  test::reset_allocation_count();
  test::set_allocation_counting(true);
  Matrix<float> grown(100, 100);
  test::set_allocation_counting(false);
  EXPECT_GT(test::allocations_counted(), 0u);
  EXPECT_EQ(test::blas_allocations_counted(), 0u);
}

#ifdef EIGEN_USE_BLAS
// The BLAS library is a shared object of its own (Debian's OpenBLAS), so its allocations can be
// told apart; were it not found, they would count as dnmf's and the step tests would say so.
TEST(AllocationCounter, FindsTheBlasLibrary) { EXPECT_TRUE(test::blas_library_found()); }
#endif

}  // namespace
}  // namespace dnmf::nn
