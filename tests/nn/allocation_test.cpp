// The step loop allocates nothing once the buffers are reserved. This program replaces malloc
// and its relatives (glibc allows it; the originals are reached through their __libc_ names),
// counting calls while a flag is set; it is its own executable so no other test sees that.

#include <gtest/gtest.h>

#include <cstddef>

#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
}

namespace {
bool counting = false;
std::size_t allocations = 0;

void count() {
  if (counting) ++allocations;
}
}  // namespace

extern "C" {
void* malloc(std::size_t size) noexcept {
  count();
  return __libc_malloc(size);
}
void* calloc(std::size_t count_, std::size_t size) noexcept {
  count();
  return __libc_calloc(count_, size);
}
void* realloc(void* pointer, std::size_t size) noexcept {
  count();
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  count();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** pointer, std::size_t alignment, std::size_t size) noexcept {
  count();
  *pointer = __libc_memalign(alignment, size);
  return *pointer == nullptr ? 12 /* ENOMEM */ : 0;
}
}

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

  counting = true;
  step(kMaxBatch);
  step(7);  // a short last batch reuses the same buffers
  step(kMaxBatch);
  counting = false;
  EXPECT_EQ(allocations, 0u);
}

TEST(StepLoop, CountingSeesAnAllocation) {
  counting = true;
  Matrix<float> grown(100, 100);
  counting = false;
  EXPECT_GT(allocations, 0u);
  allocations = 0;
}

}  // namespace
}  // namespace dnmf::nn
