// Masked factorization (missing and held-out entries) against the naive masked iterations of
// tests/naive_nmf.cpp, at any rank count: each rank takes its rows' unobserved entries out of
// its block, the solver runs on MPI_COMM_WORLD, and its rows of W and all of H are compared
// with the naive run on the whole matrix from the same start. Also the errors it reports (the
// training error on the observed entries, the test error on the held-out ones) against the
// naive sums, and the held-out set's counts.

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/entry_mask.hpp"
#include "error_bounds.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::Algorithm;
using dnmf::nmf::Loss;

struct Case {
  Algorithm algorithm;
  Loss loss;
  double missing;  ///< fraction of entries missing, at random
  double holdout;  ///< --holdout
  bool sparse;
};

std::string name(const Case& c) {
  return to_string(c.algorithm) + "/" + to_string(c.loss) + " missing " +
         std::to_string(c.missing) + " holdout " + std::to_string(c.holdout) +
         (c.sparse ? " sparse" : " dense");
}

constexpr Index kRows = 23;
constexpr Index kCols = 17;
constexpr Index kRank = 3;
constexpr int kIterations = 8;
constexpr std::uint64_t kSeed = 3;

/// 1 where an entry is missing, at random with probability `fraction`.
Matrix missing_pattern(double fraction) {
  std::mt19937_64 engine(11);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Matrix missing(kRows, kCols);
  for (Index i = 0; i < kRows; ++i)
    for (Index j = 0; j < kCols; ++j) missing(i, j) = uniform(engine) < fraction ? 1 : 0;
  return missing;
}

/// 1 where the held-out set of nmf/entry_mask.hpp holds an entry out, from its definition.
Matrix held_out_pattern(const dnmf::nmf::HeldOutSet& held_out) {
  Matrix pattern = Matrix::Zero(kRows, kCols);
  if (held_out.empty()) return pattern;
  for (Index i = 0; i < kRows; ++i)
    for (Index j = 0; j < kCols; ++j)
      pattern(i, j) = (held_out.row_bin(i) + held_out.column_bin(j)) % 256 < held_out.threshold();
  return pattern;
}

using NaiveIteration = void (*)(const Matrix&, const Matrix&, Matrix&, Matrix&);

NaiveIteration naive_iteration(const Case& c) {
  if (c.loss == Loss::KullbackLeibler) return naive::masked_kl_mu_iteration;
  switch (c.algorithm) {
    case Algorithm::Mu: return naive::masked_mu_iteration;
    case Algorithm::Hals: return naive::masked_hals_iteration;
    case Algorithm::Bpp: return naive::masked_anls_iteration;
  }
  return nullptr;
}

struct NaiveRun {
  Matrix W, H;
};

NaiveRun naive_run(const Case& c, const Matrix& A, const Matrix& fit, const Matrix& W0,
                   const Matrix& H0) {
  NaiveRun run{W0, H0};
  for (int t = 0; t < kIterations; ++t) naive_iteration(c)(A, fit, run.W, run.H);
  return run;
}

/// The largest ratio of all entries to observed entries over the rows and columns with any:
/// how much the Grams' corrections (G minus the missing entries' terms) can magnify rounding.
double cancellation(const Matrix& fit) {
  double worst = 1;
  for (Index i = 0; i < fit.rows(); ++i)
    if (fit.row(i).sum() > 0) worst = std::max(worst, kCols / fit.row(i).sum());
  for (Index j = 0; j < fit.cols(); ++j)
    if (fit.col(j).sum() > 0) worst = std::max(worst, kRows / fit.col(j).sum());
  return worst;
}

double condition_of_grams(const Matrix& fit, const Matrix& W, const Matrix& H) {
  double worst = 0;
  for (Index i = 0; i < fit.rows(); ++i) {
    Matrix G = Matrix::Zero(kRank, kRank);
    for (Index j = 0; j < fit.cols(); ++j) G += fit(i, j) * H.col(j) * H.col(j).transpose();
    if (fit.row(i).sum() > 0) worst = std::max(worst, error_bounds::condition_number(G));
  }
  for (Index j = 0; j < fit.cols(); ++j) {
    Matrix G = Matrix::Zero(kRank, kRank);
    for (Index i = 0; i < fit.rows(); ++i) G += fit(i, j) * W.row(i).transpose() * W.row(i);
    if (fit.col(j).sum() > 0) worst = std::max(worst, error_bounds::condition_number(G));
  }
  return worst;
}

