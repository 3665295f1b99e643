// The randomized truncated SVD and NNDSVD on one process against a full dense SVD of the whole
// matrix (Eigen::JacobiSVD) and the naive NNDSVD. The matrices have exact rank within the sketch
// size, or min(m, n) within it, so the randomized SVD is exact up to rounding: both SVDs are
// exact for A perturbed by svd_backward_error (error_bounds.hpp), so the singular values agree
// to that (Weyl) and the vectors to it over the spectral gap (Wedin); NNDSVD, a function of
// the SVD, to its measured amplification of that perturbation.

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <random>

#include "dnmf/core/random.hpp"
#include "dnmf/nmf/nndsvd.hpp"
#include "dnmf/nmf/truncated_svd.hpp"
#include "error_bounds.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::NndsvdFill;
using testing_support::relative_difference;

constexpr std::uint64_t kSeed = 3;

/// W0 H0 with uniform [0, 1) factors: nonnegative, of exact rank `rank`.
Matrix low_rank_matrix(Index rows, Index cols, Index rank, std::uint64_t seed) {
  return naive::random_matrix(rows, rank, seed) * naive::random_matrix(rank, cols, seed + 1);
}

/// Relative gaps between the first k + 1 singular values, so the k leading singular vectors are
/// well defined and the comparison can be tight (the vector bounds divide by this gap; 1e-3
/// keeps them below 1e-9).
double smallest_relative_gap(const Matrix& A, Index k) {
  const Eigen::VectorXd s = Eigen::JacobiSVD<Matrix>(A).singularValues();
  double gap = 1;
  for (Index j = 0; j < k && j + 1 < s.size(); ++j) gap = std::min(gap, (s(j) - s(j + 1)) / s(0));
  return gap;
}

struct Initial {
  Matrix W;  // m x k
  Matrix H;  // k x n
};

Initial library_nndsvd(const Matrix& A, Index k, NndsvdFill fill) {
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const dnmf::nmf::DenseBlock block{dnmf::RowMatrix(A)};
  const auto statistics = dnmf::nmf::input_statistics(block, self);
  const dnmf::nmf::Factors factors =
      dnmf::nmf::nndsvd_factors(block, 0, statistics, k, fill, kSeed, self);
  return {factors.Wt.transpose(), factors.H};
}

Initial naive_nndsvd(const Matrix& A, Index k, naive::ZeroFill fill) {
  Matrix w_noise(A.rows(), k);
  Matrix h_noise(k, A.cols());
  for (Index i = 0; i < A.rows(); ++i)
    for (Index j = 0; j < k; ++j)
      w_noise(i, j) = dnmf::counter_half_normal(kSeed, dnmf::RandomStream::W, i, j);
  for (Index j = 0; j < k; ++j)
    for (Index c = 0; c < A.cols(); ++c)
      h_noise(j, c) = dnmf::counter_half_normal(kSeed, dnmf::RandomStream::H, j, c);
  Initial initial;
  naive::nndsvd(A, k, fill, w_noise, h_noise, initial.W, initial.H);
  return initial;
}

