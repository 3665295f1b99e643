// Sparse blocks, the KL loss and the penalties, at any rank count: a sparse block and a dense
// block of the same matrix give the same factors (both losses); KL agrees with the naive
// Lee-Seung iteration and never increases its objective; L1 makes factors sparser as it grows;
// L2 shrinks them.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "dnmf/mpi/partition.hpp"
#include "error_bounds.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::Algorithm;
using dnmf::nmf::Loss;
using testing_support::relative_difference;

/// A 41 x 19 count-like matrix with about 70% zeros (some rows entirely zero).
Matrix sparse_counts() { return naive::count_matrix(41, 19, 11, 0.7, 10, 5); }

struct Fit {
  dnmf::nmf::Factors factors;
  dnmf::nmf::SolveResult result;
  Index row_begin = 0;
};

/// This rank's rows of A as a dense or a sparse block, solved on MPI_COMM_WORLD. A probe
/// (seed > 0) perturbs A and the start (error_bounds::perturbed).
Fit fit(const Matrix& A, bool sparse, dnmf::nmf::SolverOptions options, std::uint64_t probe = 0) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const dnmf::mpi::BlockPartition rows(A.rows(), world.size());
  Fit out;
  out.row_begin = rows.begin(world.rank());
  const Matrix input = probe > 0 ? error_bounds::perturbed(A, probe) : A;
  const dnmf::RowMatrix mine = input.middleRows(out.row_begin, rows.size(world.rank()));
  std::unique_ptr<dnmf::nmf::LocalBlock> block;
  if (sparse) {
    block = std::make_unique<dnmf::nmf::SparseBlock>(mine.sparseView());
  } else {
    block = std::make_unique<dnmf::nmf::DenseBlock>(mine);
  }
  const auto statistics = dnmf::nmf::input_statistics(*block, world);
  out.factors = dnmf::nmf::random_factors(options.rank, block->rows(), out.row_begin, A.cols(),
                                          statistics.mean(), 3);
  if (probe > 0) {
    out.factors.Wt = error_bounds::perturbed(out.factors.Wt, probe + 1);
    out.factors.H = error_bounds::perturbed(out.factors.H, probe + 2);
  }
  out.result = dnmf::nmf::solve(*block, out.factors, options, statistics, world);
  return out;
}

dnmf::nmf::SolverOptions fixed_iterations(Algorithm algorithm, Loss loss, int iterations) {
  dnmf::nmf::SolverOptions options;
  options.algorithm = algorithm;
  options.loss = loss;
  options.rank = 4;
  options.stop.max_iterations = iterations;
  options.stop.window = iterations + 1;
  return options;
}

TEST(Sparse, SameFactorsAsDense) {
  const Matrix A = sparse_counts();
  for (const auto& [algorithm, loss] :
       {std::pair{Algorithm::Mu, Loss::Frobenius}, std::pair{Algorithm::Hals, Loss::Frobenius},
        std::pair{Algorithm::Bpp, Loss::Frobenius},
        std::pair{Algorithm::Mu, Loss::KullbackLeibler}}) {
    const auto options = fixed_iterations(algorithm, loss, 25);
    const Fit dense = fit(A, false, options);
    const Fit sparse = fit(A, true, options);
    const std::string what = to_string(algorithm) + " " + to_string(loss);
    // The same iterations with sums in another order (the sparse kernels against BLAS): each
    // iteration's rounding in both, times the dense run's measured amplification.
    double w_amplification = 0, h_amplification = 0, error_amplification = 0;
    for (int probe = 1; probe <= error_bounds::kScalarProbes; ++probe) {
      const Fit probed = fit(A, false, options, 10 * probe);
      h_amplification =
          std::max(h_amplification, error_bounds::amplification(dense.factors.H, probed.factors.H));
      if (dense.factors.Wt.size() > 0) {
        w_amplification = std::max(
            w_amplification, error_bounds::amplification(dense.factors.Wt, probed.factors.Wt));
      }
      error_amplification = std::max(
          error_amplification,
          error_bounds::amplification(dense.result.relative_error, probed.result.relative_error));
    }
    dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
    Matrix WtW = dense.factors.Wt * dense.factors.Wt.transpose();
    world.allreduce_sum(WtW.data(), WtW.size());
    const double condition =
        algorithm == Algorithm::Bpp
            ? std::max(
                  error_bounds::condition_number(WtW),
                  error_bounds::condition_number(dense.factors.H * dense.factors.H.transpose()))
            : 0.0;
    const double rounding = 2 * error_bounds::iteration_rounding<double>(
                                    A.rows(), A.cols(), options.rank, world.size(), condition);
    // The final errors are evaluated differently too (Frobenius: directly on the dense block,
    // through H Hᵀ on the sparse one; KL: W H and the log sum in other orders).
    auto sums = error_bounds::residual_sums(A.middleRows(dense.row_begin, dense.factors.Wt.cols()),
                                            dense.factors.Wt.transpose() * dense.factors.H);
    world.allreduce_sum(&sums.entries, error_bounds::ResidualSums::kCount);
    const double divergence = dense.result.relative_error * A.sum();
    const double evaluation =
        loss == Loss::Frobenius
            ? 2 * error_bounds::relative_error_bound(
                      error_bounds::direct_fit_bound<double>(sums, A.cols(), options.rank),
                      sums.entries)
            : 2 *
                  error_bounds::kl_objective_error<double>(divergence, A.sum(), A.rows(), A.cols(),
                                                           options.rank) /
                  divergence;
    EXPECT_LT(relative_difference(sparse.factors.H, dense.factors.H),
              error_bounds::iterated_tolerance(h_amplification, rounding))
        << what;
    if (dense.factors.Wt.size() > 0) {
      EXPECT_LT(relative_difference(sparse.factors.Wt, dense.factors.Wt),
                error_bounds::iterated_tolerance(w_amplification, rounding))
          << what;
    }
    EXPECT_NEAR(sparse.result.relative_error, dense.result.relative_error,
                (error_bounds::iterated_tolerance(error_amplification, rounding) + evaluation) *
                    dense.result.relative_error)
        << what;
  }
}

