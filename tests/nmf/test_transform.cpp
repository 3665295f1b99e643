// nmf::transform at any rank count: each rank transforms its rows of A against a fixed H and
// compares them with an independent naive computation on the whole matrix. Frobenius: planted
// codes are recovered, and the codes of a random matrix equal the brute-force NNLS (with and
// without penalties); KL: the codes follow the naive Lee-Seung W update step for step, the
// objective never increases, and planted codes are recovered. Row counts are uneven, and one
// case has fewer rows than ranks.

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>

#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/transform.hpp"
#include "error_bounds.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::Loss;
using dnmf::nmf::Penalty;

/// This rank's rows of A as a dense or a sparse block.
struct LocalRows {
  std::unique_ptr<dnmf::nmf::LocalBlock> block;
  Index begin = 0;
  Index count = 0;
  dnmf::nmf::InputStatistics statistics;
};

LocalRows distribute(const Matrix& A, bool sparse, dnmf::mpi::Communicator& world) {
  const dnmf::mpi::BlockPartition rows(A.rows(), world.size());
  LocalRows local;
  local.begin = rows.begin(world.rank());
  local.count = rows.size(world.rank());
  const dnmf::RowMatrix mine = A.middleRows(local.begin, local.count);
  if (sparse) {
    local.block = std::make_unique<dnmf::nmf::SparseBlock>(mine.sparseView());
  } else {
    local.block = std::make_unique<dnmf::nmf::DenseBlock>(mine);
  }
  local.statistics = dnmf::nmf::input_statistics(*local.block, world);
  return local;
}

/// Planted codes with about 30% exact zeros and one all-zero row.
Matrix planted_codes(Index rows, Index rank, std::uint64_t seed) {
  Matrix W = naive::random_matrix(rows, rank, seed);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < rank; ++j)
      if (W(i, j) < 0.3) W(i, j) = 0;
  W.row(rows / 2).setZero();
  return W;
}

/// Largest entry-wise difference between this rank's codes (transposed) and its rows of W.
double max_difference(const Matrix& Wt, const Matrix& W, const LocalRows& local) {
  if (local.count == 0) return 0;
  return (Wt.transpose() - W.middleRows(local.begin, local.count)).cwiseAbs().maxCoeff();
}

/// Bound on the difference of the codes of two least-squares solutions of A ≈ W H for H fixed,
/// both by backward-stable methods (least_squares_error, per row): the largest row bound and
/// the Frobenius norm of all of them, with F = Hᵀ (penalties: F = [Hᵀ; sqrt(l2) I]).
struct CodeBounds {
  double largest = 0;
  double total = 0;
};
CodeBounds code_bounds(const Matrix& A, const Matrix& H, const Matrix& W, double l2,
                       int solutions) {
  const Matrix G = H * H.transpose() + l2 * Matrix::Identity(H.rows(), H.rows());
  CodeBounds bounds;
  for (Index i = 0; i < A.rows(); ++i) {
    const double row = solutions * error_bounds::least_squares_error(
                                       G, static_cast<double>(H.cols()), W.row(i).norm(),
                                       A.row(i).norm(), (H * A.row(i).transpose()).norm());
    bounds.largest = std::max(bounds.largest, row);
    bounds.total += row * row;
  }
  bounds.total = std::sqrt(bounds.total);
  return bounds;
}

