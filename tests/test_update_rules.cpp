// Each update rule against the naive textbook implementation, one and several iterations, and
// the BPP NNLS against brute-force enumeration of supports; in double and in single precision
// (the naive loops run in double on the same data rounded to float, so the difference measures
// the solver's float arithmetic only).

#include <gtest/gtest.h>

#include <Eigen/Cholesky>

#include "dnmf/nmf/bpp.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Matrix;
using dnmf::nmf::Algorithm;
using testing_support::relative_difference;
using testing_support::rounded;
using testing_support::run_serial;
using testing_support::tolerance;

template <class Scalar>
class UpdateRules : public ::testing::Test {};
TYPED_TEST_SUITE(UpdateRules, testing_support::Precisions);

template <class Scalar>
struct Problem {
  Matrix A = rounded<Scalar>(naive::random_matrix(29, 17, 1));
  Matrix W0 = rounded<Scalar>(naive::random_matrix(29, 4, 2));
  Matrix H0 = rounded<Scalar>(naive::random_matrix(4, 17, 3));
};

template <class Scalar>
void expect_matches_naive(Algorithm algorithm,
                          void (*naive_iteration)(const Matrix&, Matrix&, Matrix&), int iterations,
                          double tolerance) {
  const Problem<Scalar> problem;
  Matrix W = problem.W0;
  Matrix H = problem.H0;
  for (int t = 0; t < iterations; ++t) naive_iteration(problem.A, W, H);
  const auto run = run_serial<Scalar>(problem.A, problem.W0, problem.H0, algorithm, iterations);
  EXPECT_LT(relative_difference(run.W, W), tolerance) << "W after " << iterations << " iterations";
  EXPECT_LT(relative_difference(run.H, H), tolerance) << "H after " << iterations << " iterations";
}

TYPED_TEST(UpdateRules, MultiplicativeMatchesNaive) {
  using Scalar = TypeParam;
  expect_matches_naive<Scalar>(Algorithm::Mu, naive::mu_iteration, 1,
                               tolerance<Scalar>(1e-13, 5e-6));
  expect_matches_naive<Scalar>(Algorithm::Mu, naive::mu_iteration, 25,
                               tolerance<Scalar>(1e-11, 1e-5));
}

TYPED_TEST(UpdateRules, HalsMatchesNaive) {
  using Scalar = TypeParam;
  expect_matches_naive<Scalar>(Algorithm::Hals, naive::hals_iteration, 1,
                               tolerance<Scalar>(1e-13, 5e-6));
  expect_matches_naive<Scalar>(Algorithm::Hals, naive::hals_iteration, 25,
                               tolerance<Scalar>(1e-10, 1e-5));
}

TYPED_TEST(UpdateRules, BppMatchesBruteForceAnls) {
  using Scalar = TypeParam;
  expect_matches_naive<Scalar>(Algorithm::Bpp, naive::anls_iteration, 1,
                               tolerance<Scalar>(1e-10, 1e-5));
  expect_matches_naive<Scalar>(Algorithm::Bpp, naive::anls_iteration, 5,
                               tolerance<Scalar>(1e-9, 1e-5));
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
    for (dnmf::Index c = 0; c < 40; ++c) {
      const Matrix expected = naive::nnls_brute_force(F, a.col(c));
      EXPECT_LT((X.col(c).template cast<double>() - expected).norm(),
                tolerance<Scalar>(1e-10, 1e-6) * std::max(1.0, expected.norm()))
          << "column " << c << (warm ? " (warm start)" : " (cold start)");
    }
  }
}

}  // namespace