TEST(Sparse, ResidualAgreesWithNaiveLoopsAlsoWhereTheFactorsFitThePatternExactly) {
  // Random factors: the sparse block adds the unstored entries' share from w_i H Hᵀ w_iᵀ.
  const Matrix A = sparse_counts();
  const Matrix Wt = naive::random_matrix(4, A.rows(), 21);
  const Matrix H = naive::random_matrix(4, A.cols(), 22);
  const dnmf::nmf::SparseBlock sparse(dnmf::RowMatrix(A).sparseView());
  const dnmf::nmf::DenseBlock dense{dnmf::RowMatrix(A)};
  const double expected = naive::squared_residual(A, Wt.transpose(), H);
  // Three direct evaluations in double, each within direct_fit_bound.
  const double bound =
      2 *
      error_bounds::direct_fit_bound<double>(error_bounds::residual_sums(A, Wt.transpose() * H),
                                             A.cols(), Wt.rows()) *
      expected;
  EXPECT_NEAR(sparse.residual_squared_norm(Wt, H), expected, bound);
  EXPECT_NEAR(dense.residual_squared_norm(Wt, H), expected, bound);

  // Factors exact on A's pattern: rows 0-9 use only part 0, which lives on columns 0-7; rows
  // 10-19 only part 1, on columns 8-18; row 20 is zero. The subtraction would leave about 1e-16
  // of ||A||², so those rows are formed directly and the residual is rounding of A's entries.
  Matrix exact_Wt = Matrix::Zero(2, 21);
  Matrix exact_H = Matrix::Zero(2, A.cols());
  exact_Wt.block(0, 0, 1, 10) = naive::random_matrix(1, 10, 23).array() + 0.5;
  exact_Wt.block(1, 10, 1, 10) = naive::random_matrix(1, 10, 24).array() + 0.5;
  exact_H.block(0, 0, 1, 8) = naive::random_matrix(1, 8, 25).array() + 0.5;
  exact_H.block(1, 8, 1, A.cols() - 8) = naive::random_matrix(1, A.cols() - 8, 26).array() + 0.5;
  const Matrix exact = exact_Wt.transpose() * exact_H;
  const dnmf::nmf::SparseBlock exact_sparse(dnmf::RowMatrix(exact).sparseView());
  // The stored a is the product rounded (γ_2, two parts), the evaluation's p another rounding
  // of it (γ_2), and their difference one more (u): |a - p̂| ≤ (2 γ_2 + u) a, summed in
  // squares (γ_N).
  const double N = static_cast<double>(exact.size());
  const double rounding =
      std::pow(2 * error_bounds::gamma<double>(2) + error_bounds::unit_roundoff<double>(), 2) *
      (1 + error_bounds::gamma<double>(N)) * exact.squaredNorm();
  EXPECT_NEAR(exact_sparse.residual_squared_norm(exact_Wt, exact_H), 0.0, rounding);
  EXPECT_NEAR(naive::squared_residual(exact, exact_Wt.transpose(), exact_H), 0.0, rounding);
}

