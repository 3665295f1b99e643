// Data-parallel training against one process: the same seed and global batches on this job's
// ranks (exchanging through shared memory and by messages) and on one rank (MPI_COMM_SELF,
// computed on every rank) give the same parameters after 20 steps (only the order of the
// gradient sums differs: to one step's rounding times the measured amplification of the 20
// steps, error_bounds.hpp), and after every step all ranks
// hold bitwise equal parameters (a hash of the flat parameter buffer, compared by min and max
// over the ranks). The optimizer state, which each rank steps only a block of, gathered matches
// one rank's too. Runs at 1-4 ranks; small batches split unevenly, a last batch shorter than the
// others, frozen arrays; stop votes; the ring collectives of the step against sums computed by
// the test. The layers split their samples and gradient rows over 2 and 3 kernel threads as well
// (core/parallel_for.hpp): the same bound holds, since threads too only reorder the sums.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../error_bounds.hpp"
#include "../kernel_threads.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/shared_window.hpp"
#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/data_parallel.hpp"
#include "dnmf/nn/epoch_schedule.hpp"
#include "dnmf/nn/sgd.hpp"

namespace dnmf::nn {
namespace {

constexpr Index kSamples = 45;  // 20 steps of 7 take 3 epochs + 5 steps, last batch of 3
constexpr Index kBatch = 7;
constexpr int kSteps = 20;

/// FNV-1a over the bytes of the parameters: equal hashes on all ranks mean equal bits.
template <typename Scalar>
std::uint64_t hash(const Vector<Scalar>& values) {
  std::uint64_t h = 1469598103934665603ull;
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  for (std::size_t i = 0; i < static_cast<std::size_t>(values.size()) * sizeof(Scalar); ++i) {
    h = (h ^ bytes[i]) * 1099511628211ull;
  }
  return h;
}

template <typename Scalar>
struct Data {
  Matrix<Scalar> images{36, kSamples};
  Eigen::VectorXi labels{kSamples};
  Data() {
    RandomEngine engine(7);
    fill_uniform(images, 0.0, 1.0, engine);
    for (Index i = 0; i < kSamples; ++i) labels[i] = static_cast<int>(i % 3);
    for (Index i = 0; i < kSamples; ++i) images(labels[i] * 12, i) += 2;  // learnable
  }
};

// hidden = 60 makes the first dense layer wide against the batch: its weight gradient then comes
// from the gathered global batch (DataParallelTrainer::gathered_layers), not from summing.
ArchitectureOptions small(Architecture architecture, Index hidden = 5) {
  ArchitectureOptions options;
  options.architecture = architecture;
  options.input = {6, 6, 1};
  options.classes = 3;
  options.filters = 3;
  options.hidden = hidden;
  options.nmf_rank = 4;
  options.nmf_iterations = 3;
  return options;
}

template <typename Scalar>
struct Trained {
  Vector<Scalar> parameters;
  Vector<Scalar> optimizer_state;  // every state array, gathered, one after another
};

/// Trains kSteps steps on `comm` at `threads` kernel threads a rank; checks bitwise equality
/// across its ranks after every step. A probe (seed > 0) perturbs the images and the initial
/// parameters (error_bounds::perturbed).
template <typename Scalar>
Trained<Scalar> train(mpi::Communicator& comm, Architecture architecture, bool sgd, bool freeze,
                      Index hidden, Exchange exchange = Exchange::SharedMemoryOnOneNode,
                      std::uint64_t probe = 0, int threads = 1) {
  const test::ScopedKernelThreads kernel_threads(threads);
  Data<Scalar> data;
  Network<Scalar> network = make_network<Scalar>(small(architecture, hidden), 3);
  if (probe > 0) {
    data.images = error_bounds::perturbed(data.images, probe);
    network.parameters() = error_bounds::perturbed(Vector<Scalar>(network.parameters()), probe + 1);
  }
  std::unique_ptr<Optimizer<Scalar>> optimizer;
  if (sgd) {
    optimizer = std::make_unique<Sgd<Scalar>>(network.parameter_count(),
                                              SgdOptions<Scalar>{Scalar(0.05), Scalar(0.9)});
  } else {
    optimizer = std::make_unique<Adam<Scalar>>(network.parameter_count(), AdamOptions<Scalar>{});
  }
  const EpochSchedule schedule(kSamples, kBatch, comm.size(), comm.rank(), Shuffle::Global, 11);
  DataParallelTrainer<Scalar> trainer(network, *optimizer, comm, schedule.max_local_batch(),
                                      exchange);
  EXPECT_EQ(trainer.shares_memory(), exchange == Exchange::SharedMemoryOnOneNode &&
                                         comm.size() > 1 && mpi::SharedWindow::on_one_node(comm));
  if (freeze) trainer.freeze("nmf/H");
  const bool wide_dense = hidden > 5 && architecture != Architecture::Nmf;
  EXPECT_EQ(trainer.gathered_layers(),
            wide_dense ? std::vector<std::string>{"dense1"} : std::vector<std::string>{});
  Matrix<Scalar> images(36, schedule.local_samples());
  Eigen::VectorXi labels(schedule.local_samples());
  int step = 0;
  for (std::int64_t epoch = 0; step < kSteps; ++epoch) {
    const std::vector<std::int64_t> order = schedule.local_order(epoch);
    for (std::size_t i = 0; i < order.size(); ++i) {
      images.col(static_cast<Index>(i)) = data.images.col(order[i]);
      labels[static_cast<Index>(i)] = data.labels[order[i]];
    }
    for (Index s = 0; s < schedule.steps() && step < kSteps; ++s, ++step) {
      const Index begin = schedule.local_begin(s);
      const Index count = schedule.local_count(s);
      trainer.step(BatchView<Scalar>(images.data() + begin * 36, 36, count),
                   labels.segment(begin, count), schedule.global_count(s));
      const std::uint64_t h = hash<Scalar>(std::as_const(network).parameters());
      EXPECT_EQ(comm.min(h), comm.max(h)) << "ranks differ after step " << step;
    }
  }
  trainer.gather_optimizer_state();
  Trained<Scalar> trained{std::as_const(network).parameters(), {}};
  for (const NamedArray<Scalar>& array : optimizer->named_state()) {
    trained.optimizer_state.conservativeResize(trained.optimizer_state.size() +
                                               array.values.size());
    trained.optimizer_state.tail(array.values.size()) = array.values;
  }
  const std::uint64_t h = hash<Scalar>(trained.optimizer_state);
  EXPECT_EQ(comm.min(h), comm.max(h)) << "ranks hold different optimizer states";
  return trained;
}

struct Case {
  Architecture architecture;
  bool sgd;
  bool freeze;
  Index hidden = 5;
};

class DataParallel : public ::testing::TestWithParam<Case> {};

template <typename Scalar>
void expect_same_as_one_rank(const Case& c) {
  mpi::Communicator world = mpi::Communicator::world();
  mpi::Communicator self = mpi::Communicator::self();
  const Trained<Scalar> serial = train<Scalar>(self, c.architecture, c.sgd, c.freeze, c.hidden);
  const Network<Scalar> initial = make_network<Scalar>(small(c.architecture, c.hidden), 3);
  ASSERT_GT((serial.parameters - initial.parameters()).norm(), 0) << "training moved nothing";
  const auto relative = [](const Vector<Scalar>& a, const Vector<Scalar>& b) {
    return static_cast<double>((a - b).norm() / b.norm());
  };
  // One step's rounding, per gradient entry: a sample's forward and backward (the longest chain
  // is the NMF encoder's, (2^T - 1)(2d + k + 3) roundings for T = 3 iterations over d = 36
  // features at k = 4, its relative rounding doubling with each; then products over at most
  // `hidden` units) and the sum over the global batch and the ranks, in both runs. The 20 steps
  // amplify it by what the serial run measures from the images and the start perturbed.
  const double chain = 7 * (2 * 36 + 4 + 3) + static_cast<double>(c.hidden) + kBatch + world.size();
  const double rounding = 2 * error_bounds::gamma<Scalar>(chain);
  const Trained<Scalar> probed = train<Scalar>(self, c.architecture, c.sgd, c.freeze, c.hidden,
                                               Exchange::SharedMemoryOnOneNode, 1);
  const double tolerance = error_bounds::iterated_tolerance(
      error_bounds::amplification(serial.parameters, probed.parameters), rounding);
  const double state_tolerance = error_bounds::iterated_tolerance(
      error_bounds::amplification(serial.optimizer_state, probed.optimizer_state), rounding);
  struct Layout {
    Exchange exchange;
    int threads;
  };
  for (const Layout layout :
       {Layout{Exchange::SharedMemoryOnOneNode, 1}, Layout{Exchange::Messages, 1},
        Layout{Exchange::SharedMemoryOnOneNode, 2}, Layout{Exchange::SharedMemoryOnOneNode, 3}}) {
    const Trained<Scalar> parallel = train<Scalar>(world, c.architecture, c.sgd, c.freeze, c.hidden,
                                                   layout.exchange, 0, layout.threads);
    const std::string how =
        std::string(layout.exchange == Exchange::Messages ? " by messages"
                                                          : " through shared memory") +
        ", " + std::to_string(layout.threads) + " threads a rank";
    EXPECT_LT(relative(parallel.parameters, serial.parameters), tolerance)
        << "at " << world.size() << " ranks" << how;
    // Each rank steps its block of the state; gathered, it is the one-rank state.
    ASSERT_EQ(parallel.optimizer_state.size(), serial.optimizer_state.size());
    EXPECT_LT(relative(parallel.optimizer_state, serial.optimizer_state), state_tolerance)
        << "optimizer state at " << world.size() << " ranks" << how;
  }
}

TEST_P(DataParallel, DoubleMatchesOneRank) { expect_same_as_one_rank<double>(GetParam()); }
TEST_P(DataParallel, FloatMatchesOneRank) { expect_same_as_one_rank<float>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Models, DataParallel,
                         ::testing::Values(Case{Architecture::Cnn, false, false},
                                           Case{Architecture::Nmf, true, false},
                                           Case{Architecture::NmfCnn, false, false},
                                           Case{Architecture::NmfCnn, false, true},
                                           Case{Architecture::Cnn, true, false, 60},
                                           Case{Architecture::NmfCnn, false, true, 60}));

TEST(DataParallel, FrozenBasisStaysPut) {
  mpi::Communicator world = mpi::Communicator::world();
  const Network<double> initial = make_network<double>(small(Architecture::Nmf), 3);
  const Vector<double> trained = train<double>(world, Architecture::Nmf, false, true, 5).parameters;
  // nmf/H is the first array of the nmf model: 4 x 36 values.
  EXPECT_EQ(trained.head(4 * 36), initial.parameters().head(4 * 36));
  EXPECT_NE(trained.tail(10), initial.parameters().tail(10));
}

/// When the trainer goes, the network has its own parameters again, as trained (they lived in
/// shared memory at more than one rank), and its gathered dense layers compute their weight
/// gradients in backward again.
TEST(DataParallel, NetworkIsWholeAgainAfterTheTrainer) {
  mpi::Communicator world = mpi::Communicator::world();
  const Data<double> data;
  Network<double> network = make_network<double>(small(Architecture::Cnn, 60), 3);
  Vector<double> trained;
  {
    Adam<double> adam(network.parameter_count(), {});
    DataParallelTrainer<double> trainer(network, adam, world, 1);
    ASSERT_FALSE(trainer.gathered_layers().empty());  // dense1, and dense2 at batch 1 a rank
    const Index sample = world.rank();
    trainer.step(BatchView<double>(data.images.data() + sample * 36, 36, 1),
                 data.labels.segment(sample, 1), world.size());
    trained = std::as_const(network).parameters();
  }
  EXPECT_EQ(std::as_const(network).parameters(), trained);
  network.parameters()[0] += 1;  // the network's own buffer, not freed memory
  network.zero_gradients();
  SoftmaxCrossEntropy<double> loss(network.output_size());
  loss.evaluate(network.forward(BatchView<double>(data.images.data(), 36, 3)), data.labels.head(3));
  network.backward(loss.gradient());
  for (const NamedArray<double>& gradient : network.named_gradients()) {
    EXPECT_GT(gradient.values.norm(), 0) << gradient.name;
  }
}

/// The ring reduce-scatter and allgather against sums computed here, blocks of uneven sizes
/// (rank 0's empty).
template <typename Scalar>
void expect_ring_collectives_sum_blocks() {
  mpi::Communicator world = mpi::Communicator::world();
  const int ranks = world.size();
  std::vector<int> counts, displacements;
  int total = 0;
  for (int r = 0; r < ranks; ++r) {
    counts.push_back((3 * r) % 5 + (r > 0 ? 1 : 0));
    displacements.push_back(total);
    total += counts.back();
  }
  // Value i on rank q: (i + 1) (q + 1), so the sum over ranks is (i + 1) p (p + 1) / 2.
  const auto summed = [&](int i) { return static_cast<Scalar>((i + 1) * ranks * (ranks + 1) / 2); };
  Vector<Scalar> data(total);
  for (int i = 0; i < total; ++i) data[i] = static_cast<Scalar>((i + 1) * (world.rank() + 1));
  Vector<Scalar> scratch(*std::max_element(counts.begin(), counts.end()) + 1);
  world.ring_reduce_scatter_sum(data.data(), counts, displacements, scratch.data());
  const auto mine = static_cast<std::size_t>(world.rank());
  for (int i = displacements[mine]; i < displacements[mine] + counts[mine]; ++i) {
    EXPECT_EQ(data[i], summed(i)) << "value " << i << " on rank " << world.rank();
  }
  Vector<Scalar> gathered = Vector<Scalar>::Constant(total, Scalar(-1));
  gathered.segment(displacements[mine], counts[mine]) =
      data.segment(displacements[mine], counts[mine]);
  world.ring_allgather(gathered.data(), counts, displacements);
  for (int i = 0; i < total; ++i) EXPECT_EQ(gathered[i], summed(i)) << "value " << i;
}

TEST(RingCollectives, ReduceScatterAndAllgatherMatchSumsComputedHere) {
  expect_ring_collectives_sum_blocks<float>();
  expect_ring_collectives_sum_blocks<double>();
}

/// A stop vote from any one rank reaches every rank in that step, and only in that step.
TEST(DataParallel, OneRanksStopVoteReachesEveryRank) {
  mpi::Communicator world = mpi::Communicator::world();
  const Data<float> data;
  Network<float> network = make_network<float>(small(Architecture::Cnn), 3);
  Adam<float> adam(network.parameter_count(), {});
  DataParallelTrainer<float> trainer(network, adam, world, 1);
  const auto step = [&](bool vote) {
    const Index sample = world.rank();
    trainer.step(BatchView<float>(data.images.data() + sample * 36, 36, 1),
                 data.labels.segment(sample, 1), world.size(), vote);
    return trainer.stop_requested();
  };
  for (int voter = 0; voter < world.size(); ++voter) {
    EXPECT_TRUE(step(world.rank() == voter)) << "rank " << voter << " voted";
    EXPECT_FALSE(step(false)) << "after rank " << voter << "'s vote";
  }
}

/// Every sample once an epoch, each global batch split in balanced blocks over the ranks.
TEST(EpochSchedule, DealsEverySampleOnceAnEpoch) {
  for (const Shuffle shuffle : {Shuffle::Global, Shuffle::Local}) {
    for (int ranks = 1; ranks <= 4; ++ranks) {
      std::vector<int> seen(kSamples, 0);
      Index total = 0;
      for (int rank = 0; rank < ranks; ++rank) {
        const EpochSchedule schedule(kSamples, kBatch, ranks, rank, shuffle, 5);
        for (const std::int64_t sample : schedule.local_order(2)) ++seen[sample];
        Index counted = 0;
        for (Index s = 0; s < schedule.steps(); ++s) counted += schedule.local_count(s);
        EXPECT_EQ(counted, schedule.local_samples());
        if (rank == 0) {
          for (Index s = 0; s < schedule.steps(); ++s) total += schedule.global_count(s);
        }
      }
      EXPECT_EQ(total, kSamples);
      for (const int count : seen) EXPECT_EQ(count, 1);
    }
  }
  // Global shuffle: a new order each epoch, the same one for the same (seed, epoch).
  const EpochSchedule one(kSamples, kBatch, 1, 0, Shuffle::Global, 5);
  EXPECT_EQ(one.local_order(3), one.local_order(3));
  EXPECT_NE(one.local_order(3), one.local_order(4));
}

}  // namespace
}  // namespace dnmf::nn
