// Properties of the solver on one process, in double and in single precision: the Gram-trick
// objective equals the direct one, MU and HALS never increase it, planted exact low-rank
// matrices are recovered.

#include <gtest/gtest.h>

#include <cmath>

#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Matrix;
using dnmf::nmf::Algorithm;
using testing_support::rounded;
using testing_support::run_serial;
using testing_support::tolerance;

template <class Scalar>
class Objective : public ::testing::Test {};
TYPED_TEST_SUITE(Objective, testing_support::Precisions);

TYPED_TEST(Objective, GramTrickEqualsDirectResidual) {
  using Scalar = TypeParam;
  const Matrix A = rounded<Scalar>(naive::random_matrix(23, 19, 21));
  const Matrix W0 = naive::random_matrix(23, 5, 22);
  const Matrix H0 = naive::random_matrix(5, 19, 23);
  const double norm_A =
      std::sqrt(naive::squared_residual(A, Matrix::Zero(23, 5), Matrix::Zero(5, 19)));
  for (const Algorithm algorithm : {Algorithm::Mu, Algorithm::Hals, Algorithm::Bpp}) {
    for (const int iterations : {1, 2, 7}) {
      const auto run = run_serial<Scalar>(A, W0, H0, algorithm, iterations);
      const double direct = std::sqrt(naive::squared_residual(A, run.W, run.H)) / norm_A;
      ASSERT_EQ(run.result.history.size(), static_cast<std::size_t>(iterations));
      EXPECT_NEAR(run.result.history.back().relative_error, direct,
                  tolerance<Scalar>(1e-10, 1e-6) * direct)
          << to_string(algorithm) << " after " << iterations;
      EXPECT_NEAR(run.result.relative_error, direct, tolerance<Scalar>(1e-12, 1e-7) * direct);
    }
  }
}

TYPED_TEST(Objective, MuAndHalsNeverIncrease) {
  using Scalar = TypeParam;
  const Matrix A = rounded<Scalar>(naive::random_matrix(40, 30, 31));
  const Matrix W0 = rounded<Scalar>(naive::random_matrix(40, 6, 32));
  const Matrix H0 = rounded<Scalar>(naive::random_matrix(6, 30, 33));
  for (const Algorithm algorithm : {Algorithm::Mu, Algorithm::Hals}) {
    // Check with the independent direct residual after each iteration count.
    double previous = naive::squared_residual(A, W0, H0);
    for (int iterations = 1; iterations <= 40; iterations += 3) {
      const auto run = run_serial<Scalar>(A, W0, H0, algorithm, iterations);
      const double now = naive::squared_residual(A, run.W, run.H);
      EXPECT_LE(now, previous * (1 + 1e-12)) << to_string(algorithm) << " at " << iterations;
      previous = now;
    }
    const auto run = run_serial<Scalar>(A, W0, H0, algorithm, 200);
    // The recorded (Gram-trick) error: in float, good to about 1e-7 relatively (see solver.hpp).
    const auto& history = run.result.history;
    for (std::size_t t = 1; t < history.size(); ++t) {
      EXPECT_LE(history[t].relative_error,
                history[t - 1].relative_error * (1 + tolerance<Scalar>(1e-9, 1e-7)))
          << to_string(algorithm) << " iteration " << history[t].iteration;
    }
  }
}

TYPED_TEST(Objective, BppAndHalsRecoverPlantedExactLowRank) {
  using Scalar = TypeParam;
  // Sparse planted factors (about 40% zeros) make the factorization essentially unique, the
  // setting in which exact recovery is a fair demand (Donoho & Stodden 2003).
  Matrix W_true = naive::random_matrix(60, 4, 41);
  Matrix H_true = naive::random_matrix(4, 45, 42);
  W_true = (W_true.array() < 0.4).select(0.0, W_true);
  H_true = (H_true.array() < 0.4).select(0.0, H_true);
  const Matrix A = W_true * H_true;
  const Matrix W0 = naive::random_matrix(60, 4, 43);
  const Matrix H0 = naive::random_matrix(4, 45, 44);
  for (const Algorithm algorithm : {Algorithm::Bpp, Algorithm::Hals}) {
    const auto run =
        run_serial<Scalar>(A, W0, H0, algorithm, algorithm == Algorithm::Bpp ? 300 : 3000);
    // In float the attainable error is about eps_float cond(H) (B = H Aᵀ is a float product):
    // measured 9e-5 for BPP and 8e-5 for HALS here.
    EXPECT_LT(run.result.relative_error, tolerance<Scalar>(1e-6, 3e-4)) << to_string(algorithm);
  }
}

TEST(StopRule, ZeroToleranceRunsToTheIterationLimit) {
  // Once the error is flat it wanders by rounding, up as often as down (a rise made the stopping
  // rule fire); --tol 0 promises --max-iter all the same.
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const dnmf::nmf::DenseBlock block{dnmf::RowMatrix(naive::random_matrix(60, 45, 41))};
  const dnmf::nmf::InputStatistics statistics = dnmf::nmf::input_statistics(block, self);
  dnmf::nmf::SolverOptions options;
  options.algorithm = Algorithm::Hals;
  options.rank = 4;
  options.stop.max_iterations = 2000;
  options.stop.tolerance = 0;
  dnmf::nmf::Factors factors{naive::random_matrix(4, 60, 43), naive::random_matrix(4, 45, 44)};
  const auto result = dnmf::nmf::solve(block, factors, options, statistics, self);
  EXPECT_EQ(result.iterations, 2000);
  EXPECT_EQ(result.reason, dnmf::nmf::StopReason::MaxIterations);
}

}  // namespace