TEST(Kl, AgreesWithNaiveLeeSeungAndNeverIncreases) {
  const Matrix A = sparse_counts();
  const double m = 41, n = 19, k = 4;
  const auto options = fixed_iterations(Algorithm::Mu, Loss::KullbackLeibler, 15);
  const Fit run = fit(A, true, options);

  // The same start on one process, by the naive loops; again from A and the start perturbed, for
  // the amplification of the iterations.
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const dnmf::nmf::DenseBlock whole{dnmf::RowMatrix(A)};
  const auto statistics = dnmf::nmf::input_statistics(whole, self);
  const auto start = dnmf::nmf::random_factors(4, A.rows(), 0, A.cols(), statistics.mean(), 3);
  struct Naive {
    Matrix W, H;
    std::vector<double> objectives;
  };
  const auto naive_run = [](const Matrix& data, Matrix W, Matrix H) {
    Naive out;
    for (int t = 0; t < 15; ++t) {
      naive::kl_mu_iteration(data, W, H);
      out.objectives.push_back(naive::kl_divergence(data, W, H));
    }
    out.W = W;
    out.H = H;
    return out;
  };
  const Naive expected = naive_run(A, start.Wt.transpose(), start.H);
  double w_amplification = 0, h_amplification = 0, objective_amplification = 0;
  for (int probe = 1; probe <= error_bounds::kScalarProbes; ++probe) {
    const Naive probed =
        naive_run(error_bounds::perturbed(A, 10 * probe),
                  error_bounds::perturbed(Matrix(start.Wt.transpose()), 10 * probe + 1),
                  error_bounds::perturbed(start.H, 10 * probe + 2));
    w_amplification = std::max(w_amplification, error_bounds::amplification(expected.W, probed.W));
    h_amplification = std::max(h_amplification, error_bounds::amplification(expected.H, probed.H));
    for (int t = 0; t < 15; ++t) {
      objective_amplification =
          std::max(objective_amplification,
                   error_bounds::amplification(expected.objectives[t], probed.objectives[t]));
    }
  }
  const double rounding = error_bounds::iteration_rounding<double>(m, n, k, world.size()) +
                          error_bounds::iteration_rounding<double>(m, n, k);
  const double sum = A.sum();
  // The objectives: the iterations' difference plus both evaluations' rounding.
  const auto objective_tolerance = [&](double objective) {
    return error_bounds::iterated_tolerance(objective_amplification, rounding) * objective +
           2 * error_bounds::kl_objective_error<double>(objective, sum, m, n, k);
  };
  for (int t = 0; t < 15; ++t) {
    const double objective = expected.objectives[static_cast<std::size_t>(t)];
    EXPECT_NEAR(run.result.history[static_cast<std::size_t>(t)].objective, objective,
                objective_tolerance(objective))
        << "iteration " << t + 1;
  }
  EXPECT_LT(relative_difference(run.factors.H, expected.H),
            error_bounds::iterated_tolerance(h_amplification, rounding));
  const Index rows = run.factors.Wt.cols();
  if (rows > 0) {
    // This rank's rows only: a part of W may differ by up to all of W's difference.
    const Matrix mine = expected.W.middleRows(run.row_begin, rows).transpose();
    EXPECT_LT((run.factors.Wt - mine).norm(),
              error_bounds::iterated_tolerance(w_amplification, rounding) * expected.W.norm());
  }
  const double final_divergence = naive::kl_divergence(A, expected.W, expected.H);
  EXPECT_NEAR(run.result.relative_error * statistics.sum, final_divergence,
              objective_tolerance(final_divergence) +
                  2 * error_bounds::unit_roundoff<double>() * final_divergence);

  // Lee-Seung's KL iteration never increases D in exact arithmetic, from any point: a computed
  // one may rise by the rounding of its iterates, and its recorded values by their own rounding.
  const auto long_run = fit(A, true, fixed_iterations(Algorithm::Mu, Loss::KullbackLeibler, 200));
  const auto& history = long_run.result.history;
  const double iterate_rounding = error_bounds::kl_factor_rounding_change(
      sum, error_bounds::iteration_rounding<double>(m, n, k, world.size()));
  for (std::size_t t = 1; t < history.size(); ++t) {
    const double allowance =
        iterate_rounding +
        error_bounds::kl_objective_error<double>(history[t].objective, sum, m, n, k) +
        error_bounds::kl_objective_error<double>(history[t - 1].objective, sum, m, n, k);
    EXPECT_LE(history[t].objective, history[t - 1].objective + allowance) << "iteration " << t + 1;
  }
}