void expect_matches_naive(const Case& c) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  Matrix A = naive::random_matrix(kRows, kCols, 7);
  if (c.sparse) A = naive::count_matrix(kRows, kCols, 7, 0.4, 10, 2);
  const Matrix missing = missing_pattern(c.missing);
  const dnmf::nmf::HeldOutSet held_out(c.holdout, kSeed);
  const Matrix held = held_out_pattern(held_out);
  Matrix fit(kRows, kCols), test(kRows, kCols);
  for (Index i = 0; i < kRows; ++i)
    for (Index j = 0; j < kCols; ++j) {
      fit(i, j) = missing(i, j) == 0 && held(i, j) == 0 ? 1 : 0;
      test(i, j) = missing(i, j) == 0 && held(i, j) != 0 ? 1 : 0;
    }

  // This rank's rows, with NaN where an entry is missing (taken out as --missing nan does).
  const dnmf::mpi::BlockPartition partition(kRows, world.size());
  const Index begin = partition.begin(world.rank());
  const Index count = partition.size(world.rank());
  Matrix mine = A.middleRows(begin, count);
  for (Index i = 0; i < count; ++i)
    for (Index j = 0; j < kCols; ++j)
      if (missing(begin + i, j) != 0) mine(i, j) = std::nan("");
  std::unique_ptr<dnmf::nmf::LocalBlock> block;
  if (c.sparse) {
    block = std::make_unique<dnmf::nmf::SparseBlock>(dnmf::RowMatrix(mine).sparseView());
  } else {
    block = std::make_unique<dnmf::nmf::DenseBlock>(dnmf::RowMatrix(mine));
  }
  const dnmf::nmf::EntryList nan_entries = dnmf::nmf::take_out_nan_entries(*block);
  const dnmf::nmf::EntryMask mask =
      dnmf::nmf::take_out_unobserved(*block, begin, nan_entries, held_out, world);
  EXPECT_EQ(mask.observed_entries, static_cast<std::int64_t>(fit.sum()));
  EXPECT_EQ(mask.test_entries, static_cast<std::int64_t>(test.sum()));
  EXPECT_EQ(mask.missing_entries, static_cast<std::int64_t>(missing.sum()));
  const auto statistics = dnmf::nmf::input_statistics(*block, world);

  dnmf::nmf::SolverOptions options;
  options.algorithm = c.algorithm;
  options.loss = c.loss;
  options.rank = kRank;
  options.stop.max_iterations = kIterations;
  options.stop.window = kIterations + 1;
  const Matrix W0 = naive::random_matrix(kRows, kRank, 5).array() + 0.1;
  const Matrix H0 = naive::random_matrix(kRank, kCols, 6).array() + 0.1;
  dnmf::nmf::Factors factors{W0.middleRows(begin, count).transpose(), H0};
  const auto result = dnmf::nmf::solve(*block, factors, options, statistics, world, {}, {}, &mask);

  const NaiveRun reference = naive_run(c, A, fit, W0, H0);
  // Amplification of rounding through the iterations, from runs on perturbed data and starts.
  double w_amplification = 0, h_amplification = 0;
  for (int probe = 1; probe <= error_bounds::kScalarProbes; ++probe) {
    const NaiveRun probed = naive_run(c, error_bounds::perturbed(A, 10 * probe), fit,
                                      error_bounds::perturbed(W0, 10 * probe + 1),
                                      error_bounds::perturbed(H0, 10 * probe + 2));
    w_amplification = std::max(w_amplification, error_bounds::amplification(reference.W, probed.W));
    h_amplification = std::max(h_amplification, error_bounds::amplification(reference.H, probed.H));
  }
  const double condition = c.algorithm == Algorithm::Bpp && c.loss == Loss::Frobenius
                               ? condition_of_grams(fit, reference.W, reference.H)
                               : 0.0;
  const double rounding =
      cancellation(fit) *
      (error_bounds::iteration_rounding<double>(kRows, kCols, kRank, 1, condition) +
       error_bounds::iteration_rounding<double>(kRows, kCols, kRank, world.size(), condition));
  if (count > 0) {
    EXPECT_LT((factors.Wt.transpose() - reference.W.middleRows(begin, count)).norm(),
              error_bounds::iterated_tolerance(w_amplification, rounding) * reference.W.norm())
        << name(c) << ": W rows " << begin << ".." << begin + count;
  }
  EXPECT_LT(testing_support::relative_difference(factors.H, reference.H),
            error_bounds::iterated_tolerance(h_amplification, rounding))
      << name(c) << ": H";

  // The reported errors against the naive sums over the library's own final factors.
  const Matrix W = [&] {
    Matrix all = Matrix::Zero(kRows, kRank);
    all.middleRows(begin, count) = factors.Wt.transpose();
    world.allreduce_sum(all.data(), all.size());
    return all;
  }();
  const double tolerance = 1e3 * rounding;
  const auto expect_relative = [&](double value, double expected, const char* what) {
    EXPECT_NEAR(value, expected, tolerance * std::max(expected, 1e-12)) << name(c) << ": " << what;
  };
  if (c.loss == Loss::Frobenius) {
    const double norm =
        naive::masked_squared_residual(A, fit, Matrix::Zero(kRows, kRank), factors.H);
    expect_relative(result.relative_error,
                    std::sqrt(naive::masked_squared_residual(A, fit, W, factors.H) / norm),
                    "relative error");
    expect_relative(result.history.back().relative_error, result.relative_error,
                    "last recorded error");
    if (!held_out.empty()) {
      const double test_norm =
          naive::masked_squared_residual(A, test, Matrix::Zero(kRows, kRank), factors.H);
      expect_relative(result.history.back().test_error,
                      std::sqrt(naive::masked_squared_residual(A, test, W, factors.H) / test_norm),
                      "test error");
    }
  } else {
    const double sum = (A.array() * fit.array()).sum();
    expect_relative(result.relative_error, naive::masked_kl_divergence(A, fit, W, factors.H) / sum,
                    "relative error");
    expect_relative(result.history.back().relative_error, result.relative_error,
                    "last recorded error");
    if (!held_out.empty()) {
      const double test_sum = (A.array() * test.array()).sum();
      expect_relative(result.history.back().test_error,
                      naive::masked_kl_divergence(A, test, W, factors.H) / test_sum, "test error");
    }
  }
}

TEST(MaskedSolver, MatchesNaiveMaskedIterations) {
  for (const bool sparse : {false, true})
    for (const double missing : {0.0, 0.1, 0.6})
      for (const double holdout : {0.0, 0.3}) {
        if (missing == 0 && holdout == 0) continue;  // nothing masked: the unmasked solver
        for (const Algorithm algorithm : {Algorithm::Mu, Algorithm::Hals, Algorithm::Bpp})
          expect_matches_naive({algorithm, Loss::Frobenius, missing, holdout, sparse});
        expect_matches_naive({Algorithm::Mu, Loss::KullbackLeibler, missing, holdout, sparse});
      }
}

}  // namespace
