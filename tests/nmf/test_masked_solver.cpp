// Masked factorization (missing and held-out entries) against the naive masked iterations of
// tests/naive_nmf.cpp, at any rank count: each rank takes its rows' unobserved entries out of
// its block, the solver runs on MPI_COMM_WORLD, and its rows of W and all of H are compared
// with the naive run on the whole matrix from the same start. Also the errors it reports (the
// training error on the observed entries, the test error on the held-out ones) against the
// naive sums, and the held-out set's counts. And solve_batch, masked or not, against one
// solve() a start.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
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

/// The input of a case on this rank: A, its fitted and test entries (1 where), this rank's rows
/// with the unobserved entries taken out of its block, and the mask that took them out.
struct MaskedInput {
  Matrix A, fit, test;
  dnmf::nmf::HeldOutSet held_out;
  Index begin = 0, count = 0;  // this rank's rows
  std::unique_ptr<dnmf::nmf::LocalBlock> block;
  dnmf::nmf::EntryMask mask;
  dnmf::nmf::InputStatistics statistics;
};

MaskedInput masked_input(const Case& c, dnmf::mpi::Communicator& world) {
  MaskedInput in;
  in.A = naive::random_matrix(kRows, kCols, 7);
  in.fit.resize(kRows, kCols);
  in.test.resize(kRows, kCols);
  in.held_out = dnmf::nmf::HeldOutSet(c.holdout, kSeed);
  if (c.sparse) in.A = naive::count_matrix(kRows, kCols, 7, 0.4, 10, 2);
  const Matrix missing = missing_pattern(c.missing);
  const Matrix held = held_out_pattern(in.held_out);
  for (Index i = 0; i < kRows; ++i)
    for (Index j = 0; j < kCols; ++j) {
      in.fit(i, j) = missing(i, j) == 0 && held(i, j) == 0 ? 1 : 0;
      in.test(i, j) = missing(i, j) == 0 && held(i, j) != 0 ? 1 : 0;
    }

  // This rank's rows, with NaN where an entry is missing (taken out as --missing nan does).
  const dnmf::mpi::BlockPartition partition(kRows, world.size());
  in.begin = partition.begin(world.rank());
  in.count = partition.size(world.rank());
  Matrix mine = in.A.middleRows(in.begin, in.count);
  for (Index i = 0; i < in.count; ++i)
    for (Index j = 0; j < kCols; ++j)
      if (missing(in.begin + i, j) != 0) mine(i, j) = std::nan("");
  if (c.sparse) {
    in.block = std::make_unique<dnmf::nmf::SparseBlock>(dnmf::RowMatrix(mine).sparseView());
  } else {
    in.block = std::make_unique<dnmf::nmf::DenseBlock>(dnmf::RowMatrix(mine));
  }
  const dnmf::nmf::EntryList nan_entries = dnmf::nmf::take_out_nan_entries(*in.block);
  in.mask = dnmf::nmf::take_out_unobserved(*in.block, in.begin, nan_entries, in.held_out, world);
  EXPECT_EQ(in.mask.observed_entries, static_cast<std::int64_t>(in.fit.sum()));
  EXPECT_EQ(in.mask.test_entries, static_cast<std::int64_t>(in.test.sum()));
  EXPECT_EQ(in.mask.missing_entries, static_cast<std::int64_t>(missing.sum()));
  in.statistics = dnmf::nmf::input_statistics(*in.block, world);
  return in;
}

/// The options of a case, for exactly kIterations iterations (the stopping window is longer).
dnmf::nmf::SolverOptions fixed_iterations(const Case& c) {
  dnmf::nmf::SolverOptions options;
  options.algorithm = c.algorithm;
  options.loss = c.loss;
  options.rank = kRank;
  options.stop.max_iterations = kIterations;
  options.stop.window = kIterations + 1;
  return options;
}

/// W (all rows) from each rank's rows Wt.
Matrix gathered_w(const Matrix& Wt, const MaskedInput& in, dnmf::mpi::Communicator& world) {
  Matrix all = Matrix::Zero(kRows, kRank);
  all.middleRows(in.begin, in.count) = Wt.transpose();
  world.allreduce_sum(all.data(), all.size());
  return all;
}

