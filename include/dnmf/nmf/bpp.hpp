#pragma once
// Exact nonnegative least squares for many right-hand sides by block principal pivoting:
// Kim & Park, "Fast nonnegative matrix factorization: an active-set-like method and
// comparisons", SIAM J. Sci. Comput. 33(6), 2011, Algorithm 2 (with the column grouping of
// Section 4 and Van Benthem & Keenan's idea of sharing one Cholesky per passive set).
//
// For every column j: x_j = argmin_{x >= 0} ½ xᵀ G x - b_jᵀ x, with G symmetric positive
// semidefinite. Warm start: the passive set of column j begins as the support of the incoming
// x_j (the previous iterate), which is usually close to the answer.
//
// In single precision X and B are float but the solve is in double: G_PP is gathered from the
// double Gram and factored in double, the right-hand sides and gradients are double, and only
// the answer is rounded to float. A float Cholesky of a nearly singular G_PP (cond(G) ~ 1e5 is
// common for HHᵀ of real data) loses all its digits and can fail outright, and a float gradient
// would make the sign tests pivot on rounding noise. The k x k solves cost O(k² N) a round,
// small beside the O(m n k) products with A, so double costs little here.

#include "dnmf/nmf/update_rule.hpp"

namespace dnmf::nmf {

template <class Scalar>
class BlockPrincipalPivotingT final : public UpdateRuleT<Scalar> {
 public:
  void update(Eigen::Ref<MatrixT<Scalar>> X, const Matrix& G, Eigen::Ref<const MatrixT<Scalar>> B,
              double l1) override;
  double flops(Index rank, Index columns) const override;
};
using BlockPrincipalPivoting = BlockPrincipalPivotingT<double>;

}  // namespace dnmf::nmf
