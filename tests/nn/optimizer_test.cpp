// Optimizer steps against hand-computed values on a two-parameter model (Dense 1 -> 1: w, b),
// sharded steps against whole ones, and the projection of the NMF basis after a step.

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "dnmf/core/error.hpp"
#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/dense.hpp"
#include "dnmf/nn/sgd.hpp"
#include "gradient_check.hpp"

namespace dnmf::nn::testing {
namespace {

// The hand-computed values below take a few roundings on either side (the library's step, the
// decimal literals, at most kRoundings in all) of values of the size given with each check.
constexpr double kRoundings = 20;
double hand_tolerance(double magnitude) {
  return error_bounds::gamma<double>(kRoundings) * magnitude;
}

Network<double> two_parameters(double weight, double bias) {
  LayerList<double> layers;
  layers.push_back(std::make_unique<Dense<double>>("dense", 1, 1, WeightInit::Glorot));
  Network<double> network(std::move(layers));
  network.parameters() << weight, bias;
  return network;
}

TEST(Sgd, MomentumStepsMatchHandComputedValues) {
  Network<double> network = two_parameters(1.0, 2.0);
  Sgd<double> sgd(2, {0.1, 0.9});
  network.gradients() << 0.5, -1.0;
  sgd.step(network);
  // v = g = (0.5, -1); p = (1, 2) - 0.1 v
  EXPECT_NEAR(network.parameters()[0], 0.95, hand_tolerance(1));
  EXPECT_NEAR(network.parameters()[1], 2.1, hand_tolerance(2));
  network.gradients() << -0.25, 2.0;
  sgd.step(network, 2.0);
  // v = 0.9 (0.5, -1) + 2 (-0.25, 2) = (-0.05, 3.1); p = (0.95, 2.1) - 0.1 v
  EXPECT_NEAR(network.parameters()[0], 0.955, hand_tolerance(1));
  EXPECT_NEAR(network.parameters()[1], 1.79, hand_tolerance(2.1));
  EXPECT_EQ(sgd.step_count(), 2);
  ASSERT_EQ(sgd.named_state().size(), 1u);
  EXPECT_EQ(sgd.named_state()[0].name, "sgd/velocity");
  EXPECT_NEAR(sgd.named_state()[0].values[1], 3.1, hand_tolerance(4.9));
}

TEST(Adam, BiasCorrectedStepsMatchHandComputedValues) {
  Network<double> network = two_parameters(1.0, 2.0);
  Adam<double> adam(2, {0.1, 0.9, 0.999, 1e-8});
  network.gradients() << 0.5, -1.0;
  adam.step(network);
  // The bias corrections 1 - β^t are differences of nearby numbers: from a rounded β^t they carry
  // u / (1 - β^t) relatively, which moves the step |Δp| by that for β1 and by half of it for β2
  // (through the square root). The step-1 literals are the exact values to 4e-17.
  const auto adam_tolerance = [](double p, double step, int t) {
    const double u = error_bounds::unit_roundoff<double>();
    const double corrections =
        u * (1 / (1 - std::pow(0.9, t)) + 0.5 / (1 - std::pow(0.999, t))) * step;
    return hand_tolerance(p) + corrections + 4e-17;
  };
  // Step 1: m_hat = g, v_hat = g^2, so p moves by 0.1 |g| / (|g| + 1e-8) against the sign of g.
  EXPECT_NEAR(network.parameters()[0], 0.900000002, adam_tolerance(1, 0.1, 1));
  EXPECT_NEAR(network.parameters()[1], 2.099999999, adam_tolerance(2.1, 0.1, 1));
  network.gradients() << -0.25, 2.0;
  adam.step(network);
  // Step 2: m = (0.02, 0.11), v = (0.00031225, 0.004999), corrections 0.19 and 0.001999:
  // p -= 0.1 (0.105263, 0.578947) / ((0.395225, 1.581376) + 1e-8).
  EXPECT_NEAR(network.parameters()[0], 0.8733662987078463, adam_tolerance(0.9, 0.03, 2));
  EXPECT_NEAR(network.parameters()[1], 2.0633896465279253, adam_tolerance(2.1, 0.04, 2));
  const auto state = adam.named_state();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].name, "adam/m");
  EXPECT_EQ(state[1].name, "adam/v");
  // m = 0.9 (0.05) + 0.1 (-0.25), v = 0.999 (0.001) + 0.001 (4), of the terms' magnitudes; the
  // decimal β is rounded (u β), which moves 1 - β by u β / (1 - β) relatively (the corrections
  // cancel it in the step, not in the state).
  const auto state_tolerance = [](double magnitude, double beta) {
    return hand_tolerance(magnitude) +
           error_bounds::unit_roundoff<double>() * beta / (1 - beta) * magnitude;
  };
  EXPECT_NEAR(state[0].values[0], 0.02, state_tolerance(0.045 + 0.025, 0.9));
  EXPECT_NEAR(state[1].values[1], 0.004999, state_tolerance(0.001 + 0.004, 0.999));
}