/// Both NNDSVDs start from an SVD exact for A perturbed by svd_backward_error (the library's
/// randomized one and the naive dense one): they agree to kSafety times that times the
/// amplification of the naive NNDSVD, measured from A perturbed.
void expect_naive_nndsvd(const Matrix& A, Index k) {
  const std::pair<NndsvdFill, naive::ZeroFill> variants[] = {
      {NndsvdFill::Zeros, naive::ZeroFill::Keep},
      {NndsvdFill::Mean, naive::ZeroFill::Mean},
      {NndsvdFill::SmallRandom, naive::ZeroFill::ScaledNoise}};
  const double m = static_cast<double>(A.rows()), n = static_cast<double>(A.cols());
  const double rounding = error_bounds::sketch_backward_error<double>(
                              m, n, std::min<double>(static_cast<double>(k) + 10, std::min(m, n))) +
                          error_bounds::svd_backward_error<double>(m, n);
  for (const auto& [fill, naive_fill] : variants) {
    const Initial mine = library_nndsvd(A, k, fill);
    const Initial expected = naive_nndsvd(A, k, naive_fill);
    const Initial probed = naive_nndsvd(error_bounds::perturbed(A, 1), k, naive_fill);
    EXPECT_LT(relative_difference(mine.W, expected.W),
              error_bounds::iterated_tolerance(error_bounds::amplification(expected.W, probed.W),
                                               rounding))
        << A.rows() << "x" << A.cols() << " k=" << k << " fill " << static_cast<int>(fill) << " W";
    EXPECT_LT(relative_difference(mine.H, expected.H),
              error_bounds::iterated_tolerance(error_bounds::amplification(expected.H, probed.H),
                                               rounding))
        << A.rows() << "x" << A.cols() << " k=" << k << " fill " << static_cast<int>(fill) << " H";
    EXPECT_TRUE(mine.W.allFinite() && mine.H.allFinite());
    EXPECT_GE(mine.W.minCoeff(), 0);
    EXPECT_GE(mine.H.minCoeff(), 0);
  }
}