TEST(TransformFrobenius, RecoversPlantedCodes) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const Matrix H = naive::random_matrix(5, 23, 1);
  const Matrix W = planted_codes(37, 5, 2);
  const Matrix A = W * H;
  // A is W H rounded (γ_5 of W H), so W is the least-squares solution of A to within that
  // perturbation (the a-term of least_squares_error covers it), and the computed codes are
  // another within least_squares_error. The residual is then at most ||ΔW||_F ||H|| plus A's
  // rounding, γ_5 ||W H||.
  const CodeBounds bounds = code_bounds(A, H, W, 0, 2);
  const double residual_bound =
      (bounds.total * H.norm() + error_bounds::gamma<double>(5) * A.norm()) / A.norm();
  for (const bool sparse : {false, true}) {
    const LocalRows local = distribute(A, sparse, world);
    const auto result = dnmf::nmf::transform(*local.block, H, {}, local.statistics, world);
    ASSERT_EQ(result.Wt.rows(), 5);
    ASSERT_EQ(result.Wt.cols(), local.count);
    EXPECT_LT(max_difference(result.Wt, W, local), bounds.largest) << (sparse ? "sparse" : "dense");
    // And its evaluation, bounded through the sums that residual implies (history_sums).
    EXPECT_LT(
        result.relative_error,
        residual_bound *
            (1 +
             error_bounds::relative_error_bound(
                 error_bounds::direct_fit_bound<double>(
                     error_bounds::history_sums(A.squaredNorm(), residual_bound, A.size()), 23, 5),
                 A.size())));
    EXPECT_TRUE(result.history.empty());
    EXPECT_EQ(result.reason, dnmf::nmf::StopReason::Converged);
  }
}

/// argmin_{x >= 0} ½||a - F x||² + l1 Σ x + (l2/2)||x||² for every row a of A, by brute force
/// over supports: the penalties turn into a plain least-squares problem in F' = [F; sqrt(l2) I]
/// and a' = [a; 0] - F' (F'ᵀF')⁻¹ l1 1, whose objective differs from this one by a constant.
Matrix brute_force_codes(const Matrix& A, const Matrix& H, const Penalty& penalty) {
  const Index k = H.rows();
  const Index n = H.cols();
  Matrix F(n + k, k);
  F << H.transpose(), std::sqrt(penalty.l2) * Matrix::Identity(k, k);
  const Matrix shift = F * (F.transpose() * F).ldlt().solve(Matrix::Constant(k, 1, penalty.l1));
  Matrix W(A.rows(), k);
  for (Index i = 0; i < A.rows(); ++i) {
    Matrix target = Matrix::Zero(n + k, 1);
    target.topRows(n) = A.row(i).transpose();
    W.row(i) = naive::nnls_brute_force(F, target - shift).transpose();
  }
  return W;
}

TEST(TransformFrobenius, EqualsBruteForceNnlsWithPenalties) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  for (const Index rows : {Index{2}, Index{29}}) {
    const Matrix A = naive::random_matrix(rows, 13, 3);
    const Matrix H = naive::random_matrix(4, 13, 4);
    for (const Penalty penalty :
         {Penalty{0, 0}, Penalty{0.3, 0}, Penalty{0, 0.5}, Penalty{0.3, 0.5}}) {
      const Matrix expected = brute_force_codes(A, H, penalty);
      // BPP and the brute force (its QR, and the shifted targets it solves for) are three
      // least-squares solutions; the relative errors then differ by at most ||ΔW|| ||H|| / ||A||
      // and the two direct evaluations' rounding.
      const CodeBounds bounds = code_bounds(A, H, expected, penalty.l2, 3);
      const double direct = std::sqrt(naive::squared_residual(A, expected, H)) / A.norm();
      const double evaluation = error_bounds::relative_error_bound(
          error_bounds::direct_fit_bound<double>(error_bounds::residual_sums(A, expected * H), 13,
                                                 4),
          A.size());
      const double error_bound = bounds.total * H.norm() / A.norm() + 2 * evaluation * direct;
      for (const bool sparse : {false, true}) {
        const LocalRows local = distribute(A, sparse, world);
        dnmf::nmf::TransformOptions options;
        options.penalty = penalty;
        const auto result = dnmf::nmf::transform(*local.block, H, options, local.statistics, world);
        EXPECT_LT(max_difference(result.Wt, expected, local), bounds.largest)
            << rows << " rows, l1 " << penalty.l1 << ", l2 " << penalty.l2;
        EXPECT_NEAR(result.relative_error, direct, error_bound);
      }
    }
  }
}

/// A 31 x 17 matrix with about 40% zeros and one zero row, for the KL tests.
Matrix count_like_matrix() { return naive::count_matrix(31, 17, 6, 0.4, 8, 3); }

/// The constant start of the KL iteration: w_i = (Σ_j a_ij / Σ H) 1.
Matrix constant_start(const Matrix& A, const Matrix& H) {
  return A.rowwise().sum() * Matrix::Ones(1, H.rows()) / H.sum();
}