/// Three optimizers that each step one shard of a network's parameters (their gradients held
/// apart, as the ranks of a data-parallel trainer hold theirs) give, over two steps, the
/// parameters one optimizer's whole steps give, and each its shard of that optimizer's state.
template <typename Make>
void expect_shards_match_whole_steps(Make make) {
  ArchitectureOptions options;
  options.architecture = Architecture::Nmf;
  options.input = {4, 4, 1};
  options.nmf_rank = 3;
  options.hidden = 5;
  Network<double> whole = make_network<double>(options, 5);
  Network<double> sharded = make_network<double>(options, 5);
  const Index count = whole.parameter_count();
  const Index bounds[] = {0, 7, 30, count};
  auto whole_optimizer = make(count);
  decltype(make(count)) shard_optimizers[] = {make(count), make(count), make(count)};
  RandomEngine engine(9);
  for (int step = 0; step < 2; ++step) {
    Vector<double> gradients(count);
    fill_uniform(gradients, -1.0, 1.0, engine);
    whole.gradients() = gradients;
    whole_optimizer->step(whole, 0.5);
    for (int shard = 0; shard < 3; ++shard) {
      Vector<double> block = gradients.segment(bounds[shard], bounds[shard + 1] - bounds[shard]);
      shard_optimizers[shard]->step_shard(sharded, bounds[shard],
                                          FlatMap<double>(block.data(), block.size()), 0.5);
    }
    sharded.project_parameters();
  }
  EXPECT_EQ(sharded.parameters(), whole.parameters());
  const auto whole_state = whole_optimizer->named_state();
  for (int shard = 0; shard < 3; ++shard) {
    const auto state = shard_optimizers[shard]->named_state();
    const Index size = bounds[shard + 1] - bounds[shard];
    for (std::size_t i = 0; i < whole_state.size(); ++i) {
      EXPECT_EQ(state[i].values.segment(bounds[shard], size),
                whole_state[i].values.segment(bounds[shard], size))
          << whole_state[i].name << ", shard " << shard;
    }
  }
  Vector<double> outside(3);
  EXPECT_THROW(whole_optimizer->step_shard(whole, count - 2, FlatMap<double>(outside.data(), 3), 1),
               InputError);
}

TEST(Optimizer, ShardedStepsMatchWholeSteps) {
  expect_shards_match_whole_steps(
      [](Index count) { return std::make_unique<Adam<double>>(count, AdamOptions<double>{}); });
  expect_shards_match_whole_steps(
      [](Index count) { return std::make_unique<Sgd<double>>(count, SgdOptions<double>{}); });
}

TEST(Optimizer, StepProjectsTheNmfBasisOntoNonnegatives) {
  ArchitectureOptions options;
  options.architecture = Architecture::Nmf;
  options.input = {4, 4, 1};
  options.nmf_rank = 3;
  Network<double> network = make_network<double>(options, 5);
  Sgd<double> sgd(network.parameter_count(), {1.0, 0.0});
  network.gradients().setConstant(10.0);  // pushes every H entry far below zero
  sgd.step(network);
  const auto basis = network.named_parameters()[0];
  ASSERT_EQ(basis.name, "nmf/H");
  EXPECT_EQ(basis.values.minCoeff(), 0.0);
  EXPECT_LT(network.named_parameters()[1].values.maxCoeff(), 0.0) << "dense1/W is not projected";
}

TEST(Optimizer, RejectsANetworkOfAnotherSize) {
  Network<double> network = two_parameters(1.0, 2.0);
  Adam<double> adam(3, {});
  EXPECT_THROW(adam.step(network), InputError);
  EXPECT_THROW(Sgd<double>(2, {-0.1, 0.9}), InputError);
}

}  // namespace
}  // namespace dnmf::nn::testing
