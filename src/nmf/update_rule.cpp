#include "dnmf/nmf/update_rule.hpp"

#include <algorithm>

#include "dnmf/nmf/bpp.hpp"

namespace dnmf::nmf {
namespace {
// Guards the MU division where G X is exactly zero (scikit-learn replaces such denominators by
// float32 epsilon; a smaller guard keeps tiny-scale data unbiased).
constexpr double kDivisionGuard = 1e-16;
}  // namespace

void MultiplicativeUpdate::update(Eigen::Ref<Matrix> X, const Matrix& G,
                                  Eigen::Ref<const Matrix> B, double l1) {
  denominator_.resize(X.rows(), X.cols());
  denominator_.noalias() = G * X;
  if (l1 > 0) denominator_.array() += l1;
  X.array() *= B.array() / denominator_.array().max(kDivisionGuard);
}

double MultiplicativeUpdate::flops(Index rank, Index columns) const {
  return 2.0 * static_cast<double>(rank * rank * columns) + 3.0 * static_cast<double>(rank * columns);
}

void HalsUpdate::update(Eigen::Ref<Matrix> X, const Matrix& G, Eigen::Ref<const Matrix> B,
                        double l1) {
  const Index k = X.rows();
  for (Index column = 0; column < X.cols(); ++column) {
    auto x = X.col(column);
    for (Index j = 0; j < k; ++j) {
      const double curvature = G(j, j);
      if (curvature <= 0) continue;  // the j-th basis vector is zero: x_j does not matter
      const double step = (B(j, column) - l1 - G.col(j).dot(x)) / curvature;
      x(j) = std::max(0.0, x(j) + step);
    }
  }
}

double HalsUpdate::flops(Index rank, Index columns) const {
  return 2.0 * static_cast<double>(rank * rank * columns) + 4.0 * static_cast<double>(rank * columns);
}

void kl_multiplicative_update(Eigen::Ref<Matrix> X, const Vector& sums, Eigen::Ref<const Matrix> B,
                              const Penalty& penalty) {
  for (Index column = 0; column < X.cols(); ++column) {
    for (Index j = 0; j < X.rows(); ++j) {
      const double denominator = sums(j) + penalty.l1 + penalty.l2 * X(j, column);
      X(j, column) *= B(j, column) / std::max(denominator, kDivisionGuard);
    }
  }
}

std::unique_ptr<UpdateRule> make_update_rule(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::Mu: return std::make_unique<MultiplicativeUpdate>();
    case Algorithm::Hals: return std::make_unique<HalsUpdate>();
    case Algorithm::Bpp: return std::make_unique<BlockPrincipalPivoting>();
  }
  return nullptr;
}

}  // namespace dnmf::nmf
