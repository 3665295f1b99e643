// Each update rule against the naive textbook implementation, one and several iterations, and
// the BPP NNLS against brute-force enumeration of supports.

#include <gtest/gtest.h>

#include "dnmf/nmf/bpp.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Matrix;
using dnmf::nmf::Algorithm;
using testing_support::relative_difference;
using testing_support::run_serial;

struct Problem {
  Matrix A = naive::random_matrix(29, 17, 1);
  Matrix W0 = naive::random_matrix(29, 4, 2);
  Matrix H0 = naive::random_matrix(4, 17, 3);
};

void expect_matches_naive(Algorithm algorithm, void (*naive_iteration)(const Matrix&, Matrix&, Matrix&),
                          int iterations, double tolerance) {
  const Problem problem;
  Matrix W = problem.W0;
  Matrix H = problem.H0;
  for (int t = 0; t < iterations; ++t) naive_iteration(problem.A, W, H);
  const auto run = run_serial(problem.A, problem.W0, problem.H0, algorithm, iterations);
  EXPECT_LT(relative_difference(run.W, W), tolerance) << "W after " << iterations << " iterations";
  EXPECT_LT(relative_difference(run.H, H), tolerance) << "H after " << iterations << " iterations";
}

TEST(UpdateRules, MultiplicativeMatchesNaive) {
  expect_matches_naive(Algorithm::Mu, naive::mu_iteration, 1, 1e-13);
  expect_matches_naive(Algorithm::Mu, naive::mu_iteration, 25, 1e-11);
}

TEST(UpdateRules, HalsMatchesNaive) {
  expect_matches_naive(Algorithm::Hals, naive::hals_iteration, 1, 1e-13);
  expect_matches_naive(Algorithm::Hals, naive::hals_iteration, 25, 1e-10);
}

TEST(UpdateRules, BppMatchesBruteForceAnls) {
  expect_matches_naive(Algorithm::Bpp, naive::anls_iteration, 1, 1e-10);
  expect_matches_naive(Algorithm::Bpp, naive::anls_iteration, 5, 1e-9);
}

TEST(BlockPrincipalPivoting, SolvesEveryColumnExactly) {
  // Least squares with active constraints: a = F x_true + noise with some x_true entries zero
  // and a few negative targets, so many different passive sets occur in one call.
  const dnmf::Index k = 6;
  const Matrix F = naive::random_matrix(20, k, 11);
  Matrix targets = naive::random_matrix(20, 40, 12);
  targets.array() -= 0.35;
  const Matrix G = F.transpose() * F;
  const Matrix B = F.transpose() * targets;
  for (const bool warm : {false, true}) {
    Matrix X = warm ? naive::random_matrix(k, 40, 13) : Matrix::Zero(k, 40);
    if (warm) X.array() -= 0.4;  // a mixed, partly wrong starting support
    X = X.cwiseMax(0.0);
    dnmf::nmf::BlockPrincipalPivoting bpp;
    bpp.update(X, G, B, 0.0);
    for (dnmf::Index c = 0; c < 40; ++c) {
      const Matrix expected = naive::nnls_brute_force(F, targets.col(c));
      EXPECT_LT((X.col(c) - expected).norm(), 1e-10 * std::max(1.0, expected.norm()))
          << "column " << c << (warm ? " (warm start)" : " (cold start)");
    }
  }
}

}  // namespace