void expect_matches_naive(const Case& c) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const MaskedInput in = masked_input(c, world);
  const dnmf::nmf::SolverOptions options = fixed_iterations(c);
  const Matrix W0 = naive::random_matrix(kRows, kRank, 5).array() + 0.1;
  const Matrix H0 = naive::random_matrix(kRank, kCols, 6).array() + 0.1;
  dnmf::nmf::Factors factors{W0.middleRows(in.begin, in.count).transpose(), H0};
  const auto result =
      dnmf::nmf::solve(*in.block, factors, options, in.statistics, world, {}, {}, &in.mask);

  const NaiveRun reference = naive_run(c, in.A, in.fit, W0, H0);
  // Amplification of rounding through the iterations, from runs on perturbed data and starts.
  double w_amplification = 0, h_amplification = 0;
  for (int probe = 1; probe <= error_bounds::kScalarProbes; ++probe) {
    const NaiveRun probed = naive_run(c, error_bounds::perturbed(in.A, 10 * probe), in.fit,
                                      error_bounds::perturbed(W0, 10 * probe + 1),
                                      error_bounds::perturbed(H0, 10 * probe + 2));
    w_amplification = std::max(w_amplification, error_bounds::amplification(reference.W, probed.W));
    h_amplification = std::max(h_amplification, error_bounds::amplification(reference.H, probed.H));
  }
  const double condition = c.algorithm == Algorithm::Bpp && c.loss == Loss::Frobenius
                               ? condition_of_grams(in.fit, reference.W, reference.H)
                               : 0.0;
  const double rounding =
      cancellation(in.fit) *
      (error_bounds::iteration_rounding<double>(kRows, kCols, kRank, 1, condition) +
       error_bounds::iteration_rounding<double>(kRows, kCols, kRank, world.size(), condition));
  if (in.count > 0) {
    EXPECT_LT((factors.Wt.transpose() - reference.W.middleRows(in.begin, in.count)).norm(),
              error_bounds::iterated_tolerance(w_amplification, rounding) * reference.W.norm())
        << name(c) << ": W rows " << in.begin << ".." << in.begin + in.count;
  }
  EXPECT_LT(testing_support::relative_difference(factors.H, reference.H),
            error_bounds::iterated_tolerance(h_amplification, rounding))
      << name(c) << ": H";

  // The reported errors against the naive sums over the library's own final factors.
  const Matrix W = gathered_w(factors.Wt, in, world);
  const double tolerance = 1e3 * rounding;
  const auto expect_relative = [&](double value, double expected, const char* what) {
    EXPECT_NEAR(value, expected, tolerance * std::max(expected, 1e-12)) << name(c) << ": " << what;
  };
  if (c.loss == Loss::Frobenius) {
    const double norm =
        naive::masked_squared_residual(in.A, in.fit, Matrix::Zero(kRows, kRank), factors.H);
    expect_relative(result.relative_error,
                    std::sqrt(naive::masked_squared_residual(in.A, in.fit, W, factors.H) / norm),
                    "relative error");
    expect_relative(result.history.back().relative_error, result.relative_error,
                    "last recorded error");
    if (!in.held_out.empty()) {
      const double test_norm =
          naive::masked_squared_residual(in.A, in.test, Matrix::Zero(kRows, kRank), factors.H);
      expect_relative(
          result.history.back().test_error,
          std::sqrt(naive::masked_squared_residual(in.A, in.test, W, factors.H) / test_norm),
          "in.test error");
    }
  } else {
    const double sum = (in.A.array() * in.fit.array()).sum();
    expect_relative(result.relative_error,
                    naive::masked_kl_divergence(in.A, in.fit, W, factors.H) / sum,
                    "relative error");
    expect_relative(result.history.back().relative_error, result.relative_error,
                    "last recorded error");
    if (!in.held_out.empty()) {
      const double test_sum = (in.A.array() * in.test.array()).sum();
      expect_relative(result.history.back().test_error,
                      naive::masked_kl_divergence(in.A, in.test, W, factors.H) / test_sum,
                      "in.test error");
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

/// A block that is `block` in every way but that its products take at most `fits` stacked fits
/// at once, as a sparse block of many columns would: solve_batch then runs several stacks.
class FewFitsAStack final : public dnmf::nmf::LocalBlock {
 public:
  FewFitsAStack(const dnmf::nmf::LocalBlock& block, Index fits) : block_(block), fits_(fits) {}
  Index rows() const override { return block_.rows(); }
  Index cols() const override { return block_.cols(); }
  void times_transposed_rows(const Matrix& H, Index row_begin, Index row_count,
                             Eigen::Ref<Matrix> out) const override {
    block_.times_transposed_rows(H, row_begin, row_count, out);
  }
  void add_product_with_rows(Eigen::Ref<const Matrix> Wt_b, Index row_begin, Index row_count,
                             Matrix& accumulator) const override {
    block_.add_product_with_rows(Wt_b, row_begin, row_count, accumulator);
  }
  double residual_squared_norm(const Matrix& Wt, const Matrix& H) const override {
    return block_.residual_squared_norm(Wt, H);
  }
  std::unique_ptr<dnmf::nmf::LocalBlock> same_pattern() const override {
    return block_.same_pattern();
  }
  double divide_by_product(Eigen::Ref<const Matrix> Wt_b, const Matrix& H, Index row_begin,
                           Index row_count, dnmf::nmf::LocalBlock& ratio) const override {
    return block_.divide_by_product(Wt_b, H, row_begin, row_count, ratio);
  }
  double sum() const override { return block_.sum(); }
  double squared_norm() const override { return block_.squared_norm(); }
  double largest_entry() const override { return block_.largest_entry(); }
  void scale_by_power_of_two(int) override { throw std::logic_error("read only"); }
  void take_out_entries(const std::function<bool(Index, Index, double)>&) override {
    throw std::logic_error("read only");
  }
  void put_back_entries(const dnmf::SparseRowMatrix&) override {
    throw std::logic_error("read only");
  }
  Index stored_entries() const override { return block_.stored_entries(); }
  double product_flops(Index rank) const override { return block_.product_flops(rank); }
  Index stacked_fits(Index) const override { return fits_; }

 private:
  const dnmf::nmf::LocalBlock& block_;
  const Index fits_;
};

/// solve_batch from several starts against one solve() a start, on the same input and mask:
/// the same to the rounding of the stacked products, amplified through the iterations as
/// probes from perturbed starts measure; the same iterations and stop reasons. With MU and
/// HALS one start is all zeros, which both leave as it is: its error stays 1, the stopping rule
/// stops it after one window, and the others go on in the stack without it.
void expect_batch_equals_solves(const Case& c) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const MaskedInput in = masked_input(c, world);
  dnmf::nmf::SolverOptions options = fixed_iterations(c);
  options.stop.max_iterations = 3 * kIterations;
  options.stop.window = kIterations;
  options.stop.tolerance = 1e-12;
  std::vector<dnmf::nmf::Factors> starts;
  for (std::uint64_t s = 0; s < 3; ++s) {
    const Matrix W0 = naive::random_matrix(kRows, kRank, 20 + s).array() + 0.1;
    const Matrix H0 = naive::random_matrix(kRank, kCols, 30 + s).array() + 0.1;
    starts.push_back({W0.middleRows(in.begin, in.count).transpose(), H0});
  }
  const bool zero_start = c.algorithm != Algorithm::Bpp;  // BPP cannot factor a zero Gram
  if (zero_start) starts.push_back({Matrix::Zero(kRank, in.count), Matrix::Zero(kRank, kCols)});
  const auto solved = [&](dnmf::nmf::Factors start) {
    const auto result =
        dnmf::nmf::solve(*in.block, start, options, in.statistics, world, {}, {}, &in.mask);
    return std::pair{start, result};
  };

  // Each start alone, and how far the batch may be from it.
  struct Alone {
    dnmf::nmf::Factors factors;
    dnmf::nmf::SolveResult result;
    Matrix W;  // all rows
    double w_tolerance = 0, h_tolerance = 0, error_tolerance = 0;
  };
  std::vector<Alone> alone;
  for (const dnmf::nmf::Factors& start : starts) {
    auto [factors, result] = solved(start);
    Alone run{factors, result, gathered_w(factors.Wt, in, world)};
    if (run.factors.H.norm() > 0) {
      double w_amplification = 0, h_amplification = 0;
      for (int probe = 1; probe <= error_bounds::kScalarProbes; ++probe) {
        dnmf::nmf::Factors perturbed{error_bounds::perturbed(start.Wt, 10 * probe + 1),
                                     error_bounds::perturbed(start.H, 10 * probe + 2)};
        const auto probed = solved(perturbed).first;
        w_amplification = std::max(
            w_amplification, error_bounds::amplification(run.W, gathered_w(probed.Wt, in, world)));
        h_amplification =
            std::max(h_amplification, error_bounds::amplification(run.factors.H, probed.H));
      }
      const double condition =
          c.algorithm == Algorithm::Bpp ? condition_of_grams(in.fit, run.W, run.factors.H) : 0.0;
      const double rounding =
          2 * cancellation(in.fit) *
          error_bounds::iteration_rounding<double>(kRows, kCols, kRank, world.size(), condition);
      run.w_tolerance = error_bounds::iterated_tolerance(w_amplification, rounding);
      run.h_tolerance = error_bounds::iterated_tolerance(h_amplification, rounding);
      run.error_tolerance = std::max(run.w_tolerance, run.h_tolerance);
    }
    alone.push_back(run);
  }

  for (const Index fits_a_stack : {4, 2, 1}) {
    const FewFitsAStack stacked_block(*in.block, fits_a_stack);
    std::vector<dnmf::nmf::Factors> batch = starts;
    const std::vector<dnmf::nmf::SolveResult> results =
        dnmf::nmf::solve_batch(stacked_block, batch, options, in.statistics, world, &in.mask);
    ASSERT_EQ(results.size(), starts.size());
    for (std::size_t s = 0; s < starts.size(); ++s) {
      const Alone& reference = alone[s];
      const std::string what = name(c) + ", " + std::to_string(fits_a_stack) +
                               " fits a stack, start " + std::to_string(s);
      EXPECT_EQ(results[s].iterations, reference.result.iterations) << what;
      EXPECT_EQ(results[s].reason, reference.result.reason) << what;
      if (zero_start && s + 1 == starts.size()) {
        EXPECT_EQ(reference.result.iterations, kIterations + 1)
            << what << ": stalled after one window";
        EXPECT_EQ(batch[s].H.norm(), 0) << what;
        continue;
      }
      EXPECT_GT(reference.result.iterations, kIterations + 1)
          << what << ": went on without the zero start";
      EXPECT_LT(
          testing_support::relative_difference(gathered_w(batch[s].Wt, in, world), reference.W),
          reference.w_tolerance)
          << what << ": W";
      EXPECT_LT(testing_support::relative_difference(batch[s].H, reference.factors.H),
                reference.h_tolerance)
          << what << ": H";
      const double error = reference.result.relative_error;
      EXPECT_NEAR(results[s].relative_error, error, reference.error_tolerance * error) << what;
      const double test_error = reference.result.history.back().test_error;
      EXPECT_NEAR(results[s].history.back().test_error, test_error,
                  reference.error_tolerance * test_error)
          << what;
    }
  }
}

TEST(SolveBatch, EqualsOneSolveAStart) {
  for (const bool sparse : {false, true})
    for (const double missing : {0.0, 0.1})
      for (const double holdout : {0.0, 0.3})
        for (const Algorithm algorithm : {Algorithm::Mu, Algorithm::Hals, Algorithm::Bpp})
          expect_batch_equals_solves({algorithm, Loss::Frobenius, missing, holdout, sparse});
}

TEST(SolveBatch, RefusesKlWhoseProductsAreEachFitsOwn) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const Case c{Algorithm::Mu, Loss::KullbackLeibler, 0.0, 0.3, false};
  const MaskedInput in = masked_input(c, world);
  std::vector<dnmf::nmf::Factors> batch(
      2, {Matrix::Constant(kRank, in.count, 0.5), Matrix::Constant(kRank, kCols, 0.5)});
  EXPECT_THROW(
      dnmf::nmf::solve_batch(*in.block, batch, fixed_iterations(c), in.statistics, world, &in.mask),
      std::logic_error);
}

}  // namespace
