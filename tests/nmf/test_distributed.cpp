// The distributed solver at any rank count equals the one-process solver: each rank runs the
// factorization of its row block on MPI_COMM_WORLD and the whole matrix on MPI_COMM_SELF, and
// compares its rows of W and all of H. Row counts are chosen not divisible by 2, 3 or 4, and
// one case has fewer rows than ranks (a rank with no rows must still work).

#include <gtest/gtest.h>

#include "dnmf/core/random.hpp"
#include "dnmf/mpi/partition.hpp"
#include "error_bounds.hpp"
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

  const dnmf::nmf::Factors initial =
      dnmf::nmf::random_factors(c.rank, c.rows, 0, c.cols, whole_statistics.mean(), 5);
  dnmf::nmf::Factors reference = initial;
  const auto serial = dnmf::nmf::solve(whole, reference, options, whole_statistics, self);

  const dnmf::mpi::BlockPartition partition(c.rows, world.size());
  const Index begin = partition.begin(world.rank());
  const Index count = partition.size(world.rank());
  const dnmf::nmf::DenseBlock mine{dnmf::RowMatrix(A.middleRows(begin, count))};
  const auto statistics = dnmf::nmf::input_statistics(mine, world);
  // ||A||² is a sum of N squares in a rank-dependent order: each within γ_N of the exact one.
  const double N = static_cast<double>(A.size());
  EXPECT_NEAR(statistics.squared_norm, whole_statistics.squared_norm,
              2 * error_bounds::gamma<double>(N) * whole_statistics.squared_norm);
  dnmf::nmf::Factors factors =
      dnmf::nmf::random_factors(c.rank, count, begin, c.cols, statistics.mean(), 5);
  // Equal up to the rounding of mean(A), whose sum (γ_N) is reduced in a rank-dependent order:
  // each start is scale z with scale = sqrt(sum / (m n) / k), within (γ_N + 2u) / 2 + 2u of
  // the exact scale (two divisions, the square root, the product).
  const double u = error_bounds::unit_roundoff<double>();
  const double start_tolerance = error_bounds::gamma<double>(N) + 6 * u;
  EXPECT_LT(testing_support::relative_difference(factors.H, initial.H), start_tolerance)
      << "initial H must not depend on the rank count";
  if (count > 0) {
    EXPECT_LT(testing_support::relative_difference(factors.Wt, initial.Wt.middleCols(begin, count)),
              start_tolerance)
        << "nor initial W";
  }

  const auto distributed = dnmf::nmf::solve(mine, factors, options, statistics, world);
  EXPECT_EQ(distributed.iterations, serial.iterations);

  // The two runs differ in the order of their sums: each iteration's rounding (both runs), times
  // the amplification of the serial run, measured from A and the start perturbed.
  const double m = static_cast<double>(c.rows);
  const double n = static_cast<double>(c.cols);
  const double k = static_cast<double>(c.rank);
  const double condition =
      algorithm == Algorithm::Bpp
          ? std::max(error_bounds::condition_number(reference.Wt * reference.Wt.transpose()),
                     error_bounds::condition_number(reference.H * reference.H.transpose()))
          : 0.0;
  const double rounding =
      error_bounds::iteration_rounding<double>(m, n, k, 1, condition) +
      error_bounds::iteration_rounding<double>(m, n, k, world.size(), condition);
  double w_amplification = 0, h_amplification = 0, error_amplification = 0;
  for (int probe = 1; probe <= error_bounds::kScalarProbes; ++probe) {
    const dnmf::nmf::DenseBlock probed_block{
        dnmf::RowMatrix(error_bounds::perturbed(A, 10 * probe))};
    dnmf::nmf::Factors probed{error_bounds::perturbed(initial.Wt, 10 * probe + 1),
                              error_bounds::perturbed(initial.H, 10 * probe + 2)};
    const auto probed_run = dnmf::nmf::solve(probed_block, probed, options,
                                             dnmf::nmf::input_statistics(probed_block, self), self);
    w_amplification =
        std::max(w_amplification, error_bounds::amplification(reference.Wt, probed.Wt));
    h_amplification = std::max(h_amplification, error_bounds::amplification(reference.H, probed.H));
    error_amplification =
        std::max(error_amplification,
                 error_bounds::amplification(serial.relative_error, probed_run.relative_error));
  }
  const Matrix expected_Wt = reference.Wt.middleCols(begin, count);
  if (count > 0) {
    // This rank's rows only: a part of W may differ by up to all of W's difference.
    EXPECT_LT((factors.Wt - expected_Wt).norm(),
              error_bounds::iterated_tolerance(w_amplification, rounding) * reference.Wt.norm())
        << to_string(algorithm) << " W rows " << begin << ".." << begin + count;
  }
  EXPECT_LT(testing_support::relative_difference(factors.H, reference.H),
            error_bounds::iterated_tolerance(h_amplification, rounding))
      << to_string(algorithm) << " H";
  // The final errors, each also evaluated directly in double from its own factors.
  const auto sums = error_bounds::residual_sums(A, reference.Wt.transpose() * reference.H);
  const double evaluation =
      error_bounds::relative_error_bound(error_bounds::direct_fit_bound<double>(sums, n, k), N);
  EXPECT_NEAR(distributed.relative_error, serial.relative_error,
              (error_bounds::iterated_tolerance(error_amplification, rounding) + 2 * evaluation) *
                  serial.relative_error);
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
  EXPECT_LT((before - history.back().relative_error) / before, options.stop.tolerance);
  // Every rank stopped at the same iteration.
  EXPECT_EQ(world.max(result.iterations), world.min(result.iterations));
}

}  // namespace
