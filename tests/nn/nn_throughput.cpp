// Training throughput of one network on one core, in images per second: forward, loss and
// backward (and, separately, an Adam step) on random 28x28 digits-like data. Both wall-clock and
// CPU-time rates are printed: on a shared machine the second is what an idle core would do.
// Usage: nn_throughput [cnn|nmf|nmf-cnn] [batch]   (defaults: cnn 64). Not a test.

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"

namespace {

using dnmf::nn::Index;

struct Rate {
  double wall = 0;  // steps per second of wall-clock time
  double cpu = 0;   // steps per second of this process's CPU time: the rate of an idle core
};

/// Runs `step` until at least `seconds` of wall-clock time have passed.
template <typename Step>
Rate steps_per_second(Step&& step, double seconds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const std::clock_t cpu_start = std::clock();
  long steps = 0;
  double elapsed = 0;
  while (elapsed < seconds) {
    step();
    ++steps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  return {static_cast<double>(steps) / elapsed, static_cast<double>(steps) / cpu};
}

void print_rate(const char* what, Rate rate, double images_per_step) {
  std::printf("%-27s %8.0f images/s wall-clock, %8.0f images/s of CPU time\n", what,
              images_per_step * rate.wall, images_per_step * rate.cpu);
}

}  // namespace

int main(int argc, char** argv) {
  namespace nn = dnmf::nn;
  nn::ArchitectureOptions options;
  options.architecture =
      parse_named("architecture", argc > 1 ? argv[1] : "cnn", nn::kArchitectureNames);
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
              name_of(options.architecture, nn::kArchitectureNames).c_str(),
              static_cast<long>(batch), static_cast<long>(network.parameter_count()),
              EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, gemm);
  print_rate("forward only:", steps_per_second(forward_only, 3.0), per_batch);
  print_rate("forward + backward:", steps_per_second(forward_backward, 3.0), per_batch);
  print_rate("forward + backward + Adam:", steps_per_second(training_step, 3.0), per_batch);
  return 0;
}
