// Data-parallel training against one process: the same seed and global batches on this job's
// ranks and on one rank (MPI_COMM_SELF, computed on every rank) give the same parameters after
// 20 steps (1e-10 relative in double, 1e-4 in float32: only the order of the gradient sums
// differs), and after every step all ranks hold bitwise equal parameters (a hash of the flat
// parameter buffer, compared by min and max over the ranks). Runs at 1-4 ranks; small batches
// split unevenly, a last batch shorter than the others, frozen arrays.

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

#include "dnmf/mpi/communicator.hpp"
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

ArchitectureOptions small(Architecture architecture) {
  ArchitectureOptions options;
  options.architecture = architecture;
  options.input = {6, 6, 1};
  options.classes = 3;
  options.filters = 3;
  options.hidden = 5;
  options.nmf_rank = 4;
  options.nmf_iterations = 3;
  return options;
}

/// Trains kSteps steps on `comm`; checks bitwise equality across its ranks after every step.
template <typename Scalar>
Vector<Scalar> train(mpi::Communicator& comm, Architecture architecture, bool sgd, bool freeze) {
  const Data<Scalar> data;
  Network<Scalar> network = make_network<Scalar>(small(architecture), 3);
  std::unique_ptr<Optimizer<Scalar>> optimizer;
  if (sgd) {
    optimizer = std::make_unique<Sgd<Scalar>>(network.parameter_count(),
                                              SgdOptions<Scalar>{Scalar(0.05), Scalar(0.9)});
  } else {
    optimizer = std::make_unique<Adam<Scalar>>(network.parameter_count(), AdamOptions<Scalar>{});
  }
  const EpochSchedule schedule(kSamples, kBatch, comm.size(), comm.rank(), Shuffle::Global, 11);
  DataParallelTrainer<Scalar> trainer(network, *optimizer, comm, schedule.max_local_batch());
  if (freeze) trainer.freeze("nmf/H");
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
  return std::as_const(network).parameters();
}

struct Case {
  Architecture architecture;
  bool sgd;
  bool freeze;
};

class DataParallel : public ::testing::TestWithParam<Case> {};

template <typename Scalar>
void expect_same_as_one_rank(const Case& c, double tolerance) {
  mpi::Communicator world = mpi::Communicator::world();
  mpi::Communicator self = mpi::Communicator::self();
  const Vector<Scalar> parallel = train<Scalar>(world, c.architecture, c.sgd, c.freeze);
  const Vector<Scalar> serial = train<Scalar>(self, c.architecture, c.sgd, c.freeze);
  const Network<Scalar> initial = make_network<Scalar>(small(c.architecture), 3);
  ASSERT_GT((serial - initial.parameters()).norm(), 0) << "training moved nothing";
  const double difference = static_cast<double>((parallel - serial).norm() / serial.norm());
  EXPECT_LT(difference, tolerance) << "at " << world.size() << " ranks";
}

TEST_P(DataParallel, DoubleMatchesOneRank) { expect_same_as_one_rank<double>(GetParam(), 1e-10); }
TEST_P(DataParallel, FloatMatchesOneRank) { expect_same_as_one_rank<float>(GetParam(), 1e-4); }

INSTANTIATE_TEST_SUITE_P(Models, DataParallel,
                         ::testing::Values(Case{Architecture::Cnn, false, false},
                                           Case{Architecture::Nmf, true, false},
                                           Case{Architecture::NmfCnn, false, false},
                                           Case{Architecture::NmfCnn, false, true}));

TEST(DataParallel, FrozenBasisStaysPut) {
  mpi::Communicator world = mpi::Communicator::world();
  const Network<double> initial = make_network<double>(small(Architecture::Nmf), 3);
  const Vector<double> trained = train<double>(world, Architecture::Nmf, false, true);
  // nmf/H is the first array of the nmf model: 4 x 36 values.
  EXPECT_EQ(trained.head(4 * 36), initial.parameters().head(4 * 36));
  EXPECT_NE(trained.tail(10), initial.parameters().tail(10));
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
