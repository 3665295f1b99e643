#pragma once
// One update rule, used for both factors. With factors stored one problem per column
// (Wt: k x m, H: k x n), the W and H updates are the same operation:
//
//   X (k x N) <- improve  min_{X >= 0} ½||A' - Xᵀ F||² + l1 Σ X  given  G = F Fᵀ (k x k) and
//   B = F A'ᵀ (k x N); an L2 penalty (l2/2)||X||² is already in G as G + l2 I.
//
// W update: X = Wt_b, G = H Hᵀ,   B = H A_bᵀ.      H update: X = H_C, G = Wᵀ W, B = (Wᵀ A)_C.
// Every column of X is an independent problem, so rules can work on any block of columns. An
// update splits its columns over the kernel threads (core/parallel_for), and may be called from
// several threads at once on different X: a rule keeps no state between calls but per-thread
// scratch.
//
// X and B are in the factorization's Scalar (float or double); the k x k Gram G is always in
// double (see solver.hpp, "Precision"): it is formed once per update, and BPP factors it.

#include <memory>

#include "dnmf/core/matrix.hpp"
#include "dnmf/nmf/options.hpp"

namespace dnmf::nmf {

template <class Scalar>
class UpdateRuleT {
 public:
  virtual ~UpdateRuleT() = default;
  virtual void update(Eigen::Ref<MatrixT<Scalar>> X, const Matrix& G,
                      Eigen::Ref<const MatrixT<Scalar>> B, double l1) = 0;
  /// Approximate flops of one update of a k x N block, for the run report.
  virtual double flops(Index rank, Index columns) const = 0;
};
using UpdateRule = UpdateRuleT<double>;

/// Lee & Seung (2001) multiplicative update: X <- X * B / (G X + l1), zero denominators guarded
/// (L1 in the denominator keeps X >= 0, as scikit-learn does).
template <class Scalar>
class MultiplicativeUpdateT final : public UpdateRuleT<Scalar> {
 public:
  void update(Eigen::Ref<MatrixT<Scalar>> X, const Matrix& G, Eigen::Ref<const MatrixT<Scalar>> B,
              double l1) override;
  double flops(Index rank, Index columns) const override;
};
using MultiplicativeUpdate = MultiplicativeUpdateT<double>;

/// HALS (Cichocki & Phan 2009; Gillis & Glineur 2012): one exact coordinate-descent sweep over
/// the k rows of X, x_j <- max(0, x_j + (b_j - l1 - G_j. x) / G_jj), done column by column (each
/// column's sweep is independent, and the result equals the row-wise formulation). A coordinate
/// whose curvature G_jj is at most kNegligibleCurvature times the largest is left as it is: its
/// basis vector is zero to working precision, and a curvature made of rounding residues (1e-32
/// from entries of 1e-16) would turn the step into noise of any size.
inline constexpr double kNegligibleCurvature = 1e-12;
template <class Scalar>
class HalsUpdateT final : public UpdateRuleT<Scalar> {
 public:
  void update(Eigen::Ref<MatrixT<Scalar>> X, const Matrix& G, Eigen::Ref<const MatrixT<Scalar>> B,
              double l1) override;
  double flops(Index rank, Index columns) const override;
};
using HalsUpdate = HalsUpdateT<double>;

template <class Scalar = double>
std::unique_ptr<UpdateRuleT<Scalar>> make_update_rule(Algorithm algorithm);

/// Lee & Seung (2001) multiplicative update for the generalized KL divergence, penalised as in
/// scikit-learn: X <- X * B / (s 1ᵀ + l1 + l2 X), where B = F (A' ⊘ Xᵀ F)ᵀ is formed at A's
/// nonzeros only and s (k) holds the row sums of the other factor F (the closed-form column
/// sums of the all-ones part of the gradient, in double).
template <class Scalar>
void kl_multiplicative_update(Eigen::Ref<MatrixT<Scalar>> X, const Vector& sums,
                              Eigen::Ref<const MatrixT<Scalar>> B, const Penalty& penalty);

}  // namespace dnmf::nmf