double kl_objective(const Matrix& A, const Matrix& W, const Matrix& H, const Penalty& penalty) {
  return naive::kl_divergence(A, W, H) + penalty.l1 * W.sum() + 0.5 * penalty.l2 * W.squaredNorm();
}

TEST(TransformKl, FollowsNaiveMultiplicativeUpdates) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const Matrix A = count_like_matrix();
  const Matrix H = naive::random_matrix(4, 17, 7);
  const double m = 31, n = 17, k = 4;
  constexpr int kIterations = 25;
  for (const Penalty penalty : {Penalty{0, 0}, Penalty{0.2, 0.3}}) {
    struct Naive {
      Matrix W;
      double start = 0, end = 0, divergence = 0;
    };
    const auto naive_run = [&](const Matrix& data, const Matrix& basis) {
      Naive out;
      out.W = constant_start(data, basis);
      out.start = kl_objective(data, out.W, basis, penalty);
      for (int t = 0; t < kIterations; ++t) {
        naive::kl_mu_w_step(data, out.W, basis, penalty.l1, penalty.l2);
      }
      out.end = kl_objective(data, out.W, basis, penalty);
      out.divergence = naive::kl_divergence(data, out.W, basis);
      return out;
    };
    const Naive expected = naive_run(A, H);
    // The library's iterations differ from the naive ones in the order of their sums: the
    // rounding of an iteration in both, times the naive run's measured amplification (from A
    // and H perturbed; the start follows A and H).
    double w_amplification = 0, end_amplification = 0, divergence_amplification = 0;
    for (int probe = 1; probe <= error_bounds::kScalarProbes; ++probe) {
      const Naive probed = naive_run(error_bounds::perturbed(A, 10 * probe),
                                     error_bounds::perturbed(H, 10 * probe + 1));
      w_amplification =
          std::max(w_amplification, error_bounds::amplification(expected.W, probed.W));
      end_amplification =
          std::max(end_amplification, error_bounds::amplification(expected.end, probed.end));
      divergence_amplification =
          std::max(divergence_amplification,
                   error_bounds::amplification(expected.divergence, probed.divergence));
    }
    const double rounding = error_bounds::iteration_rounding<double>(m, n, k, world.size()) +
                            error_bounds::iteration_rounding<double>(m, n, k);
    const double sum = A.sum();
    const auto evaluation = [&](double objective) {
      return 2 * error_bounds::kl_objective_error<double>(objective, sum, m, n, k);
    };
    // The start: w_i = (Σ_j a_ij) / Σ H in both, the sums in other orders (γ_n + γ_{kn} + u of
    // w): the objective moves by kl_factor_rounding_change of that, and both evaluate it.
    const double start_rounding = error_bounds::gamma<double>(n) +
                                  error_bounds::gamma<double>(k * n) +
                                  error_bounds::unit_roundoff<double>();
    const double start_tolerance =
        error_bounds::kl_factor_rounding_change(sum, start_rounding) + evaluation(expected.start);
    for (const bool sparse : {false, true}) {
      const LocalRows local = distribute(A, sparse, world);
      dnmf::nmf::TransformOptions options;
      options.loss = Loss::KullbackLeibler;
      options.penalty = penalty;
      options.max_iterations = kIterations;
      options.tolerance = 0;
      const auto result = dnmf::nmf::transform(*local.block, H, options, local.statistics, world);
      const std::string what = std::string(sparse ? "sparse" : "dense") + ", l1 " +
                               std::to_string(penalty.l1) + ", l2 " + std::to_string(penalty.l2);
      ASSERT_EQ(result.iterations, kIterations) << what;
      ASSERT_EQ(result.history.size(), static_cast<std::size_t>(kIterations + 1)) << what;
      // Entrywise: no entry of W differs by more than all of W's difference.
      EXPECT_LT(max_difference(result.Wt, expected.W, local),
                error_bounds::iterated_tolerance(w_amplification, rounding) * expected.W.norm())
          << what;
      EXPECT_NEAR(result.history.front().objective, expected.start, start_tolerance) << what;
      EXPECT_NEAR(result.history.back().objective, expected.end,
                  error_bounds::iterated_tolerance(end_amplification, rounding) * expected.end +
                      evaluation(expected.end))
          << what;
      EXPECT_LT(expected.end, expected.start) << what;
      EXPECT_NEAR(result.relative_error, expected.divergence / sum,
                  (error_bounds::iterated_tolerance(divergence_amplification, rounding) *
                       expected.divergence +
                   evaluation(expected.divergence)) /
                      sum)
          << what;
    }
  }
}

