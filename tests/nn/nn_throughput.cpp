// Training throughput of one network on one core, in images per second: forward, loss and
// backward (and, separately, an Adam step) on random 28x28 digits-like data.
// Usage: nn_throughput [cnn|nmf|nmf-cnn] [batch]   (defaults: cnn 64). Not a test.

#include <chrono>
#include <cstdio>
#include <string>

#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"

namespace {

using dnmf::nn::Index;

/// Runs `step` until at least `seconds` have passed; returns steps per second.
template <typename Step>
double steps_per_second(Step&& step, double seconds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  long steps = 0;
  double elapsed = 0;
  while (elapsed < seconds) {
    step();
    ++steps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(steps) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  namespace nn = dnmf::nn;
  nn::ArchitectureOptions options;
  options.architecture = nn::architecture_from_name(argc > 1 ? argv[1] : "cnn");
  const Index batch = argc > 2 ? std::stol(argv[2]) : 64;

  nn::Network<float> network = nn::make_network<float>(options, 1);
  nn::SoftmaxCrossEntropy<float> loss(options.classes);
  nn::Adam<float> adam(network.parameter_count(), {});
  network.reserve(batch);
  loss.reserve(batch);
  nn::Matrix<float> images(options.input.size(), batch);
  nn::RandomEngine engine(2);
  nn::fill_uniform(images, 0.0, 1.0, engine);
  Eigen::VectorXi labels(batch);
  for (Index i = 0; i < batch; ++i) labels[i] = static_cast<int>(i % options.classes);
  const nn::BatchView<float> input(images.data(), images.rows(), batch);

  const auto forward_backward = [&] {
    network.zero_gradients();
    loss.evaluate(network.forward(input), labels);
    network.backward(loss.gradient());
  };
  const auto forward_only = [&] { loss.evaluate(network.forward(input), labels); };
  const auto training_step = [&] {
    forward_backward();
    adam.step(network, 1.0f / static_cast<float>(batch));
  };
  steps_per_second(training_step, 0.5);  // warm up caches and the allocator
  const double per_batch = static_cast<double>(batch);
#ifdef EIGEN_USE_BLAS
  const char* gemm = "BLAS (set OPENBLAS_NUM_THREADS=1 for one core)";
#else
  const char* gemm = "Eigen's own kernels";
#endif
  std::printf("%s, batch %ld, %ld parameters, float, Eigen %d.%d.%d, GEMM by %s\n",
              nn::architecture_name(options.architecture).c_str(), static_cast<long>(batch),
              static_cast<long>(network.parameter_count()), EIGEN_WORLD_VERSION,
              EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, gemm);
  std::printf("forward only:             %8.0f images/s\n",
              per_batch * steps_per_second(forward_only, 3.0));
  std::printf("forward + backward:       %8.0f images/s\n",
              per_batch * steps_per_second(forward_backward, 3.0));
  std::printf("forward + backward + Adam: %7.0f images/s\n",
              per_batch * steps_per_second(training_step, 3.0));
  return 0;
}
