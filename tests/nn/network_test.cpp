// Whole networks: gradient checks including the loss, parameter names and layout, buffers,
// determinism, the dense layers' initialisation, and the Concat's routing of gradients.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <tuple>

#include "../kernel_threads.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/concat.hpp"
#include "dnmf/nn/dense.hpp"
#include "dnmf/nn/nmf_encoder.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"
#include "gradient_check.hpp"

namespace dnmf::nn::testing {
namespace {

ArchitectureOptions tiny(Architecture architecture) {
  ArchitectureOptions options;
  options.architecture = architecture;
  options.input = {6, 7, 1};
  options.classes = 3;
  options.filters = 2;
  options.hidden = 5;
  options.nmf_rank = 3;
  options.nmf_iterations = 4;
  options.nmf_epsilon = 1e-3;
  return options;
}

/// An architecture, at a kernel thread count: the layers split the batch's 7 samples (and their
/// gradients' rows) over 1 and 3 threads.
class WholeModelGradient : public ::testing::TestWithParam<std::tuple<Architecture, int>> {};

TEST_P(WholeModelGradient, MatchesFiniteDifferencesOfTheLoss) {
  const auto [architecture, threads] = GetParam();
  const test::ScopedKernelThreads kernel_threads(threads);
  const ArchitectureOptions options = tiny(architecture);
  Network<double> network = make_network<double>(options, 31);
  RandomEngine engine(32);
  const MatrixD input = random_matrix(options.input.size(), 7, 0, 1, engine);
  const Eigen::VectorXi labels = (Eigen::VectorXi(7) << 0, 2, 1, 2, 1, 0, 0).finished();
  SoftmaxCrossEntropy<double> loss(options.classes);
  const auto objective = [&] {
    return loss.evaluate(network.forward(view(input)), labels).loss_sum;
  };

  objective();
  network.zero_gradients();
  network.backward(loss.gradient());
  const VectorD analytic = network.gradients();
  const VectorD numeric =
      numeric_gradient(network.parameters().data(), network.parameter_count(), objective);
  expect_same_gradient(analytic, numeric, name_of(options.architecture, kArchitectureNames));
}

std::string architecture_test_name(
    const ::testing::TestParamInfo<std::tuple<Architecture, int>>& param_info) {
  std::string name = name_of(std::get<0>(param_info.param), kArchitectureNames);
  std::replace(name.begin(), name.end(), '-', '_');  // test names allow [A-Za-z0-9_]
  return name + "_" + std::to_string(std::get<1>(param_info.param)) + "_threads";
}

INSTANTIATE_TEST_SUITE_P(Architectures, WholeModelGradient,
                         ::testing::Combine(::testing::Values(Architecture::Cnn, Architecture::Nmf,
                                                              Architecture::NmfCnn),
                                            ::testing::Values(1, 3)),
                         architecture_test_name);

// Each value is computed by one thread, over chunks fixed by the sample count and the thread
// count: two runs at 3 threads give the same bits (a race between threads would not).
TEST(Network, GradientsAtOneThreadCountAreTheSameBitsEveryRun) {
  const test::ScopedKernelThreads kernel_threads(3);
  const ArchitectureOptions options = tiny(Architecture::NmfCnn);
  RandomEngine engine(33);
  const MatrixD input = random_matrix(options.input.size(), 11, 0, 1, engine);
  const Eigen::VectorXi labels =
      Eigen::VectorXi::LinSpaced(11, 0, 10).unaryExpr([](int i) { return i % 3; });
  const auto gradients = [&] {
    Network<double> network = make_network<double>(options, 31);
    SoftmaxCrossEntropy<double> loss(options.classes);
    loss.evaluate(network.forward(view(input)), labels);
    network.zero_gradients();
    network.backward(loss.gradient());
    return VectorD(network.gradients());
  };
  const VectorD first = gradients();
  for (int run = 0; run < 5; ++run) EXPECT_EQ(gradients(), first) << "run " << run;
}

TEST(Network, CnnParameterNamesAndShapes) {
  ArchitectureOptions options;  // 28x28x1, 32 filters, 128 hidden, 10 classes
  Network<float> network = make_network<float>(options, 1);
  const std::vector<NamedArray<float>> arrays = network.named_parameters();
  ASSERT_EQ(arrays.size(), 6u);
  const std::vector<std::pair<std::string, std::vector<Index>>> expected = {
      {"conv1/W", {3, 3, 1, 32}}, {"conv1/b", {32}},       {"dense1/W", {128, 13 * 13 * 32}},
      {"dense1/b", {128}},        {"dense2/W", {10, 128}}, {"dense2/b", {10}}};
  const float* next = network.parameters().data();
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    EXPECT_EQ(arrays[i].name, expected[i].first);
    EXPECT_EQ(arrays[i].shape, expected[i].second);
    EXPECT_EQ(arrays[i].values.data(), next) << "arrays tile the flat buffer in order";
    next += arrays[i].values.size();
  }
  EXPECT_EQ(next, network.parameters().data() + network.parameter_count());
  EXPECT_EQ(network.parameter_count(), 32 * 9 + 32 + 128 * 5408 + 128 + 10 * 128 + 10);
}

TEST(Network, NmfCnnHoldsBothBranchesParameters) {
  ArchitectureOptions options = tiny(Architecture::NmfCnn);
  Network<float> network = make_network<float>(options, 1);
  std::set<std::string> names;
  for (const auto& array : network.named_parameters()) names.insert(array.name);
  EXPECT_EQ(names, (std::set<std::string>{"conv1/W", "conv1/b", "nmf/H", "dense1/W", "dense1/b",
                                          "dense2/W", "dense2/b"}));
  const auto& encoder = network.layer<NMFEncoder<float>>("nmf");
  EXPECT_EQ(encoder.rank(), 3);
  // dense1 sees the pooled conv features (6x7 -> 4x5 -> 2x2, 2 filters) and the 3 codes.
  EXPECT_EQ(network.named_parameters()[3].shape, (std::vector<Index>{5, 2 * 2 * 2 + 3}));
}

TEST(Network, InitialisationIsDeterministicInTheSeed) {
  const ArchitectureOptions options = tiny(Architecture::NmfCnn);
  const Network<float> first = make_network<float>(options, 7);
  const Network<float> again = make_network<float>(options, 7);
  const Network<float> other = make_network<float>(options, 8);
  EXPECT_EQ(first.parameters(), again.parameters());
  EXPECT_NE(first.parameters(), other.parameters());
}

/// The dense layers' draws: He then Glorot with zero biases, except on the NMF codes alone,
/// where weights and biases are U(±1/sqrt(fan_in)) (biases not all zero).
TEST(Network, DenseInitialisationBoundsByArchitecture) {
  for (const Architecture architecture : {Architecture::Cnn, Architecture::Nmf}) {
    Network<double> network = make_network<double>(tiny(architecture), 4);
    const std::vector<NamedArray<double>> arrays = network.named_parameters();
    for (const NamedArray<double>& array : arrays) {
      if (array.name.rfind("dense", 0) != 0) continue;
      const Index fan_in = array.name.back() == 'W' ? array.shape[1] : 0;
      if (fan_in == 0) continue;
      const std::string layer = array.name.substr(0, array.name.find('/'));
      const auto bias =
          std::find_if(arrays.begin(), arrays.end(),
                       [&](const NamedArray<double>& a) { return a.name == layer + "/b"; });
      ASSERT_NE(bias, arrays.end()) << layer;
      const double fan_out = static_cast<double>(array.shape[0]);
      double limit = 1 / std::sqrt(static_cast<double>(fan_in));
      if (architecture == Architecture::Cnn) {
        limit = layer == "dense1" ? std::sqrt(6.0 / static_cast<double>(fan_in))
                                  : std::sqrt(6.0 / (static_cast<double>(fan_in) + fan_out));
        EXPECT_EQ(bias->values.cwiseAbs().maxCoeff(), 0.0) << bias->name;
      } else {
        EXPECT_GT(bias->values.cwiseAbs().maxCoeff(), 0.0) << bias->name;
        EXPECT_LE(bias->values.cwiseAbs().maxCoeff(), limit) << bias->name;
      }
      EXPECT_LE(array.values.cwiseAbs().maxCoeff(), limit) << array.name;
      EXPECT_GT(array.values.cwiseAbs().maxCoeff(), 0.5 * limit)
          << array.name << " drawn too narrow";
    }
  }
}

TEST(Network, ConcatRoutesGradientsToBothBranches) {
  RandomEngine engine(33);
  LayerList<double> layers;
  layers.push_back(std::make_unique<Concat<double>>(
      "concat", std::make_unique<Dense<double>>("dense", 4, 2, WeightInit::He),
      std::make_unique<NMFEncoder<double>>("nmf", 4, 3, 2, 1e-3)));
  Network<double> network(std::move(layers));
  network.initialize(34);
  const MatrixD input = random_matrix(4, 3, 0, 1, engine);
  const auto output = network.forward(view(input));
  ASSERT_EQ(output.rows(), 5);

  // A gradient on the first branch's rows only reaches the first branch's parameters.
  MatrixD output_gradient = MatrixD::Zero(5, 3);
  output_gradient.topRows(2).setOnes();
  network.zero_gradients();
  network.backward(view(output_gradient));
  const auto dense_gradient = network.named_gradients()[0].values;  // dense/W
  const auto nmf_gradient = network.named_gradients()[2].values;    // nmf/H
  EXPECT_GT(dense_gradient.norm(), 0.0);
  EXPECT_EQ(nmf_gradient.norm(), 0.0);

  output_gradient.setZero();
  output_gradient.bottomRows(3).setOnes();
  network.zero_gradients();
  network.backward(view(output_gradient));
  EXPECT_EQ(dense_gradient.norm(), 0.0);
  EXPECT_GT(nmf_gradient.norm(), 0.0);
}

/// A layer with a buffer and no parameters: counts the samples it has seen.
class SampleCounter final : public Layer<double> {
 public:
  explicit SampleCounter(Index size) : Layer<double>("counter", size, size) {}
  std::vector<ArraySpec> buffer_arrays() const override { return {{"seen", {1}, 0}}; }
  void bind_buffers(double* buffers) override { seen_ = buffers; }