TEST(TruncatedSvd, EqualsDenseSvdWithinTheSketch) {
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const Matrix A = low_rank_matrix(40, 30, 8, 11);
  const Index k = 5;
  ASSERT_GT(smallest_relative_gap(A, k), 1e-3);  // a precondition on the data, see above
  const dnmf::nmf::DenseBlock block{dnmf::RowMatrix(A)};
  const auto svd = dnmf::nmf::truncated_svd(block, A.rows(), k, {}, self);
  const Eigen::JacobiSVD<Matrix> dense(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
  // Each is the SVD of A + E, ||E|| ≤ ε ||A||_F: every singular value within ||E|| (Weyl).
  const double perturbation = (error_bounds::sketch_backward_error<double>(40, 30, k + 10) +
                               error_bounds::svd_backward_error<double>(40, 30)) *
                              A.norm();
  const Eigen::VectorXd expected = dense.singularValues().head(k);
  EXPECT_LT(relative_difference(svd.singular_values, expected),
            std::sqrt(static_cast<double>(k)) * perturbation / expected.norm());
  // The same singular vectors up to sign: |U_dense^T U| = I. Each vector within the angle θ of
  // sin θ ≤ ||E|| / (gap - ||E||) (Wedin), so each column of the alignment within
  // 2 sin(θ / 2) ≤ sqrt(2) sin θ of its unit vector.
  const double gap = smallest_relative_gap(A, k) * expected(0);
  const double alignment_bound =
      std::sqrt(2.0 * static_cast<double>(k)) * perturbation / (gap - perturbation);
  const Matrix u_alignment =
      (dense.matrixU().leftCols(k).transpose() * svd.Ut.transpose()).cwiseAbs();
  const Matrix v_alignment =
      (dense.matrixV().leftCols(k).transpose() * svd.Vt.transpose()).cwiseAbs();
  EXPECT_LT((u_alignment - Matrix::Identity(k, k)).norm(), alignment_bound);
  EXPECT_LT((v_alignment - Matrix::Identity(k, k)).norm(), alignment_bound);
  // The sign convention: each v's entry of largest magnitude is positive.
  for (Index j = 0; j < k; ++j) {
    Index largest = 0;
    svd.Vt.row(j).cwiseAbs().maxCoeff(&largest);
    EXPECT_GT(svd.Vt(j, largest), 0) << "component " << j;
  }
}

TEST(TruncatedSvd, PowerIterationsFindADecayingSpectrum) {
  // Full rank 60 x 50 with singular values 0.7^j: the sketch (k + 10 = 13 vectors) cannot hold
  // the range, so the leading triplets come from the power iterations.
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const Index m = 60, n = 50, k = 3;
  const Eigen::HouseholderQR<Matrix> left(naive::random_matrix(m, n, 21).array() - 0.5);
  const Eigen::HouseholderQR<Matrix> right(naive::random_matrix(n, n, 22).array() - 0.5);
  const Matrix U = left.householderQ() * Matrix::Identity(m, n);
  const Matrix V = right.householderQ() * Matrix::Identity(n, n);
  Eigen::VectorXd s(n);
  for (Index j = 0; j < n; ++j) s(j) = std::pow(0.7, static_cast<double>(j));
  const Matrix A = U * s.asDiagonal() * V.transpose();
  const dnmf::nmf::DenseBlock block{dnmf::RowMatrix(A)};
  const auto svd = dnmf::nmf::truncated_svd(block, m, k, {}, self);
  // The computed A is U diag(s) Vᵀ for U, V orthonormal to the QR's backward error, plus the
  // products' rounding: A + E0 exactly. The sketch (l = 13 vectors, q = 7 power iterations)
  // leaves (σ_14 / σ_3)^15 = 0.7^165 ≈ 3e-26 of σ_1 outside its range: nothing next to the
  // SVDs' own backward error.
  const double construction = 2 * error_bounds::svd_backward_error<double>(m, n) * A.norm() +
                              error_bounds::gamma<double>(n + 1) *
                                  (U.cwiseAbs() * s.asDiagonal() * V.cwiseAbs().transpose()).norm();
  const double perturbation =
      construction + error_bounds::sketch_backward_error<double>(m, n, k + 10) * A.norm();
  EXPECT_LT(relative_difference(svd.singular_values, s.head(k)),
            std::sqrt(static_cast<double>(k)) * perturbation / s.head(k).norm());
  const double gap = 0.3 * std::pow(0.7, k - 1);  // the smallest s_j - s_{j+1}, j < k: j = k - 1
  const Matrix v_alignment = (V.leftCols(k).transpose() * svd.Vt.transpose()).cwiseAbs();
  EXPECT_LT((v_alignment - Matrix::Identity(k, k)).norm(),
            std::sqrt(2.0 * static_cast<double>(k)) * perturbation / (gap - perturbation));
}

TEST(Nndsvd, MatchesNaiveOnExactLowRank) { expect_naive_nndsvd(low_rank_matrix(40, 30, 8, 11), 5); }

TEST(Nndsvd, MatchesNaiveOnTallFullRank) {
  // min(m, n) = 12 <= k + 10: the sketch holds the whole range.
  const Matrix A = naive::random_matrix(40, 12, 12);
  ASSERT_GT(smallest_relative_gap(A, 3), 1e-3);
  expect_naive_nndsvd(A, 3);
}

TEST(Nndsvd, MatchesNaiveOnWideFullRank) {
  const Matrix A = naive::random_matrix(9, 50, 13);
  ASSERT_GT(smallest_relative_gap(A, 4), 1e-3);
  expect_naive_nndsvd(A, 4);
}

TEST(Nndsvd, RankBelowKGivesEmptyComponents) {
  // Rank 2, k = 4: components 2 and 3 have singular value 0; the dense SVD's are at rounding
  // level and fall below the 1e-6 threshold, the sketch drops them. Neither gives NaN.
  const Matrix A = low_rank_matrix(30, 20, 2, 14);
  expect_naive_nndsvd(A, 4);
  const Initial kept = library_nndsvd(A, 4, NndsvdFill::Zeros);
  EXPECT_EQ(kept.W.rightCols(2).norm(), 0);
  EXPECT_EQ(kept.H.bottomRows(2).norm(), 0);
}

TEST(Nndsvd, AllZeroMatrixGivesZeros) {
  const Matrix A = Matrix::Zero(7, 5);
  for (const NndsvdFill fill : {NndsvdFill::Zeros, NndsvdFill::Mean, NndsvdFill::SmallRandom}) {
    const Initial initial = library_nndsvd(A, 3, fill);
    EXPECT_TRUE(initial.W.allFinite() && initial.H.allFinite());
    EXPECT_EQ(initial.W.norm() + initial.H.norm(), 0);
  }
}

TEST(Nndsvd, SparseBlockEqualsDenseBlock) {
  // Sparse planted factors give an A with many zeros and exact rank 6.
  Matrix W0 = naive::random_matrix(35, 6, 15);
  Matrix H0 = naive::random_matrix(6, 25, 16);
  W0 = (W0.array() < 0.6).select(0.0, W0);
  H0 = (H0.array() < 0.6).select(0.0, H0);
  const Matrix A = W0 * H0;
  ASSERT_GT((A.array() == 0).count(), A.size() / 4);
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const dnmf::nmf::DenseBlock dense{dnmf::RowMatrix(A)};
  const dnmf::nmf::SparseBlock sparse{dnmf::RowMatrix(A).sparseView()};
  const auto statistics = dnmf::nmf::input_statistics(dense, self);
  const auto from_dense =
      dnmf::nmf::nndsvd_factors(dense, 0, statistics, 4, NndsvdFill::Mean, 1, self);
  const auto from_sparse =
      dnmf::nmf::nndsvd_factors(sparse, 0, statistics, 4, NndsvdFill::Mean, 1, self);
  // The same algorithm, the sums in another order: kSafety times both runs' backward error
  // times the dense run's amplification, measured from A perturbed.
  const dnmf::nmf::DenseBlock probed_block{dnmf::RowMatrix(error_bounds::perturbed(A, 1))};
  const auto probed =
      dnmf::nmf::nndsvd_factors(probed_block, 0, dnmf::nmf::input_statistics(probed_block, self), 4,
                                NndsvdFill::Mean, 1, self);
  const double rounding = 2 * error_bounds::sketch_backward_error<double>(35, 25, 4 + 10);
  EXPECT_LT(relative_difference(from_sparse.Wt, from_dense.Wt),
            error_bounds::iterated_tolerance(error_bounds::amplification(from_dense.Wt, probed.Wt),
                                             rounding));
  EXPECT_LT(relative_difference(from_sparse.H, from_dense.H),
            error_bounds::iterated_tolerance(error_bounds::amplification(from_dense.H, probed.H),
                                             rounding));
  expect_naive_nndsvd(A, 4);
}

TEST(Nndsvd, SinglePrecisionBlockAgreesWithDouble) {
  // --precision single: the products with A run in float, the rest in double.
  const Matrix A = naive::random_matrix(40, 30, 17);
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const dnmf::nmf::DenseBlock dense{dnmf::RowMatrix(A)};
  const dnmf::nmf::StoredBlock<dnmf::RowMatrixT<float>> single{A.cast<float>()};
  const auto statistics = dnmf::nmf::input_statistics(dense, self);
  // Single sees A rounded (u), forms its products with A in float and rounds W and H to float
  // (u): the two sketches' backward errors plus those, times the double run's amplification,
  // measured from A perturbed.
  const dnmf::nmf::DenseBlock probed_block{dnmf::RowMatrix(error_bounds::perturbed(A, 1))};
  const auto probed_statistics = dnmf::nmf::input_statistics(probed_block, self);
  const double rounding = 2 * error_bounds::unit_roundoff<float>() +
                          error_bounds::sketch_backward_error<float>(40, 30, 15) +
                          error_bounds::sketch_backward_error<double>(40, 30, 15);
  for (const NndsvdFill fill : {NndsvdFill::Zeros, NndsvdFill::Mean, NndsvdFill::SmallRandom}) {
    const auto from_double = dnmf::nmf::nndsvd_factors(dense, 0, statistics, 5, fill, 1, self);
    const auto from_single = dnmf::nmf::nndsvd_factors(single, 0, statistics, 5, fill, 1, self);
    const auto probed =
        dnmf::nmf::nndsvd_factors(probed_block, 0, probed_statistics, 5, fill, 1, self);
    EXPECT_LT(relative_difference(Matrix(from_single.Wt.cast<double>()), from_double.Wt),
              error_bounds::iterated_tolerance(
                  error_bounds::amplification(from_double.Wt, probed.Wt), rounding));
    EXPECT_LT(relative_difference(Matrix(from_single.H.cast<double>()), from_double.H),
              error_bounds::iterated_tolerance(error_bounds::amplification(from_double.H, probed.H),
                                               rounding));
  }
}

}  // namespace
