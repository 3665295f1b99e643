#pragma once
// Grams X Xᵀ of the factors (X: k x N, one problem a column, in double) by symmetric rank
// updates: the BLAS's syrk computes the lower triangle only, half a product's flops, and the
// upper one is copied from it once the sums are complete.

#include "dnmf/core/matrix.hpp"

namespace dnmf::nmf {

/// Adds X Xᵀ to the lower triangle of `gram` (k x k); its upper triangle is left as it was.
template <class Factor>
void add_to_lower_gram(const Factor& X, Eigen::Ref<Matrix> gram) {
  gram.selfadjointView<Eigen::Lower>().rankUpdate(X);
}

/// Copies the lower triangle of `gram` into its upper one.
inline void mirror_lower(Eigen::Ref<Matrix> gram) {
  gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
}

/// gram = X Xᵀ.
template <class Factor>
void form_gram(const Factor& X, Eigen::Ref<Matrix> gram) {
  gram.setZero();
  add_to_lower_gram(X, gram);
  mirror_lower(gram);
}

}  // namespace dnmf::nmf