TEST(TransformKl, ObjectiveNeverIncreases) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const Matrix A = count_like_matrix();
  const Matrix H = naive::random_matrix(4, 17, 8);
  const double m = 31, n = 17, k = 4;
  for (const Penalty penalty : {Penalty{0, 0}, Penalty{0.5, 0}}) {
    const LocalRows local = distribute(A, true, world);
    dnmf::nmf::TransformOptions options;
    options.loss = Loss::KullbackLeibler;
    options.penalty = penalty;
    options.max_iterations = 300;
    options.tolerance = 1e-9;
    const auto result = dnmf::nmf::transform(*local.block, H, options, local.statistics, world);
    ASSERT_GT(result.history.size(), 50u);
    // Monotone in exact arithmetic from any point: a computed step may rise by the rounding of
    // its iterates, and the recorded objectives carry their own.
    const double sum = A.sum();
    const double iterate_rounding = error_bounds::kl_factor_rounding_change(
        sum, error_bounds::iteration_rounding<double>(m, n, k, world.size()));
    for (std::size_t t = 1; t < result.history.size(); ++t) {
      const double now = result.history[t].objective;
      const double before = result.history[t - 1].objective;
      const double allowance = iterate_rounding +
                               error_bounds::kl_objective_error<double>(now, sum, m, n, k) +
                               error_bounds::kl_objective_error<double>(before, sum, m, n, k);
      EXPECT_LE(now, before + allowance) << "iteration " << t << ", l1 " << penalty.l1;
    }
  }
}

TEST(TransformKl, RecoversPlantedPositiveCodes) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const Matrix H = naive::random_matrix(4, 19, 9);
  for (const Index rows : {Index{2}, Index{23}}) {
    const Matrix W = (naive::random_matrix(rows, 4, 10).array() + 0.2).matrix();
    const Matrix A = W * H;
    const LocalRows local = distribute(A, false, world);
    dnmf::nmf::TransformOptions options;
    options.loss = Loss::KullbackLeibler;
    options.max_iterations = 5000;
    const auto result = dnmf::nmf::transform(*local.block, H, options, local.statistics, world);
    EXPECT_EQ(result.reason, dnmf::nmf::StopReason::Converged) << rows << " rows";
    // Recovered: D / Σ A below 1e-10, a modelling threshold (MU reaches its rounding floor,
    // about 1e-14 here, before the stopping rule fires; a point other than the planted codes
    // has no divergence that small, H having full rank).
    EXPECT_LT(result.relative_error, 1e-10) << rows << " rows";
    // Then the codes are as close as that divergence allows: a log(a / p) - a + p ≥
    // (p - a)² / (2 max(a, p)), so ||ΔP||² ≤ 2 max(a, p) D, and ||ΔW|| ≤ ||ΔP|| / σ_min(H)
    // (A > 0 everywhere here), with D the computed divergence plus its rounding.
    const double sum = A.sum();
    const double divergence =
        result.relative_error * sum +
        error_bounds::kl_objective_error<double>(result.relative_error * sum, sum,
                                                 static_cast<double>(rows), 19, 4);
    double largest = A.maxCoeff();
    if (local.count > 0) largest = std::max(largest, (result.Wt.transpose() * H).maxCoeff());
    largest = world.max(largest);
    const double smallest_singular_value = Eigen::JacobiSVD<Matrix>(H).singularValues()(3);
    EXPECT_LT(max_difference(result.Wt, W, local),
              std::sqrt(2 * largest * divergence) / smallest_singular_value)
        << rows << " rows";
  }
}

}  // namespace
