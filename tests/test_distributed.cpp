// The distributed solver at any rank count equals the one-process solver: each rank runs the
// factorization of its row block on MPI_COMM_WORLD and the whole matrix on MPI_COMM_SELF, and
// compares its rows of W and all of H. Row counts are chosen not divisible by 2, 3 or 4, and
// one case has fewer rows than ranks (a rank with no rows must still work).

#include <gtest/gtest.h>

#include "dnmf/core/random.hpp"
#include "dnmf/mpi/partition.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::Algorithm;

struct Case {
  Index rows;
  Index cols;
  Index rank;
  int iterations;
};

void expect_rank_invariant(Algorithm algorithm, const Case& c) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const Matrix A = naive::random_matrix(c.rows, c.cols, 7);
  const dnmf::nmf::DenseBlock whole{dnmf::RowMatrix(A)};
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const auto whole_statistics = dnmf::nmf::input_statistics(whole, self);

  dnmf::nmf::SolverOptions options;
  options.algorithm = algorithm;
  options.rank = c.rank;
  options.stop.max_iterations = c.iterations;
  options.stop.window = c.iterations + 1;

  const dnmf::nmf::Factors initial = dnmf::nmf::random_factors(c.rank, c.rows, 0, c.cols,
                                                               whole_statistics.mean(), 5);
  dnmf::nmf::Factors reference = initial;
  const auto serial = dnmf::nmf::solve(whole, reference, options, whole_statistics, self);

  const dnmf::mpi::BlockPartition partition(c.rows, world.size());
  const Index begin = partition.begin(world.rank());
  const Index count = partition.size(world.rank());
  const dnmf::nmf::DenseBlock mine{dnmf::RowMatrix(A.middleRows(begin, count))};
  const auto statistics = dnmf::nmf::input_statistics(mine, world);
  EXPECT_DOUBLE_EQ(statistics.squared_norm, whole_statistics.squared_norm);
  dnmf::nmf::Factors factors = dnmf::nmf::random_factors(c.rank, count, begin, c.cols,
                                                         statistics.mean(), 5);
  // Equal up to the rounding of mean(A), whose sum is reduced in a rank-dependent order.
  EXPECT_LT(testing_support::relative_difference(factors.H, initial.H), 1e-14)
      << "initial H must not depend on the rank count";
  if (count > 0) {
    EXPECT_LT(testing_support::relative_difference(factors.Wt, initial.Wt.middleCols(begin, count)), 1e-14)
        << "nor initial W";
  }

  const auto distributed = dnmf::nmf::solve(mine, factors, options, statistics, world);
  EXPECT_EQ(distributed.iterations, serial.iterations);
  const Matrix expected_Wt = reference.Wt.middleCols(begin, count);
  if (count > 0) {
    EXPECT_LT(testing_support::relative_difference(factors.Wt, expected_Wt), 1e-10)
        << to_string(algorithm) << " W rows " << begin << ".." << begin + count;
  }
  EXPECT_LT(testing_support::relative_difference(factors.H, reference.H), 1e-10)
      << to_string(algorithm) << " H";
  EXPECT_NEAR(distributed.relative_error, serial.relative_error, 1e-10 * serial.relative_error);
}

TEST(Distributed, SameFactorsAsOneProcess) {
  for (const Algorithm algorithm : {Algorithm::Mu, Algorithm::Hals, Algorithm::Bpp}) {
    expect_rank_invariant(algorithm, {37, 23, 5, 30});
  }
}

TEST(Distributed, RanksWithoutRows) {
  for (const Algorithm algorithm : {Algorithm::Mu, Algorithm::Hals, Algorithm::Bpp}) {
    expect_rank_invariant(algorithm, {3, 11, 2, 10});
  }
}

TEST(Distributed, StopsTogetherOnTolerance) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const Matrix A = naive::random_matrix(50, 20, 9);
  const dnmf::mpi::BlockPartition partition(50, world.size());
  const dnmf::nmf::DenseBlock mine{
      dnmf::RowMatrix(A.middleRows(partition.begin(world.rank()), partition.size(world.rank())))};
  const auto statistics = dnmf::nmf::input_statistics(mine, world);
  dnmf::nmf::SolverOptions options;
  options.rank = 3;
  options.stop.max_iterations = 5000;
  options.stop.tolerance = 1e-3;
  dnmf::nmf::Factors factors = dnmf::nmf::random_factors(
      3, partition.size(world.rank()), partition.begin(world.rank()), 20, statistics.mean(), 1);
  const auto result = dnmf::nmf::solve(mine, factors, options, statistics, world);
  EXPECT_TRUE(result.converged());
  EXPECT_LT(result.iterations, 5000);
  const auto& history = result.history;
  ASSERT_GT(history.size(), 10u);
  const double before = history[history.size() - 11].relative_error;
  EXPECT_LT((before - history.back().relative_error) / before, 1e-3);
  // Every rank stopped at the same iteration.
  EXPECT_EQ(world.max(result.iterations), world.min(result.iterations));
}

}  // namespace
