// Each update rule against the naive textbook implementation, one and several iterations, and
// the BPP NNLS against brute-force enumeration of supports; in double and in single precision
// (the naive loops run in double on the same data rounded to float, so the difference measures
// the solver's float arithmetic only). The tolerances are the rounding of one iteration times
// its measured amplification (error_bounds.hpp).

#include <gtest/gtest.h>

#include <Eigen/Cholesky>

#include "dnmf/core/threads.hpp"
#include "dnmf/nmf/bpp.hpp"
#include "dnmf/nmf/update_rule.hpp"
#include "error_bounds.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Matrix;
using dnmf::nmf::Algorithm;
using testing_support::relative_difference;
using testing_support::rounded;
using testing_support::run_serial;

template <class Scalar>
class UpdateRules : public ::testing::Test {};
TYPED_TEST_SUITE(UpdateRules, testing_support::Precisions);

template <class Scalar>
struct Problem {
  Matrix A = rounded<Scalar>(naive::random_matrix(29, 17, 1));
  Matrix W0 = rounded<Scalar>(naive::random_matrix(29, 4, 2));
  Matrix H0 = rounded<Scalar>(naive::random_matrix(4, 17, 3));
};

/// The solver in Scalar against `iterations` naive iterations in double, to the rounding of an
/// iteration in Scalar (and in double, for the naive loops) times the amplification of the naive
/// iterations, measured by running them again from A, W0 and H0 perturbed.
template <class Scalar>
void expect_matches_naive(Algorithm algorithm,
                          void (*naive_iteration)(const Matrix&, Matrix&, Matrix&),
                          int iterations) {
  const Problem<Scalar> problem;
  const auto naive_run = [&](const Matrix& A, Matrix W, Matrix H) {
    for (int t = 0; t < iterations; ++t) naive_iteration(A, W, H);
    return std::pair{W, H};
  };
  const auto [W, H] = naive_run(problem.A, problem.W0, problem.H0);
  const auto [W_probe, H_probe] =
      naive_run(error_bounds::perturbed(problem.A, 1), error_bounds::perturbed(problem.W0, 2),
                error_bounds::perturbed(problem.H0, 3));
  const double m = 29, n = 17, k = 4;
  const double condition = algorithm == Algorithm::Bpp
                               ? std::max(error_bounds::condition_number(W.transpose() * W),
                                          error_bounds::condition_number(H * H.transpose()))
                               : 0.0;
  const double rounding = error_bounds::iteration_rounding<Scalar>(m, n, k, 1, condition) +
                          error_bounds::iteration_rounding<double>(m, n, k, 1, condition);
  const double w_tolerance =
      error_bounds::iterated_tolerance(error_bounds::amplification(W, W_probe), rounding);
  const double h_tolerance =
      error_bounds::iterated_tolerance(error_bounds::amplification(H, H_probe), rounding);
  const auto run = run_serial<Scalar>(problem.A, problem.W0, problem.H0, algorithm, iterations);
  EXPECT_LT(relative_difference(run.W, W), w_tolerance)
      << "W after " << iterations << " iterations";
  EXPECT_LT(relative_difference(run.H, H), h_tolerance)
      << "H after " << iterations << " iterations";
}

TYPED_TEST(UpdateRules, MultiplicativeMatchesNaive) {
  expect_matches_naive<TypeParam>(Algorithm::Mu, naive::mu_iteration, 1);
  expect_matches_naive<TypeParam>(Algorithm::Mu, naive::mu_iteration, 25);
}

TYPED_TEST(UpdateRules, HalsMatchesNaive) {
  expect_matches_naive<TypeParam>(Algorithm::Hals, naive::hals_iteration, 1);
  expect_matches_naive<TypeParam>(Algorithm::Hals, naive::hals_iteration, 25);
}

TYPED_TEST(UpdateRules, HalsGivesTheSameBitsOnAnyNumberOfThreads) {
  // Every column's sweep runs alone on one thread (core/parallel_for), whatever the count.
  using Scalar = TypeParam;
  const dnmf::Index k = 7, columns = 301;
  const Matrix F = naive::random_matrix(40, k, 21);
  const Matrix G = F.transpose() * F;
  const dnmf::MatrixT<Scalar> B =
      (F.transpose() * naive::random_matrix(40, columns, 22)).cast<Scalar>();
  const dnmf::MatrixT<Scalar> X0 = naive::random_matrix(k, columns, 23).cast<Scalar>();
  dnmf::MatrixT<Scalar> one = X0;
  dnmf::nmf::HalsUpdateT<Scalar> rule;
  rule.update(one, G, B, 0.01);
  for (const int threads : {2, 3, 8}) {
    dnmf::set_kernel_threads(threads);
    dnmf::MatrixT<Scalar> many = X0;
    rule.update(many, G, B, 0.01);
    EXPECT_TRUE(many == one) << threads << " threads";
  }
  dnmf::set_kernel_threads(1);
}

TYPED_TEST(UpdateRules, BppMatchesBruteForceAnls) {
  expect_matches_naive<TypeParam>(Algorithm::Bpp, naive::anls_iteration, 1);
  expect_matches_naive<TypeParam>(Algorithm::Bpp, naive::anls_iteration, 5);
}

TYPED_TEST(UpdateRules, BppSolvesEveryColumnExactly) {
  using Scalar = TypeParam;
  // Least squares with active constraints: a = F x_true + noise with some x_true entries zero
  // and a few negative targets, so many different passive sets occur in one call.
  const dnmf::Index k = 6;
  const Matrix F = naive::random_matrix(20, k, 11);
  Matrix targets = naive::random_matrix(20, 40, 12);
  targets.array() -= 0.35;
  const Matrix G = F.transpose() * F;
  const Matrix B = rounded<Scalar>(F.transpose() * targets);
  const Matrix a = F * G.ldlt().solve(B);  // targets whose normal equations give exactly B
  for (const bool warm : {false, true}) {
    Matrix X0 = warm ? naive::random_matrix(k, 40, 13) : Matrix::Zero(k, 40);
    if (warm) X0.array() -= 0.4;  // a mixed, partly wrong starting support
    dnmf::MatrixT<Scalar> X = X0.cwiseMax(0.0).cast<Scalar>();
    dnmf::nmf::BlockPrincipalPivotingT<Scalar> bpp;
    bpp.update(X, G, B.cast<Scalar>(), 0.0);
    // Three least-squares solutions of the same problem on the same columns, each within
    // least_squares_error of the exact one: BPP's (Cholesky of G), the brute force's (QR of F),
    // and the one that made the targets a; BPP's x is then rounded to Scalar (u).
    for (dnmf::Index c = 0; c < 40; ++c) {
      const Matrix expected = naive::nnls_brute_force(F, a.col(c));
      const double bound = error_bounds::unit_roundoff<Scalar>() * expected.norm() +
                           3 * error_bounds::least_squares_error(G, F.rows(), expected.norm(),
                                                                 a.col(c).norm(), B.col(c).norm());
      EXPECT_LE((X.col(c).template cast<double>() - expected).norm(), bound)
          << "column " << c << (warm ? " (warm start)" : " (cold start)");
    }
  }
}

}  // namespace