double zero_fraction(const Fit& run) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  double counts[2] = {static_cast<double>((run.factors.Wt.array() == 0).count()),
                      static_cast<double>(run.factors.Wt.size())};
  world.allreduce_sum(counts, 2);
  const double h_zeros = static_cast<double>((run.factors.H.array() == 0).count());
  return (counts[0] + h_zeros) / (counts[1] + static_cast<double>(run.factors.H.size()));
}

TEST(Penalties, L1SparsifiesMonotonicallyAndL2Shrinks) {
  const Matrix A = sparse_counts();
  for (const Algorithm algorithm : {Algorithm::Hals, Algorithm::Bpp}) {
    double previous = -1;
    for (const double l1 : {0.0, 5.0, 20.0, 80.0}) {
      auto options = fixed_iterations(algorithm, Loss::Frobenius, 60);
      options.w_penalty.l1 = options.h_penalty.l1 = l1;
      const double zeros = zero_fraction(fit(A, true, options));
      EXPECT_GE(zeros, previous) << to_string(algorithm) << " l1 " << l1;
      previous = zeros;
    }
    // A modelling threshold, not a rounding one: l1 = 80 zeros most entries here (76% with
    // HALS, all with BPP; the zeros are exact, counted).
    EXPECT_GT(previous, 0.5) << to_string(algorithm) << ": a strong L1 leaves most entries zero";
  }
  for (const Loss loss : {Loss::Frobenius, Loss::KullbackLeibler}) {
    auto options = fixed_iterations(Algorithm::Mu, loss, 60);
    const Fit plain = fit(A, true, options);
    options.w_penalty.l2 = options.h_penalty.l2 = 20.0;
    const Fit ridge = fit(A, true, options);
    // A modelling threshold, far above rounding: l2 = 20 shrinks ||H|| by more than 10% here
    // (13% with the Frobenius loss, 34% with KL).
    EXPECT_LT(ridge.factors.H.norm(), 0.9 * plain.factors.H.norm()) << to_string(loss);
    // The objective reported includes the penalties: check it against a direct evaluation.
    dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
    double w_squares = ridge.factors.Wt.squaredNorm();
    world.allreduce_sum(&w_squares, 1);
    // objective = loss + ½ l2 (||W||² + ||H||²) with a loss ≥ 0, so at least the penalty, up to
    // the rounding of the penalty sums (here and in the solver: γ over the m k + k n squares
    // and the ranks) and of the recorded loss (its evaluation bound).
    const auto& last = ridge.result.history.back();
    const double m = static_cast<double>(A.rows()), n = static_cast<double>(A.cols());
    const double k = options.rank;
    const double penalty = 10.0 * (w_squares + ridge.factors.H.squaredNorm());
    const auto sums = error_bounds::history_sums(A.squaredNorm(), last.relative_error, m * n);
    const double loss_rounding =
        loss == Loss::KullbackLeibler
            ? error_bounds::kl_objective_error<double>(last.objective, A.sum(), m, n, k)
            : 0.5 * sums.residual *
                  error_bounds::gram_trick_fit_bound(
                      sums, m, n, k, world.size(),
                      error_bounds::gamma<double>(m + world.size()) * sums.correlation);
    const double penalty_rounding =
        2 * error_bounds::gamma<double>(m * k + k * n + world.size() + 2) * penalty;
    EXPECT_GT(last.objective, penalty - penalty_rounding - loss_rounding) << to_string(loss);
  }
}

