// The internal scaling of A (nmf/input_scaling.hpp), at any rank count: powers of two applied
// exactly, also across the subnormal range; the scaled penalties keep the objective homogeneous
// (checked with a naive objective written from the formulas); normalize_input brings the global
// largest entry into [0.5, 2) on every rank, dense and sparse, float and double.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/input_scaling.hpp"
#include "naive_nmf.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::InputScaling;
using dnmf::nmf::Loss;
using dnmf::nmf::Penalty;
using dnmf::nmf::ScaledFactors;

template <class Scalar>
void expect_scaled_like_ldexp(std::vector<Scalar> values, int exponent) {
  const std::vector<Scalar> original = values;
  dnmf::nmf::scale_by_power_of_two(values.data(), static_cast<Index>(values.size()), exponent);
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i], std::ldexp(original[i], exponent))
        << original[i] << " times 2^" << exponent;
  }
}

TEST(ScaleByPowerOfTwo, ExactAlsoWhereThePowerIsNotANormalNumber) {
  const double tiny = std::numeric_limits<double>::denorm_min();
  // Subnormal data up to 1 (2^1074 is no double), the largest double down past 1, and back.
  expect_scaled_like_ldexp<double>({tiny, 3 * tiny, 1000 * tiny, 0.0}, 1074);
  expect_scaled_like_ldexp<double>({std::numeric_limits<double>::max(), 1e300, 0.0}, -1023);
  expect_scaled_like_ldexp<double>({0.1, 3.0, 7e-10}, -40);
  const float tiny_float = std::numeric_limits<float>::denorm_min();
  expect_scaled_like_ldexp<float>({tiny_float, 5 * tiny_float, 0.0F}, 149);
  expect_scaled_like_ldexp<float>({std::numeric_limits<float>::max(), 1e30F}, -127);
}

/// ½||A - WH||² or D(A || WH), plus l1 ||X||_1 + (l2/2) ||X||_F² on W and on H: from the
/// formulas, entry by entry.
double naive_objective(const Matrix& A, const Matrix& W, const Matrix& H, Loss loss,
                       const Penalty& w_penalty, const Penalty& h_penalty) {
  double total = 0;
  for (Index i = 0; i < A.rows(); ++i) {
    for (Index j = 0; j < A.cols(); ++j) {
      const double a = A(i, j);
      double wh = 0;
      for (Index l = 0; l < W.cols(); ++l) wh += W(i, l) * H(l, j);
      if (loss == Loss::Frobenius) {
        total += 0.5 * (a - wh) * (a - wh);
      } else {
        total += (a > 0 ? a * std::log(a / wh) : 0.0) - a + wh;
      }
    }
  }
  const auto penalty = [](const Matrix& X, const Penalty& p) {
    double sum = 0;
    double squares = 0;
    for (Index i = 0; i < X.size(); ++i) {
      sum += X.data()[i];
      squares += X.data()[i] * X.data()[i];
    }
    return p.l1 * sum + 0.5 * p.l2 * squares;
  };
  return total + penalty(W, w_penalty) + penalty(H, h_penalty);
}

TEST(InputScaling, ScaledPenaltiesKeepTheObjectiveHomogeneous) {
  const Matrix A = naive::random_matrix(9, 7, 1) * 40.0;
  const Matrix W = naive::random_matrix(9, 3, 2) + Matrix::Constant(9, 3, 0.1);
  const Matrix H = naive::random_matrix(3, 7, 3) + Matrix::Constant(3, 7, 0.1);
  const Penalty w_penalty{0.7, 1.3};
  const Penalty h_penalty{2.1, 0.4};
  for (const Loss loss : {Loss::Frobenius, Loss::KullbackLeibler}) {
    const double p = loss == Loss::Frobenius ? 2 : 1;
    for (const int exponent : {-8, 6, 12}) {
      for (const ScaledFactors factors : {ScaledFactors::Both, ScaledFactors::CodesOnly}) {
        InputScaling scaling;
        scaling.exponent = exponent;
        scaling.w_exponent = factors == ScaledFactors::Both ? exponent / 2 : exponent;
        scaling.h_exponent = exponent - scaling.w_exponent;
        const double original = naive_objective(A, W, H, loss, w_penalty, h_penalty);
        const double scaled =
            naive_objective(std::ldexp(1.0, exponent) * A, std::ldexp(1.0, scaling.w_exponent) * W,
                            std::ldexp(1.0, scaling.h_exponent) * H, loss,
                            scaling.w_penalty(w_penalty, loss), scaling.h_penalty(h_penalty, loss));
        EXPECT_DOUBLE_EQ(scaled, std::pow(2.0, p * exponent) * original)
            << to_string(loss) << " 2^" << exponent;
        EXPECT_DOUBLE_EQ(std::ldexp(scaled, scaling.objective_exponent(loss)), original);
      }
    }
  }
}

