#include "dnmf/nmf/update_rule.hpp"

#include <algorithm>
#include <type_traits>

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

/// The double Gram G in Scalar: G itself for double, else G rounded.
template <class Scalar>
MatrixT<Scalar> gram_in(const Matrix& G) {
  return G.template cast<Scalar>();
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
  // Each column's sweep alone: the same bits on any number of threads.
  parallel_for(X.cols(), kColumnsPerChunk, [&](Index begin, Index end) {
    for (Index column = begin; column < end; ++column) {
      auto x = X.col(column);
      for (Index j = 0; j < k; ++j) {
        const Scalar curvature = gram(j, j);
        if (curvature <= negligible)
          continue;  // the j-th basis vector is zero: x_j does not matter
        const Scalar step = (B(j, column) - shift - gram.col(j).dot(x)) / curvature;
        x(j) = std::max(Scalar(0), x(j) + step);
      }
    }
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
