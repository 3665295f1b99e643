#pragma once
// Exact nonnegative least squares for many right-hand sides by block principal pivoting:
// Kim & Park, "Fast nonnegative matrix factorization: an active-set-like method and
// comparisons", SIAM J. Sci. Comput. 33(6), 2011, Algorithm 2 (with the column grouping of
// Section 4 and Van Benthem & Keenan's idea of sharing one Cholesky per passive set).
//
// For every column j: x_j = argmin_{x >= 0} ½ xᵀ G x - b_jᵀ x, with G symmetric positive
// semidefinite. Warm start: the passive set of column j begins as the support of the incoming
// x_j (the previous iterate), which is usually close to the answer.

#include <cstdint>
#include <vector>

#include "dnmf/nmf/update_rule.hpp"

namespace dnmf::nmf {

class BlockPrincipalPivoting final : public UpdateRule {
 public:
  void update(Eigen::Ref<Matrix> X, const Matrix& G, Eigen::Ref<const Matrix> B,
              double l1) override;
  double flops(Index rank, Index columns) const override;

 private:
  using PassiveSets = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

  /// The unpenalised solve of all columns.
  void solve(Eigen::Ref<Matrix> X, const Matrix& G, Eigen::Ref<const Matrix> B);
  /// For each listed column: x_P = G_PP^{-1} b_P, x_F = 0, and the gradient y = G x - b.
  /// Columns with equal passive sets share one Cholesky factorisation.
  void solve_on_passive_sets(Eigen::Ref<Matrix> X, const Matrix& G, Eigen::Ref<const Matrix> B);
  bool is_infeasible(Eigen::Ref<const Matrix> X, Eigen::Ref<const Matrix> B, Index row,
                     Index column) const;

  // Workspaces, grown on demand and reused across calls (no allocation in steady state).
  PassiveSets passive_;
  Matrix gradient_;
  Matrix gram_work_;
  Matrix rhs_work_;
  Matrix shifted_rhs_;  ///< B - l1 when an L1 penalty is set
  std::vector<Index> pending_;
  std::vector<Index> next_pending_;
  std::vector<Index> passive_rows_;
  std::vector<int> fewest_infeasible_;
  std::vector<int> full_exchanges_left_;
};

}  // namespace dnmf::nmf
