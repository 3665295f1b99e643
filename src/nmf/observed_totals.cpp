#include "dnmf/nmf/observed_totals.hpp"

#include <algorithm>
#include <cmath>

#include "dnmf/nmf/gram.hpp"
#include "dnmf/nmf/row_parts.hpp"

namespace dnmf::nmf {
namespace {

constexpr int kBins = HeldOutSet::kBins;

/// Per bin q, side by side in a k x (count * width) matrix: Σ x xᵀ (width k) or Σ x (width 1)
/// over the columns x of X in bin q, in double.
template <class Scalar>
void bin_totals(const MatrixT<Scalar>& X, const BinMembers& bins, Index width, Matrix& totals) {
  const Index k = X.rows();
  totals.setZero(k, bins.count * width);
  Matrix gathered;
  for (int q = 0; q < bins.count; ++q) {
    const std::vector<Index>& members = bins.members[static_cast<std::size_t>(q)];
    if (members.empty()) continue;
    gathered.resize(k, static_cast<Index>(members.size()));
    for (std::size_t t = 0; t < members.size(); ++t)
      gathered.col(static_cast<Index>(t)) = X.col(members[t]).template cast<double>();
    auto block = totals.middleCols(q * width, width);
    if (width == 1) {
      block = gathered.rowwise().sum();
    } else {
      form_gram(gathered, block);
    }
  }
}

/// For every wanted bin b: the sum of the totals of the bins q that b pairs with inside
/// (`inside`) or outside the held-out set. Bins are symmetric: rows pair with column bins as
/// columns with row bins. The bins b holds out, (b + q) mod 256 < T, are the T bins from
/// q = -b (mod 256) on, and the others the rest of the circle: each sum is a difference of two
/// prefix sums, O(k²) a bin. (A difference of sums of up to all 256 totals: its rounding,
/// relative to the range summed, grows as the range shrinks, at most 256-fold for T = 1.)
void paired_totals(const Matrix& totals, const BinMembers& bins, Index width,
                   const HeldOutSet& held_out, bool inside, Matrix& paired) {
  const Index k = totals.rows();
  const int count = bins.count;                          // 256, or 1 without a held-out set (T = 0)
  Matrix prefix = Matrix::Zero(k, (count + 1) * width);  // prefix block q: Σ of bins below q
  for (int q = 0; q < count; ++q) {
    prefix.middleCols((q + 1) * width, width) =
        prefix.middleCols(q * width, width) + totals.middleCols(q * width, width);
  }
  const auto range = [&](int first, int length) {  // bins first, first + 1, ... (mod count)
    const int end = first + length;
    if (end <= count) {
      return Matrix(prefix.middleCols(end * width, width) -
                    prefix.middleCols(first * width, width));
    }
    return Matrix(prefix.middleCols(count * width, width) -
                  prefix.middleCols(first * width, width) +
                  prefix.middleCols((end - count) * width, width));
  };
  const int threshold = held_out.threshold();
  paired.setZero(k, count * width);
  for (int b = 0; b < count; ++b) {
    if (!bins.wanted[static_cast<std::size_t>(b)]) continue;
    const int first_held = (count - b) % count;
    paired.middleCols(b * width, width) =
        inside ? range(first_held, threshold)
               : range((first_held + threshold) % count, count - threshold);
  }
}

/// Σ over the listed entries of row i of x_j x_jᵀ (width k) or x_j (width 1), x_j a column of X.
template <class Scalar>
Matrix listed_total(const MatrixT<Scalar>& X, const EntryList& list, Index row, Index width) {
  const Index k = X.rows();
  Matrix gathered(k, list.count(row));
  for (Index e = list.starts[row]; e < list.starts[row + 1]; ++e)
    gathered.col(e - list.starts[row]) = X.col(list.columns[e]).template cast<double>();
  if (width == 1) return gathered.rowwise().sum();
  return gathered * gathered.transpose();
}

/// minuend - subtrahend, two totals (width k: Grams, 1: sums) of `terms` terms each in double.
/// A diagonal entry (an entry of a sum) that the rounding of the two, γ_terms (|minuend| +
/// |subtrahend|), cannot tell from zero is set to zero with its row and column: its exact value
/// may be zero (a component absent from every observed entry), and the residue of the rounding
/// would then be a curvature of 1e-17 and a step of 1e17 in HALS.
Matrix corrected(const Matrix& minuend, const Matrix& subtrahend, double terms) {
  const double gamma = terms * 0x1.0p-53 / (1 - terms * 0x1.0p-53);
  Matrix total = minuend - subtrahend;
  const bool grams = total.cols() > 1;
  for (Index a = 0; a < total.rows(); ++a) {
    const Index c = grams ? a : 0;
    if (total(a, c) > gamma * (std::abs(minuend(a, c)) + std::abs(subtrahend(a, c)))) continue;
    total.row(a).setZero();
    if (grams) total.col(a).setZero();
  }
  return total;
}

/// G + l2 I, or G itself without a ridge.
Matrix with_ridge(Matrix G, double l2) {
  if (l2 != 0) G.diagonal().array() += l2;
  return G;
}

/// How the problems (columns of X) of one side find their Grams: `observed(x)` whether problem x
/// has an observed entry at all, `shares_bin(x)` whether its Gram is its bin's, `bin_of(x)` that
/// bin, `bin_gram(b)` the bin's Gram, `own_gram(x)` the Gram of a problem that does not share.
template <class BinOf, class SharesBin, class BinGram, class OwnGram, class Observed>
struct SideGrams {
  int bins;
  BinOf bin_of;
  SharesBin shares_bin;
  BinGram bin_gram;
  OwnGram own_gram;
  Observed observed;
};
template <class... F>
SideGrams(int, F...) -> SideGrams<F...>;

/// Updates every problem (column) of X from B by `rule`, each with its Gram from `grams`: the
/// problems that share a bin's Gram in one call of the rule a bin (BPP then shares its
/// Cholesky factorizations among them, MU and HALS their products), the others one at a time;
/// a problem with nothing observed becomes zero. With `quadratic`, returns Σ xᵀ G x over the
/// updated problems (G without the ridge).
template <class Scalar, class Grams>
double update_problems(Eigen::Ref<MatrixT<Scalar>> X, Eigen::Ref<const MatrixT<Scalar>> B,
                       const Grams& grams, UpdateRuleT<Scalar>& rule, const Penalty& penalty,
                       bool quadratic) {
  double total = 0;
  const auto quadratic_form = [&](const Matrix& G, const auto& Y) {
    if (!quadratic) return;
    const auto& Yd = Y.template cast<double>();  // Y itself in double
    total += (Yd.array() * (G * Yd).array()).sum();
  };
  std::vector<std::vector<Index>> groups(static_cast<std::size_t>(grams.bins));
  for (Index x = 0; x < X.cols(); ++x) {
    if (!grams.observed(x)) {
      X.col(x).setZero();
    } else if (grams.shares_bin(x)) {
      groups[static_cast<std::size_t>(grams.bin_of(x))].push_back(x);
    } else {
      const Matrix G = grams.own_gram(x);
      rule.update(X.middleCols(x, 1), with_ridge(G, penalty.l2), B.middleCols(x, 1), penalty.l1);
      quadratic_form(G, X.middleCols(x, 1));
    }
  }
  MatrixT<Scalar> X_group, B_group;
  for (int bin = 0; bin < grams.bins; ++bin) {
    const std::vector<Index>& members = groups[static_cast<std::size_t>(bin)];
    if (members.empty()) continue;
    const Index count = static_cast<Index>(members.size());
    X_group.resize(X.rows(), count);
    B_group.resize(B.rows(), count);
    for (Index t = 0; t < count; ++t) {
      X_group.col(t) = X.col(members[static_cast<std::size_t>(t)]);
      B_group.col(t) = B.col(members[static_cast<std::size_t>(t)]);
    }
    const Matrix G = grams.bin_gram(bin);
    rule.update(X_group, with_ridge(G, penalty.l2), B_group, penalty.l1);
    quadratic_form(G, X_group);
    for (Index t = 0; t < count; ++t) X.col(members[static_cast<std::size_t>(t)]) = X_group.col(t);
  }
  return total;
}

/// Σ_i x_iᵀ G_{bin(i)} x_i over the columns x_i of X, a product of gathered columns a bin.
template <class Scalar, class BinOf, class BinGram>
double binned_quadratic_form(const MatrixT<Scalar>& X, int bins, BinOf bin_of, BinGram bin_gram) {
  std::vector<std::vector<Index>> groups(static_cast<std::size_t>(bins));
  for (Index x = 0; x < X.cols(); ++x) groups[static_cast<std::size_t>(bin_of(x))].push_back(x);
  double total = 0;
  Matrix gathered;
  for (int bin = 0; bin < bins; ++bin) {
    const std::vector<Index>& members = groups[static_cast<std::size_t>(bin)];
    if (members.empty()) continue;
    gathered.resize(X.rows(), static_cast<Index>(members.size()));
    for (std::size_t t = 0; t < members.size(); ++t)
      gathered.col(static_cast<Index>(t)) = X.col(members[t]).template cast<double>();
    total += (gathered.array() * (bin_gram(bin) * gathered).array()).sum();
  }
  return total;
}

}  // namespace

BinMembers::BinMembers(const std::vector<int>& bins, bool held_out, Index wanted_begin,
                       Index wanted_count)
    : count(held_out ? kBins : 1),
      members(static_cast<std::size_t>(count)),
      wanted(static_cast<std::size_t>(count), 0) {
  for (std::size_t x = 0; x < bins.size(); ++x)
    members[static_cast<std::size_t>(bins[x])].push_back(static_cast<Index>(x));
  for (Index x = wanted_begin; x < wanted_begin + wanted_count; ++x)
    wanted[static_cast<std::size_t>(bins[static_cast<std::size_t>(x)])] = 1;
}

template <class Scalar>
ObservedTotals<Scalar>::ObservedTotals(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H,
                                       Index column_begin, Index column_count,
                                       const EntryMaskT<Scalar>& mask, mpi::Communicator& comm,
                                       Index width)
    : Wt_(Wt),
      H_(H),
      mask_(mask),
      comm_(comm),
      width_(width),
      column_begin_(column_begin),
      column_count_(column_count),
      row_bins_(mask.row_bins, !mask.held_out.empty(), 0, Wt.cols()),
      column_bins_(mask.column_bins, !mask.held_out.empty(), column_begin, column_count),
      column_blocks_(H.cols(), comm.size()),
      any_missing_(mask.missing_entries > 0),
      terms_(static_cast<double>(H.cols()) +
             static_cast<double>(comm.sum(static_cast<std::int64_t>(Wt.cols())))) {
  for (Index j = 0; j < H.cols(); ++j)
    if (summed_directly(j)) direct_columns_.push_back(j);
}

template <class Scalar>
void ObservedTotals<Scalar>::update_row_side() {
  bin_totals(H_, column_bins_, width_, column_totals_);
  paired_totals(column_totals_, row_bins_, width_, mask_.held_out, false, row_observed_);
  if (held_out()) {
    paired_totals(column_totals_, row_bins_, width_, mask_.held_out, true, row_held_out_);
  }
}

template <class Scalar>
void ObservedTotals<Scalar>::update_column_side() {
  bin_totals(Wt_, row_bins_, width_, row_totals_);
  comm_.allreduce_sum(row_totals_.data(), row_totals_.size());
  paired_totals(row_totals_, column_bins_, width_, mask_.held_out, false, column_observed_);
  if (!any_missing_) return;
  // Per column, the missing rows' terms (or the observed rows', for the columns summed_directly)
  // of this rank's rows, then summed over the ranks into the owners of the column blocks.
  const Index k = Wt_.rows();
  Matrix partial = Matrix::Zero(k, H_.cols() * width_);
  const auto add = [&](Index i, Index j) {
    const auto w = Wt_.col(i).template cast<double>();
    auto block = partial.middleCols(j * width_, width_);
    if (width_ == 1) {
      block += w;
    } else {
      block.noalias() += w * w.transpose();
    }
  };
  const EntryList& missing = mask_.missing_in_fit;
  std::vector<std::uint8_t> is_missing(static_cast<std::size_t>(H_.cols()), 0);
  for (Index i = 0; i < missing.rows(); ++i) {
    for (Index e = missing.starts[i]; e < missing.starts[i + 1]; ++e) {
      const Index j = missing.columns[e];
      is_missing[static_cast<std::size_t>(j)] = 1;
      if (!summed_directly(j)) add(i, j);
    }
    for (const Index j : direct_columns_)
      if (!is_missing[static_cast<std::size_t>(j)] && !mask_.held_out_entry(i, j)) add(i, j);
    for (Index e = missing.starts[i]; e < missing.starts[i + 1]; ++e)
      is_missing[static_cast<std::size_t>(missing.columns[e])] = 0;
  }
  column_partial_.resize(k, column_count_ * width_);
  comm_.reduce_scatter_sum(partial.data(), column_partial_.data(),
                           column_blocks_.counts(k * width_));
}

template <class Scalar>
Matrix ObservedTotals<Scalar>::row_total(Index i) const {
  const EntryList& missing = mask_.missing_in_fit;
  if (missing.count(i) > mask_.row_observed[static_cast<std::size_t>(i)]) {
    // Most of the row is missing: summed over its observed entries (no cancellation).
    EntryList observed;
    std::vector<Index> columns;
    Index e = missing.starts[i];
    for (Index j = 0; j < H_.cols(); ++j) {
      if (e < missing.starts[i + 1] && missing.columns[e] == j) {
        ++e;
        continue;
      }
      if (!mask_.held_out_entry(i, j)) columns.push_back(j);
    }
    observed.add_row(columns);
    return listed_total(H_, observed, 0, width_);
  }
  const auto bin_total = row_observed_.middleCols(bin_of_row(i) * width_, width_);
  if (missing.count(i) == 0) return bin_total;
  return corrected(bin_total, listed_total(H_, missing, i, width_), terms_);
}

template <class Scalar>
Matrix ObservedTotals<Scalar>::column_total(Index c) const {
  const Index j = column_begin_ + c;
  if (summed_directly(j)) return column_partial_.middleCols(c * width_, width_);
  const auto bin_total = column_observed_.middleCols(bin_of_column(c) * width_, width_);
  if (!any_missing_) return bin_total;
  return corrected(bin_total, column_partial_.middleCols(c * width_, width_), terms_);
}

template <class Scalar>
Matrix ObservedTotals<Scalar>::row_held_out(Index i) const {
  return row_held_out_.middleCols(bin_of_row(i) * width_, width_);
}

template <class Scalar>
double ObservedTotals<Scalar>::update(Side side, Eigen::Ref<MatrixT<Scalar>> X,
                                      Eigen::Ref<const MatrixT<Scalar>> B,
                                      UpdateRuleT<Scalar>& rule, const Penalty& penalty,
                                      bool quadratic) const {
  const int bins = row_bins_.count;
  if (side == Side::Rows) {
    const SideGrams grams{
        bins,
        [&](Index i) { return bin_of_row(i); },
        [&](Index i) { return row_shares_bin(i); },
        [&](int bin) { return row_observed_.middleCols(bin * width_, width_); },
        [&](Index i) { return row_total(i); },
        [&](Index i) { return mask_.row_observed[static_cast<std::size_t>(i)] > 0; }};
    return update_problems<Scalar>(X, B, grams, rule, penalty, quadratic);
  }
  const SideGrams grams{
      bins,
      [&](Index c) { return bin_of_column(c); },
      [&](Index c) { return column_shares_bin(c); },
      [&](int bin) { return column_observed_.middleCols(bin * width_, width_); },
      [&](Index c) { return column_total(c); },
      [&](Index c) {
        return mask_.column_observed[static_cast<std::size_t>(column_begin_ + c)] > 0;
      }};
  return update_problems<Scalar>(X, B, grams, rule, penalty, quadratic);
}

template <class Scalar>
double ObservedTotals<Scalar>::held_out_quadratic(const MatrixT<Scalar>& Wt) const {
  return binned_quadratic_form(
      Wt, row_bins_.count, [&](Index i) { return bin_of_row(i); },
      [&](int bin) { return row_held_out_.middleCols(bin * width_, width_); });
}

template <class Scalar>
double ObservedTotals<Scalar>::relative_error(const LocalBlockT<Scalar>& A,
                                              const FactorsT<Scalar>& factors,
                                              const InputStatistics& statistics) const {
  const MatrixT<Scalar>& Wt = factors.Wt;
  if (width_ == 1) {
    // Σ_O A log(A / WH) + Σ_O WH - Σ_O A, Σ_O WH from each row's sums of H over its observed
    // columns.
    const std::unique_ptr<LocalBlockT<Scalar>> ratio = A.same_pattern();
    double local = divide_all_rows(A, Wt, factors.H, *ratio);
    for (Index i = 0; i < Wt.cols(); ++i)
      local += Wt.col(i).template cast<double>().dot(row_total(i).col(0));
    return std::max(comm_.sum(local) - statistics.sum, 0.0) / statistics.sum;
  }
  // The residual over all entries of P_O A, less the unobserved entries' (WH)² (the block holds
  // zeros there).
  double unobserved = held_out() ? held_out_quadratic(Wt) : 0.0;
  for (Index i = 0; i < Wt.cols(); ++i)
    unobserved += listed_products(Wt, factors.H, mask_.missing_in_fit, i, 2);
  const double residual = comm_.sum(A.residual_squared_norm(Wt, factors.H) - unobserved);
  return std::sqrt(std::max(residual, 0.0) / statistics.squared_norm);
}

template <class Scalar>
double listed_products(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H, const EntryList& list,
                       Index row, int power) {
  const auto w = Wt.col(row).template cast<double>();
  double total = 0;
  for (Index e = list.starts[row]; e < list.starts[row + 1]; ++e) {
    const double product = w.dot(H.col(list.columns[e]).template cast<double>());
    total += power == 1 ? product : product * product;
  }
  return total;
}

#define DNMF_INSTANTIATE_OBSERVED_TOTALS(Scalar)                                          \
  template class ObservedTotals<Scalar>;                                                  \
  template double listed_products<Scalar>(const MatrixT<Scalar>&, const MatrixT<Scalar>&, \
                                          const EntryList&, Index, int);
DNMF_INSTANTIATE_OBSERVED_TOTALS(float)
DNMF_INSTANTIATE_OBSERVED_TOTALS(double)
#undef DNMF_INSTANTIATE_OBSERVED_TOTALS

}  // namespace dnmf::nmf
