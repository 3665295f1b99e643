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

TEST(TransformFrobenius, RecoversPlantedCodes) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const Matrix H = naive::random_matrix(5, 23, 1);
  const Matrix W = planted_codes(37, 5, 2);
  const Matrix A = W * H;
  for (const bool sparse : {false, true}) {
    const LocalRows local = distribute(A, sparse, world);
    const auto result = dnmf::nmf::transform(*local.block, H, {}, local.statistics, world);
    ASSERT_EQ(result.Wt.rows(), 5);
    ASSERT_EQ(result.Wt.cols(), local.count);
    EXPECT_LT(max_difference(result.Wt, W, local), 1e-10) << (sparse ? "sparse" : "dense");
    EXPECT_LT(result.relative_error, 1e-12);
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
      for (const bool sparse : {false, true}) {
        const LocalRows local = distribute(A, sparse, world);
        dnmf::nmf::TransformOptions options;
        options.penalty = penalty;
        const auto result = dnmf::nmf::transform(*local.block, H, options, local.statistics, world);
        EXPECT_LT(max_difference(result.Wt, expected, local), 1e-9)
            << rows << " rows, l1 " << penalty.l1 << ", l2 " << penalty.l2;
        EXPECT_NEAR(result.relative_error,
                    std::sqrt(naive::squared_residual(A, expected, H)) / A.norm(), 1e-9);
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
  constexpr int kIterations = 25;
  for (const Penalty penalty : {Penalty{0, 0}, Penalty{0.2, 0.3}}) {
    Matrix W = constant_start(A, H);
    const double start = kl_objective(A, W, H, penalty);
    for (int t = 0; t < kIterations; ++t) naive::kl_mu_w_step(A, W, H, penalty.l1, penalty.l2);
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
      EXPECT_LT(max_difference(result.Wt, W, local), 1e-10) << what;
      EXPECT_NEAR(result.history.front().objective, start, 1e-9 * start) << what;
      const double end = kl_objective(A, W, H, penalty);
      EXPECT_NEAR(result.history.back().objective, end, 1e-9 * end) << what;
      EXPECT_LT(end, start) << what;
      EXPECT_NEAR(result.relative_error, naive::kl_divergence(A, W, H) / A.sum(), 1e-12) << what;
    }
  }
}

TEST(TransformKl, ObjectiveNeverIncreases) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const Matrix A = count_like_matrix();
  const Matrix H = naive::random_matrix(4, 17, 8);
  for (const Penalty penalty : {Penalty{0, 0}, Penalty{0.5, 0}}) {
    const LocalRows local = distribute(A, true, world);
    dnmf::nmf::TransformOptions options;
    options.loss = Loss::KullbackLeibler;
    options.penalty = penalty;
    options.max_iterations = 300;
    options.tolerance = 1e-9;
    const auto result = dnmf::nmf::transform(*local.block, H, options, local.statistics, world);
    ASSERT_GT(result.history.size(), 50u);
    for (std::size_t t = 1; t < result.history.size(); ++t) {
      EXPECT_LE(result.history[t].objective, result.history[t - 1].objective * (1 + 1e-13))
          << "iteration " << t << ", l1 " << penalty.l1;
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
    EXPECT_LT(max_difference(result.Wt, W, local), 1e-5) << rows << " rows";
    EXPECT_LT(result.relative_error, 1e-10) << rows << " rows";
  }
}

}  // namespace