 private:
  void allocate(Index /*max_batch*/) override {}
  BatchView<double> compute_forward(BatchView<double> input) override {
    *seen_ += static_cast<double>(input.cols());
    return input;
  }
  BatchView<double> compute_backward(BatchView<double> output_gradient) override {
    return output_gradient;
  }
  double* seen_ = nullptr;
};

TEST(Network, BuffersLiveApartFromParameters) {
  LayerList<double> layers;
  layers.push_back(std::make_unique<SampleCounter>(3));
  layers.push_back(std::make_unique<Dense<double>>("dense", 3, 2, WeightInit::Glorot));
  Network<double> network(std::move(layers));
  const MatrixD input = MatrixD::Ones(3, 4);
  network.forward(view(input));
  network.forward(view(input));
  EXPECT_EQ(network.parameter_count(), 8);
  ASSERT_EQ(network.named_buffers().size(), 1u);
  EXPECT_EQ(network.named_buffers()[0].name, "counter/seen");
  EXPECT_EQ(network.buffers()[0], 8.0);
}

TEST(Network, ReservedBuffersServeSmallerBatches) {
  const ArchitectureOptions options = tiny(Architecture::Cnn);
  Network<float> network = make_network<float>(options, 1);
  network.reserve(8);
  const Matrix<float> input = Matrix<float>::Ones(options.input.size(), 8);
  const float* full = network.forward(BatchView<float>(input.data(), input.rows(), 8)).data();
  const float* partial = network.forward(BatchView<float>(input.data(), input.rows(), 5)).data();
  EXPECT_EQ(full, partial);
}

TEST(Network, RejectsMismatchedLayersAndDuplicateNames) {
  LayerList<double> mismatched;
  mismatched.push_back(std::make_unique<Dense<double>>("a", 3, 2, WeightInit::He));
  mismatched.push_back(std::make_unique<Dense<double>>("b", 4, 2, WeightInit::He));
  EXPECT_THROW(Network<double>(std::move(mismatched)), InputError);
  LayerList<double> duplicated;
  duplicated.push_back(std::make_unique<Dense<double>>("a", 3, 3, WeightInit::He));
  duplicated.push_back(std::make_unique<Dense<double>>("a", 3, 2, WeightInit::He));
  EXPECT_THROW(Network<double>(std::move(duplicated)), InputError);
}

TEST(Network, RejectsInputOfTheWrongSize) {
  Network<double> network = make_network<double>(tiny(Architecture::Nmf), 1);
  const MatrixD input = MatrixD::Ones(41, 2);
  EXPECT_THROW(network.forward(view(input)), InputError);
}

TEST(Architectures, NamesRoundTrip) {
  for (Architecture architecture : {Architecture::Cnn, Architecture::Nmf, Architecture::NmfCnn}) {
    EXPECT_EQ(parse_named("--model", name_of(architecture, kArchitectureNames), kArchitectureNames),
              architecture);
  }
  EXPECT_EQ(name_of(Architecture::NmfCnn, kArchitectureNames), "nmf-cnn");
  try {
    parse_named("--model", "resnet", kArchitectureNames);
    ADD_FAILURE() << "resnet parsed";
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "--model: 'resnet' is not one of cnn, nmf, nmf-cnn");
  }
}

}  // namespace
}  // namespace dnmf::nn::testing
