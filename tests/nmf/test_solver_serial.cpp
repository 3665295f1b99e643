// Properties of the solver on one process, in double and in single precision: the Gram-trick
// objective equals the direct one, MU and HALS never increase it, planted exact low-rank
// matrices are recovered.

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "error_bounds.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Matrix;
using dnmf::nmf::Algorithm;
using testing_support::rounded;
using testing_support::run_serial;

template <class Scalar>
class Objective : public ::testing::Test {};
TYPED_TEST_SUITE(Objective, testing_support::Precisions);

TYPED_TEST(Objective, GramTrickEqualsDirectResidual) {
  using Scalar = TypeParam;
  const Matrix A = rounded<Scalar>(naive::random_matrix(23, 19, 21));
  const Matrix W0 = naive::random_matrix(23, 5, 22);
  const Matrix H0 = naive::random_matrix(5, 19, 23);
  const double m = 23, n = 19, k = 5;
  const double norm_A =
      std::sqrt(naive::squared_residual(A, Matrix::Zero(23, 5), Matrix::Zero(5, 19)));
  for (const Algorithm algorithm : {Algorithm::Mu, Algorithm::Hals, Algorithm::Bpp}) {
    for (const int iterations : {1, 2, 7}) {
      const auto run = run_serial<Scalar>(A, W0, H0, algorithm, iterations);
      const double direct = std::sqrt(naive::squared_residual(A, run.W, run.H)) / norm_A;
      ASSERT_EQ(run.result.history.size(), static_cast<std::size_t>(iterations));
      // Both sides evaluate the same factors: the naive loops directly in double, the solver by
      // the Gram trick (WᵀA in Scalar) and, at the end, directly with W H in Scalar.
      const auto sums = error_bounds::residual_sums(A, run.W * run.H);
      const double naive_bound = error_bounds::relative_error_bound(
          error_bounds::direct_fit_bound<double>(sums, n, k), m * n);
      const double recorded_bound = error_bounds::relative_error_bound(
          error_bounds::gram_trick_fit_bound(sums, m, n, k, 1,
                                             error_bounds::gamma<Scalar>(m) * sums.correlation),
          m * n);
      const double final_bound = error_bounds::relative_error_bound(
          error_bounds::direct_fit_bound<Scalar>(sums, n, k), m * n);
      EXPECT_NEAR(run.result.history.back().relative_error, direct,
                  (recorded_bound + naive_bound) * direct)
          << to_string(algorithm) << " after " << iterations;
      EXPECT_NEAR(run.result.relative_error, direct, (final_bound + naive_bound) * direct);
    }
  }
}

TYPED_TEST(Objective, MuAndHalsNeverIncrease) {
  using Scalar = TypeParam;
  const Matrix A = rounded<Scalar>(naive::random_matrix(40, 30, 31));
  const Matrix W0 = rounded<Scalar>(naive::random_matrix(40, 6, 32));
  const Matrix H0 = rounded<Scalar>(naive::random_matrix(6, 30, 33));
  const double m = 40, n = 30, k = 6;
  // Monotone in exact arithmetic from any point, so from each computed iterate: a computed
  // iteration may rise only by its rounding of the iterates (factor_rounding_fit_change).
  const double rounding = error_bounds::iteration_rounding<Scalar>(m, n, k);
  for (const Algorithm algorithm : {Algorithm::Mu, Algorithm::Hals}) {
    // Check with the independent direct residual after each iteration count, allowing also
    // the rounding of the two naive evaluations.
    double previous = naive::squared_residual(A, W0, H0);
    auto previous_sums = error_bounds::residual_sums(A, W0 * H0);
    const int step = 3;
    for (int iterations = 1; iterations <= 40; iterations += step) {
      const auto run = run_serial<Scalar>(A, W0, H0, algorithm, iterations);
      const double now = naive::squared_residual(A, run.W, run.H);
      const auto now_sums = error_bounds::residual_sums(A, run.W * run.H);
      const double allowance =
          step * error_bounds::factor_rounding_fit_change(previous_sums, rounding) +
          error_bounds::direct_fit_bound<double>(now_sums, n, k) * now +
          error_bounds::direct_fit_bound<double>(previous_sums, n, k) * previous;
      EXPECT_LE(now, previous + allowance) << to_string(algorithm) << " at " << iterations;
      previous = now;
      previous_sums = now_sums;
    }
    const auto run = run_serial<Scalar>(A, W0, H0, algorithm, 200);
    // The recorded (Gram-trick) error, seen through the history alone (history_sums): its
    // rounding at both iterations (WᵀA in Scalar) and the rounding of the iterates.
    const double squared_norm = A.squaredNorm();
    const auto& history = run.result.history;
    const auto fit_noise = [&](double relative_error) {
      const auto sums = error_bounds::history_sums(squared_norm, relative_error, m * n);
      return sums.residual *
             error_bounds::gram_trick_fit_bound(sums, m, n, k, 1,
                                                error_bounds::gamma<Scalar>(m) * sums.correlation);
    };
    for (std::size_t t = 1; t < history.size(); ++t) {
      const double before = history[t - 1].relative_error;
      const double now = history[t].relative_error;
      const double allowance =
          fit_noise(now) + fit_noise(before) +
          error_bounds::factor_rounding_fit_change(
              error_bounds::history_sums(squared_norm, before, m * n), rounding);
      EXPECT_LE(now * now * squared_norm, before * before * squared_norm + allowance)
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
  // Recovered means a relative error below 1e-6 after these iterations (a modelling threshold:
  // exact recovery, reached to about 1e-8 in double). In float the iteration cannot get below
  // its noise floor: each half-step solves normal equations whose right-hand side B (a float
  // product with A) is off by the iteration's rounding ρ, which moves the solution by up to
  // cond(G) ρ relatively, G = H Hᵀ or WᵀW (cond(G) = cond(H)²), and the error by that times
  // ||W|| ||H|| / ||A||. The threshold is kSafety times that floor: 1e-3 here (measured: 8e-5
  // for BPP, 1.9e-4 for HALS).
  const auto condition = [](const Matrix& X) {
    const Eigen::VectorXd s = Eigen::JacobiSVD<Matrix>(X).singularValues();
    return s(0) / s(s.size() - 1);
  };
  const double floor = (std::pow(condition(H_true), 2) + std::pow(condition(W_true), 2)) *
                       error_bounds::iteration_rounding<Scalar>(60, 45, 4) * W_true.norm() *
                       H_true.norm() / A.norm();
  const double threshold = std::max(1e-6, error_bounds::kSafety * floor);
  for (const Algorithm algorithm : {Algorithm::Bpp, Algorithm::Hals}) {
    const auto run =
        run_serial<Scalar>(A, W0, H0, algorithm, algorithm == Algorithm::Bpp ? 300 : 3000);
    EXPECT_LT(run.result.relative_error, threshold) << to_string(algorithm);
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
