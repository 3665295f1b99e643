// The sparse kernels (nmf/sparse_products) against naive loops over the dense copy of a small
// random CSR matrix with empty rows, empty columns and explicitly stored zeros, in float and
// double, for k below, at, between and above the kernels' slice widths, on a block of rows in
// the middle of the matrix and with outputs whose column stride is not k; and every kernel
// bitwise the same on any number of threads.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "dnmf/core/threads.hpp"
#include "dnmf/nmf/sparse_products.hpp"
#include "error_bounds.hpp"

namespace {

using dnmf::nmf::CsrRows;
using dnmf::nmf::FactorColumns;
using Eigen::Index;

constexpr Index kRows = 37;
constexpr Index kCols = 23;
constexpr Index kBlockBegin = 5;  // the block of rows the kernels see
constexpr Index kBlockRows = 27;
// Up to the slices' widths and past them, and past 96, where the k-vectors are taken whole.
const std::vector<Index> kRanks = {1, 3, 8, 20, 24, 25, 29, 50, 97, 130};

template <class Scalar>
struct TestMatrix {
  CsrRows<Scalar> sparse;
  FactorColumns<Scalar> dense;  // the same values, row i of A in row i
};

/// About 35% stored entries, values in [0.5, 3); rows 0, 7 and 20 and columns 3 and 22 empty;
/// every tenth stored entry an explicit zero.
template <class Scalar>
TestMatrix<Scalar> random_csr(std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<Eigen::Triplet<Scalar, int>> entries;
  TestMatrix<Scalar> out;
  out.dense = FactorColumns<Scalar>::Zero(kRows, kCols);
  for (Index i = 0; i < kRows; ++i) {
    if (i == 0 || i == 7 || i == 20) continue;
    for (Index j = 0; j < kCols; ++j) {
      if (j == 3 || j == kCols - 1 || uniform(engine) > 0.35) continue;
      const Scalar value =
          entries.size() % 10 == 0 ? Scalar(0) : Scalar(0.5 + 2.5 * uniform(engine));
      entries.emplace_back(static_cast<int>(i), static_cast<int>(j), value);
      out.dense(i, j) = value;
    }
  }
  out.sparse.resize(kRows, kCols);
  out.sparse.setFromTriplets(entries.begin(), entries.end());
  out.sparse.makeCompressed();
  return out;
}

template <class Scalar>
FactorColumns<Scalar> random_factor(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  FactorColumns<Scalar> out(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) out(i, j) = static_cast<Scalar>(uniform(engine));
  return out;
}

/// The largest |a - b| - bound, bound = 2 γ_{terms+1} magnitude: a and b are two sums of at most
/// `terms` nonnegative products in Scalar, in different orders, whose exact value is
/// `magnitude` (computed in double: the +1 covers its own rounding). At most 0 when the two
/// agree to rounding.
template <class Scalar>
double excess(const FactorColumns<Scalar>& a, const FactorColumns<Scalar>& b,
              const Eigen::MatrixXd& magnitude, Index terms) {
  const Eigen::MatrixXd difference =
      (a.template cast<double>() - b.template cast<double>()).cwiseAbs();
  return (difference - 2 * error_bounds::gamma<Scalar>(terms + 1) * magnitude).maxCoeff();
}

template <class Scalar>
class SparseProducts : public testing::Test {};
using Scalars = testing::Types<float, double>;
TYPED_TEST_SUITE(SparseProducts, Scalars);

TYPED_TEST(SparseProducts, KernelsGiveTheSameBitsOnAnyNumberOfThreads) {
  // The gather (A Hᵀ) and the KL ratio's products split rows among the kernel threads
  // (core/parallel_for), each row alone, and the scatter (Wᵀ A) is one thread: the bits cannot
  // depend on the count. In slices (k = 13) and with the k-vectors whole (k = 100).
  using Scalar = TypeParam;
  for (const Index k : {13, 100}) {
    const Index rows = 301, cols = 1500;
    std::mt19937_64 engine(31);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<Eigen::Triplet<Scalar, int>> entries;
    for (Index i = 0; i < rows; ++i)
      for (Index j = 0; j < cols; ++j)
        if (uniform(engine) < 0.2) entries.emplace_back(i, j, Scalar(0.5 + uniform(engine)));
    CsrRows<Scalar> A(rows, cols);
    A.setFromTriplets(entries.begin(), entries.end());
    A.makeCompressed();
    const FactorColumns<Scalar> H = random_factor<Scalar>(k, cols, 32);
    const FactorColumns<Scalar> Wt = random_factor<Scalar>(k, rows, 33);
    const auto products = [&](int threads) {
      dnmf::set_kernel_threads(threads);
      FactorColumns<Scalar> out(k, rows - 3);
      dnmf::nmf::sparse_rows_times_transposed<Scalar>(A, 3, rows - 3, H, out);
      CsrRows<Scalar> ratio = A;
      const double log_sum = dnmf::nmf::divide_sparse_rows_by_product<Scalar>(
          A, 3, rows - 3, Wt.middleCols(3, rows - 3), H, Scalar(1e-16), ratio);
      FactorColumns<Scalar> WtA = random_factor<Scalar>(k, cols, 34);
      dnmf::nmf::add_product_with_sparse_rows<Scalar>(A, 3, rows - 3, Wt.middleCols(3, rows - 3),
                                                      WtA);
      dnmf::set_kernel_threads(1);
      return std::tuple{out, FactorColumns<Scalar>(ratio), log_sum, WtA};
    };
    const auto [out, ratio, log_sum, WtA] = products(1);
    for (const int threads : {2, 3, 7}) {
      const auto [out_t, ratio_t, log_sum_t, WtA_t] = products(threads);
      EXPECT_TRUE(out_t == out) << threads << " threads, k = " << k;
      EXPECT_TRUE(ratio_t == ratio) << threads << " threads, k = " << k;
      EXPECT_EQ(log_sum_t, log_sum) << threads << " threads, k = " << k;
      EXPECT_TRUE(WtA_t == WtA) << threads << " threads, k = " << k;
    }
  }
}

TYPED_TEST(SparseProducts, TestMatrixHasTheAwkwardCases) {
  const auto A = random_csr<TypeParam>(1);
  EXPECT_GT(A.sparse.nonZeros(), (A.dense.array() != 0).count());  // explicit zeros stored
  EXPECT_EQ(A.sparse.row(7).nonZeros(), 0);
  EXPECT_EQ(A.dense.col(3).cwiseAbs().sum(), 0);
}

TYPED_TEST(SparseProducts, TimesTransposedRowsMatchesLoops) {
  using Scalar = TypeParam;
  const auto A = random_csr<Scalar>(2);
  for (const Index k : kRanks) {
    const FactorColumns<Scalar> H = random_factor<Scalar>(k, kCols, 3);
    FactorColumns<Scalar> expected = FactorColumns<Scalar>::Zero(k, kBlockRows);
    for (Index i = 0; i < kBlockRows; ++i)
      for (Index j = 0; j < kCols; ++j)
        for (Index t = 0; t < k; ++t) expected(t, i) += H(t, j) * A.dense(kBlockBegin + i, j);
    // The output is the top of a taller matrix: its column stride is k + 3, not k.
    FactorColumns<Scalar> out = FactorColumns<Scalar>::Constant(k + 3, kBlockRows, Scalar(-7));
    dnmf::nmf::sparse_rows_times_transposed<Scalar>(A.sparse, kBlockBegin, kBlockRows, H,
                                                    out.topRows(k));
    const Eigen::MatrixXd magnitude =
        H.template cast<double>() *
        A.dense.middleRows(kBlockBegin, kBlockRows).template cast<double>().transpose();
    EXPECT_LE(excess<Scalar>(out.topRows(k), expected, magnitude, kCols), 0) << "k " << k;
    EXPECT_TRUE((out.bottomRows(3).array() == Scalar(-7)).all()) << "k " << k;
  }
}

TYPED_TEST(SparseProducts, AddProductWithRowsMatchesLoops) {
  using Scalar = TypeParam;
  const auto A = random_csr<Scalar>(4);
  for (const Index k : kRanks) {
    const FactorColumns<Scalar> Wt = random_factor<Scalar>(k, kRows, 5);
    const FactorColumns<Scalar> start = random_factor<Scalar>(k, kCols, 6);
    FactorColumns<Scalar> expected = start;
    for (Index i = 0; i < kBlockRows; ++i)
      for (Index j = 0; j < kCols; ++j)
        for (Index t = 0; t < k; ++t)
          expected(t, j) += Wt(t, kBlockBegin + i) * A.dense(kBlockBegin + i, j);
    FactorColumns<Scalar> accumulator = FactorColumns<Scalar>::Constant(k + 2, kCols, Scalar(-7));
    accumulator.topRows(k) = start;
    dnmf::nmf::add_product_with_sparse_rows<Scalar>(A.sparse, kBlockBegin, kBlockRows,
                                                    Wt.middleCols(kBlockBegin, kBlockRows),
                                                    accumulator.topRows(k));
    const Eigen::MatrixXd magnitude =
        start.template cast<double>() +
        Wt.middleCols(kBlockBegin, kBlockRows).template cast<double>() *
            A.dense.middleRows(kBlockBegin, kBlockRows).template cast<double>();
    EXPECT_LE(excess<Scalar>(accumulator.topRows(k), expected, magnitude, kBlockRows + 1), 0)
        << "k " << k;
    EXPECT_TRUE((accumulator.bottomRows(2).array() == Scalar(-7)).all()) << "k " << k;
  }
}

TYPED_TEST(SparseProducts, DivideByProductMatchesLoops) {
  using Scalar = TypeParam;
  const auto A = random_csr<Scalar>(7);
  const Scalar guard = Scalar(1e-16);
  for (const Index k : kRanks) {
    FactorColumns<Scalar> Wt = random_factor<Scalar>(k, kRows, 8);
    Wt.col(kBlockBegin + 2).setZero();  // W H = 0 on that row: the guard applies
    const FactorColumns<Scalar> H = random_factor<Scalar>(k, kCols, 9);
    // Naive: the ratio as a dense block and Σ_{A > 0} A log(ratio), in double.
    FactorColumns<Scalar> expected = FactorColumns<Scalar>::Zero(kRows, kCols);
    double expected_log_sum = 0;
    for (Index i = kBlockBegin; i < kBlockBegin + kBlockRows; ++i) {
      for (Index j = 0; j < kCols; ++j) {
        const Scalar a = A.dense(i, j);
        if (a <= 0) continue;
        Scalar product = 0;
        for (Index t = 0; t < k; ++t) product += Wt(t, i) * H(t, j);
        expected(i, j) = a / std::max(product, guard);
        expected_log_sum += static_cast<double>(a) * std::log(static_cast<double>(expected(i, j)));
      }
    }
    CsrRows<Scalar> ratio = A.sparse;
    std::fill(ratio.valuePtr(), ratio.valuePtr() + ratio.nonZeros(), Scalar(-7));
    const double log_sum = dnmf::nmf::divide_sparse_rows_by_product<Scalar>(
        A.sparse, kBlockBegin, kBlockRows, Wt.middleCols(kBlockBegin, kBlockRows), H, guard, ratio);
    FactorColumns<Scalar> block = FactorColumns<Scalar>(ratio).middleRows(kBlockBegin, kBlockRows);
    FactorColumns<Scalar> expected_block = expected.middleRows(kBlockBegin, kBlockRows);
    // Each side forms (W H)_ij as a sum of k products (γ_k, in different orders) and divides
    // (u): the ratios agree to 2 γ_{k+1} relatively, to 2 γ_{k+2} of the computed expected
    // ratio (the guarded entries, about 1e16, are the same division on both sides).
    const double ratio_bound = 2 * error_bounds::gamma<Scalar>(k + 2);
    const Eigen::MatrixXd difference = (block - expected_block).template cast<double>().cwiseAbs();
    EXPECT_LE(
        (difference - ratio_bound * expected_block.template cast<double>().cwiseAbs()).maxCoeff(),
        0)
        << "k " << k;
    // Σ a log(ratio): the ratios' difference moves each log by at most about ratio_bound, so
    // a log by 2 γ_{k+3} a; the library takes the log and the product in Scalar (Eigen's
    // vectorised log is not correctly rounded: 4 ulps, 8u, allowed, and u for the product),
    // and both sum the terms in double (γ over the stored entries).
    double sum_a = 0, sum_terms = 0;
    for (Index i = kBlockBegin; i < kBlockBegin + kBlockRows; ++i) {
      for (Index j = 0; j < kCols; ++j) {
        const double a = A.dense(i, j);
        if (a <= 0) continue;
        sum_a += a;
        sum_terms += std::abs(a * std::log(static_cast<double>(expected(i, j))));
      }
    }
    const double entries = static_cast<double>(A.sparse.nonZeros());
    const double log_bound =
        2 * error_bounds::gamma<Scalar>(k + 3) * sum_a +
        (9 * error_bounds::unit_roundoff<Scalar>() + 2 * error_bounds::gamma<double>(entries)) *
            sum_terms;
    EXPECT_NEAR(log_sum, expected_log_sum, log_bound) << "k " << k;
    // Rows outside the block keep their values.
    for (Index i : {Index{0}, kBlockBegin - 1, kBlockBegin + kBlockRows, kRows - 1}) {
      for (typename CsrRows<Scalar>::InnerIterator it(ratio, i); it; ++it) {
        EXPECT_EQ(it.value(), Scalar(-7)) << "row " << i;
      }
    }
  }
}

}  // namespace