// An entry of 1e-323 against an ordinary (W H)_ij: a / wh underflows to 0 and a log(a / wh) is
// -inf, which once stopped a KL run after one iteration as "converged" with error 0. The
// per-entry divergence sum must match a long-double reference written from the formula.
TEST(Kl, TinyEntriesDoNotUnderflowTheDivergence) {
  Matrix A = sparse_counts().topRows(6);
  A(0, 1) = 1e-323;  // subnormal
  A(2, 3) = 1e-300;
  A(4, 0) = std::numeric_limits<double>::min();
  // (W H)_ij between 8 and 18: 1e-323 / wh is below half the smallest subnormal, so 0.
  const Matrix W = Matrix::Constant(A.rows(), 2, 2.0) + naive::random_matrix(A.rows(), 2, 3);
  const Matrix H = Matrix::Constant(2, A.cols(), 2.0) + naive::random_matrix(2, A.cols(), 4);
  const Matrix WH = W * H;
  long double reference = 0;
  long double magnitude = 0;  // Σ a (|log a| + |log wh|): what the rounding scales with
  int terms = 0;
  for (Index i = 0; i < A.rows(); ++i) {
    for (Index j = 0; j < A.cols(); ++j) {
      if (A(i, j) <= 0) continue;
      const long double a = A(i, j);
      const long double wh = WH(i, j);
      reference += a * (std::log(a) - std::log(wh));
      magnitude += a * (std::fabs(std::log(a)) + std::fabs(std::log(wh)));
      ++terms;
    }
  }
  // Each term: two logs, a difference and a product (4 roundings), W H itself (k = 2 products
  // and a sum: 3 more, relative to wh, so at most 3u in log wh), then a sum of `terms` terms:
  // |error| <= γ_{terms + 7} Σ a (|log a| + |log wh|).
  const double bound = error_bounds::gamma<double>(terms + 7) * static_cast<double>(magnitude);
  const dnmf::RowMatrix rows = A;
  const dnmf::MatrixT<double> Wt = W.transpose();
  for (const bool sparse : {false, true}) {
    std::unique_ptr<dnmf::nmf::LocalBlock> block;
    if (sparse) {
      block = std::make_unique<dnmf::nmf::SparseBlock>(rows.sparseView());
    } else {
      block = std::make_unique<dnmf::nmf::DenseBlock>(rows);
    }
    auto ratio = block->same_pattern();
    const double log_sum = block->divide_by_product(Wt, H, 0, A.rows(), *ratio);
    ASSERT_TRUE(std::isfinite(log_sum)) << (sparse ? "CSR" : "dense");
    EXPECT_NEAR(log_sum, static_cast<double>(reference), bound) << (sparse ? "CSR" : "dense");
  }
}

// The heap puts a sparse block's values at any 16-byte boundary. A sum whose order follows the
// address (Eigen peels a Map's reduction up to the first address aligned for its packets) gave
// Σ A and ||A||², hence the random start and every factor, last-bit differences from run to run.
// Copies of one block at each 16-byte residue mod 64 (AVX2 and AVX-512 packets) must give
// bitwise the same statistics and factors.
TEST(Sparse, BitwiseTheSameWhereverTheHeapPutsTheValues) {
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  // A few thousand inexact values of one magnitude: most changes of the summation order change
  // the last bit of the sum (small integers would add up exactly in any order).
  Matrix A = naive::random_matrix(120, 40, 17);
  A = (A.array() < 0.4).select(0.0, A);
  const dnmf::RowMatrix rows = A;
  std::vector<std::vector<char>> padding;  // kept alive: each copy lands further on
  std::vector<std::unique_ptr<dnmf::nmf::SparseBlock>> copies;
  std::set<std::uintptr_t> residues;  // of the values' address mod 64, one copy each
  for (std::size_t shift = 0; shift < 256 && residues.size() < 4; ++shift) {
    padding.emplace_back(8 * shift + 1);
    auto copy = std::make_unique<dnmf::nmf::SparseBlock>(rows.sparseView());
    if (residues.insert(reinterpret_cast<std::uintptr_t>(copy->values().valuePtr()) % 64).second)
      copies.push_back(std::move(copy));
  }
#ifdef __SANITIZE_ADDRESS__
  // AddressSanitizer's allocator gives every block of one size the same residue mod 64.
  if (copies.size() < 2) GTEST_SKIP() << "under AddressSanitizer every copy has one alignment";
#endif
  ASSERT_GE(copies.size(), 2U) << "every copy has the same alignment: the test would not see it";
  for (const auto& copy : copies) {
    EXPECT_EQ(copy->sum(), copies.front()->sum());
    EXPECT_EQ(copy->squared_norm(), copies.front()->squared_norm());
  }
  for (const auto& [algorithm, loss] : {std::pair{Algorithm::Mu, Loss::Frobenius},
                                        {Algorithm::Hals, Loss::Frobenius},
                                        {Algorithm::Bpp, Loss::Frobenius},
                                        {Algorithm::Mu, Loss::KullbackLeibler}}) {
    const dnmf::nmf::SolverOptions options = fixed_iterations(algorithm, loss, 5);
    std::optional<dnmf::nmf::Factors> first;
    for (const auto& block : copies) {
      const auto statistics = dnmf::nmf::input_statistics(*block, self);
      dnmf::nmf::Factors factors =
          dnmf::nmf::random_factors(options.rank, block->rows(), 0, A.cols(), statistics.mean(), 3);
      dnmf::nmf::solve(*block, factors, options, statistics, self);
      if (!first) {
        first = factors;
        continue;
      }
      EXPECT_TRUE((factors.Wt.array() == first->Wt.array()).all() &&
                  (factors.H.array() == first->H.array()).all())
          << to_string(algorithm) << " " << to_string(loss);
    }
  }
}

}  // namespace
