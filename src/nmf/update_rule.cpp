#include "dnmf/nmf/update_rule.hpp"

#include <algorithm>

#include "dnmf/core/parallel_for.hpp"
#include "dnmf/nmf/bpp.hpp"

namespace dnmf::nmf {
namespace {
// Guards the MU division where G X is exactly zero (scikit-learn replaces such denominators by
// float32 epsilon; a smaller guard keeps tiny-scale data unbiased). 1e-16 is a normal float too.
constexpr double kDivisionGuard = 1e-16;

// Columns a thread takes at the least in an update: a chunk's few k² flops a column must
// outweigh waking a thread.
constexpr Index kColumnsPerChunk = 16;

/// The double Gram G in Scalar (a copy, rounded for float): a k x k matrix, once a call.
template <class Scalar>
MatrixT<Scalar> gram_in(const Matrix& G) {
  return G.template cast<Scalar>();
}

// Columns whose HALS sweeps run interleaved (sweep_columns).
constexpr int kInterleavedColumns = 4;

// The gradients' and the Gram's columns are padded to whole vectors of this many bytes (one AVX
// register), so that the sweep's updates are whole aligned vectors with no scalar ends.
constexpr Index kVectorBytes = 32;

template <class Scalar>
Index padded_rank(Index k) {
  constexpr Index lanes = kVectorBytes / sizeof(Scalar);
  return (k + lanes - 1) / lanes * lanes;
}

/// HALS's sweep over the k coordinates of the `Columns` columns of X from `first`, interleaved:
/// each column's steps form a chain (x_j from g_j, which the last step's update just wrote), and
/// going through several columns' step j before step j + 1 keeps the core busy during each
/// chain's latency. Step j adds G_lj * change to g_l from the vector holding l = j + 1 on: the
/// gradient's later coordinates are the only ones read again in this sweep. Each column's
/// arithmetic is the same as alone, in the same order: the bits do not depend on the
/// interleaving. `gradient_of` and `gram` have padded_rank(k) rows (zero in the padding).
template <int Columns, class Scalar>
void sweep_columns(Eigen::Ref<MatrixT<Scalar>> X, MatrixT<Scalar>& gradient_of,
                   const MatrixT<Scalar>& gram, const VectorT<Scalar>& inverse_curvature,
                   Index first) {
  constexpr Index lanes = kVectorBytes / sizeof(Scalar);
  const Index padded = gram.rows();
  for (Index j = 0; j < X.rows(); ++j) {
    if (inverse_curvature(j) == 0) continue;
    Scalar change[Columns];
    for (int c = 0; c < Columns; ++c) {
      Scalar& x = X(j, first + c);
      const Scalar moved =
          std::max(Scalar(0), x - gradient_of(j, first + c) * inverse_curvature(j));
      change[c] = moved - x;
      x = moved;
    }
    const Index from = (j + 1) / lanes * lanes;
    const Scalar* coupling = gram.col(j).data();
    for (int c = 0; c < Columns; ++c) {
      Scalar* gradient = gradient_of.col(first + c).data();
      for (Index l = from; l < padded; ++l) gradient[l] += change[c] * coupling[l];
    }
  }
}
}  // namespace

template <class Scalar>
void MultiplicativeUpdateT<Scalar>::update(Eigen::Ref<MatrixT<Scalar>> X, const Matrix& G,
                                           Eigen::Ref<const MatrixT<Scalar>> B, double l1) {
  const MatrixT<Scalar> gram = gram_in<Scalar>(G);
  parallel_for(X.cols(), kColumnsPerChunk, [&](Index begin, Index end) {
    thread_local MatrixT<Scalar> denominator;
    auto x = X.middleCols(begin, end - begin);
    denominator.resize(X.rows(), end - begin);
    denominator.noalias() = gram * x;
    if (l1 > 0) denominator.array() += static_cast<Scalar>(l1);
    x.array() *= B.middleCols(begin, end - begin).array() /
                 denominator.array().max(static_cast<Scalar>(kDivisionGuard));
  });
}

template <class Scalar>
double MultiplicativeUpdateT<Scalar>::flops(Index rank, Index columns) const {
  return 2.0 * static_cast<double>(rank * rank * columns) +
         3.0 * static_cast<double>(rank * columns);
}

template <class Scalar>
void HalsUpdateT<Scalar>::update(Eigen::Ref<MatrixT<Scalar>> X, const Matrix& G,
                                 Eigen::Ref<const MatrixT<Scalar>> B, double l1) {
  const MatrixT<Scalar> gram = gram_in<Scalar>(G);
  const auto shift = static_cast<Scalar>(l1);
  const Index k = X.rows();
  const Scalar negligible =
      k > 0 ? static_cast<Scalar>(kNegligibleCurvature) * gram.diagonal().maxCoeff() : Scalar(0);
  // Each column's gradient g = G x - b + l1 from one product for all columns (on the calling
  // thread, so its bits do not depend on the thread count), then kept up to date by an axpy
  // after each coordinate, where each step used to take a dot product G_j. x: the sweep's k²/2
  // multiply-adds a column vectorise without a reduction in the dependency chain. The axpy runs
  // also when x_j stays (at zero, as many do): skipping it mispredicted too often to pay. The
  // gradients and the Gram get padded_rank(k) rows, zero below k.
  const Index padded = padded_rank<Scalar>(k);
  MatrixT<Scalar> padded_gram = MatrixT<Scalar>::Zero(padded, k);
  padded_gram.topRows(k) = gram;
  thread_local MatrixT<Scalar> gradients;
  MatrixT<Scalar>& gradient_of = gradients;  // this thread's, for the loop's threads
  gradient_of.resize(padded, X.cols());
  gradient_of.bottomRows(padded - k).setZero();
  gradient_of.topRows(k).noalias() = gram * X;
  gradient_of.topRows(k) -= B;
  if (shift != 0) gradient_of.topRows(k).array() += shift;
  // 1 / G_jj, or 0 where the j-th basis vector is zero (x_j does not matter): a multiply in the
  // sweep's dependency chain where a division took three times as long.
  VectorT<Scalar> inverse_curvature(k);
  for (Index j = 0; j < k; ++j)
    inverse_curvature(j) = gram(j, j) > negligible ? Scalar(1) / gram(j, j) : Scalar(0);
  // Each column's sweep alone: the same bits on any number of threads.
  parallel_for(X.cols(), kColumnsPerChunk, [&](Index begin, Index end) {
    Index column = begin;
    for (; column + kInterleavedColumns <= end; column += kInterleavedColumns) {
      sweep_columns<kInterleavedColumns>(X, gradient_of, padded_gram, inverse_curvature, column);
    }
    for (; column < end; ++column)
      sweep_columns<1>(X, gradient_of, padded_gram, inverse_curvature, column);
  });
}

template <class Scalar>
double HalsUpdateT<Scalar>::flops(Index rank, Index columns) const {
  return 2.0 * static_cast<double>(rank * rank * columns) +
         4.0 * static_cast<double>(rank * columns);
}

template <class Scalar>
void kl_multiplicative_update(Eigen::Ref<MatrixT<Scalar>> X, const Vector& sums,
                              Eigen::Ref<const MatrixT<Scalar>> B, const Penalty& penalty) {
  for (Index column = 0; column < X.cols(); ++column) {
    for (Index j = 0; j < X.rows(); ++j) {
      const double denominator = sums(j) + penalty.l1 + penalty.l2 * X(j, column);
      X(j, column) *= static_cast<Scalar>(B(j, column) / std::max(denominator, kDivisionGuard));
    }
  }
}

template <class Scalar>
std::unique_ptr<UpdateRuleT<Scalar>> make_update_rule(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::Mu: return std::make_unique<MultiplicativeUpdateT<Scalar>>();
    case Algorithm::Hals: return std::make_unique<HalsUpdateT<Scalar>>();
    case Algorithm::Bpp: return std::make_unique<BlockPrincipalPivotingT<Scalar>>();
  }
  return nullptr;
}

#define DNMF_INSTANTIATE_UPDATE_RULES(Scalar)                                                \
  template class MultiplicativeUpdateT<Scalar>;                                              \
  template class HalsUpdateT<Scalar>;                                                        \
  template std::unique_ptr<UpdateRuleT<Scalar>> make_update_rule<Scalar>(Algorithm);         \
  template void kl_multiplicative_update<Scalar>(Eigen::Ref<MatrixT<Scalar>>, const Vector&, \
                                                 Eigen::Ref<const MatrixT<Scalar>>,          \
                                                 const Penalty&);
DNMF_INSTANTIATE_UPDATE_RULES(float)
DNMF_INSTANTIATE_UPDATE_RULES(double)
#undef DNMF_INSTANTIATE_UPDATE_RULES

}  // namespace dnmf::nmf