/// This rank's rows of A as Scalar.
template <class Scalar>
dnmf::RowMatrixT<Scalar> my_rows(const Matrix& A, dnmf::mpi::Communicator& comm) {
  const dnmf::mpi::BlockPartition rows(A.rows(), comm.size());
  return A.middleRows(rows.begin(comm.rank()), rows.size(comm.rank())).template cast<Scalar>();
}

/// normalize_input on a dense or sparse block of this rank's rows of A: the exponent from the
/// global largest entry, every entry exactly ldexp(a, exponent).
template <class Scalar>
void expect_normalized(const Matrix& A, bool sparse) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const dnmf::RowMatrixT<Scalar> mine = my_rows<Scalar>(A, world);
  dnmf::nmf::DenseBlockT<Scalar> dense(mine);
  dnmf::nmf::SparseBlockT<Scalar> compressed(mine.sparseView());
  dnmf::nmf::LocalBlockT<Scalar>& block =
      sparse ? static_cast<dnmf::nmf::LocalBlockT<Scalar>&>(compressed) : dense;
  const InputScaling scaling = dnmf::nmf::normalize_input(block, ScaledFactors::Both, world);
  EXPECT_EQ(scaling.exponent % 2, 0);
  EXPECT_EQ(scaling.w_exponent, scaling.exponent / 2);
  EXPECT_EQ(scaling.h_exponent, scaling.exponent / 2);
  const dnmf::RowMatrixT<Scalar> scaled =
      sparse ? dnmf::RowMatrixT<Scalar>(compressed.values().toDense()) : dense.values();
  for (Index i = 0; i < mine.rows(); ++i)
    for (Index j = 0; j < mine.cols(); ++j)
      ASSERT_EQ(scaled(i, j), std::ldexp(mine(i, j), scaling.exponent)) << i << ", " << j;
  const double largest = world.max(block.largest_entry());
  EXPECT_EQ(largest,
            std::ldexp(static_cast<double>(static_cast<Scalar>(A.maxCoeff())), scaling.exponent));
  EXPECT_GE(largest, 0.5);
  EXPECT_LT(largest, 2.0);
}

TEST(NormalizeInput, LargestEntryInHalfToTwoOnEveryRank) {
  // The largest entry in the last row: on the last rank, which every rank must learn of.
  Matrix A = naive::random_matrix(13, 6, 4);
  A(12, 5) = 3.5;
  for (const bool sparse : {false, true}) {
    for (const double scale : {1.0, 1e300, 1e-300, 1e-310}) {
      expect_normalized<double>(A * scale, sparse);
    }
    for (const double scale : {1.0, 1e37, 1e-37}) expect_normalized<float>(A * scale, sparse);
  }
}

TEST(NormalizeInput, ZeroMatrixIsLeftAlone) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  dnmf::nmf::SparseBlock block(my_rows<double>(Matrix::Zero(5, 4), world).sparseView());
  const InputScaling scaling = dnmf::nmf::normalize_input(block, ScaledFactors::Both, world);
  EXPECT_EQ(scaling.largest_entry, 0.0);
  EXPECT_EQ(scaling.exponent, 0);
}

}  // namespace
