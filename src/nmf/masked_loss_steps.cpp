// The losses over the entries a mask keeps (DESIGN.md "Masks and held-out entries").
//
// Row i of W fits the observed entries of row i of A: its Gram is G_i = Σ_{j observed} h_j h_jᵀ
// and its right-hand side H (P_O A)_iᵀ, which the products with the block give since the block
// holds P_O A. The held-out set makes G_i the sum of the Grams of the 256 column bins that row
// i's bin observes (nmf/entry_mask.hpp), and each missing entry of the row outside the held-out
// set subtracts its h_j h_jᵀ. Column j of H likewise, from the bin Grams of W's rows (summed
// over the ranks: one allreduce of 256 k x k blocks) and the missing entries' w_i w_iᵀ (summed
// per column over the ranks: a reduce-scatter of k x k per column, only when entries are
// missing). KL needs the sums Σ h_j and Σ w_i over the same sets in place of the Grams.
//
// Every update rule then solves one row (column) at a time with its own Gram. A row or column
// with no observed entry gets zero factors.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/loss_steps.hpp"

namespace dnmf::nmf {
namespace {

constexpr int kBins = HeldOutSet::kBins;

/// The factor columns of each bin, and which bins occur among some wanted columns.
struct Bins {
  int count = 1;                            ///< 256 with a held-out set, else 1 (all in 0)
  std::vector<std::vector<Index>> members;  ///< members[q]: the columns of bin q
  std::vector<std::uint8_t> wanted;         ///< bins whose paired sums are needed

  Bins(const std::vector<int>& bins, bool held_out, Index wanted_begin, Index wanted_count)
      : count(held_out ? kBins : 1),
        members(static_cast<std::size_t>(count)),
        wanted(static_cast<std::size_t>(count), 0) {
    for (std::size_t x = 0; x < bins.size(); ++x)
      members[static_cast<std::size_t>(bins[x])].push_back(static_cast<Index>(x));
    for (Index x = wanted_begin; x < wanted_begin + wanted_count; ++x)
      wanted[static_cast<std::size_t>(bins[static_cast<std::size_t>(x)])] = 1;
  }
};

/// Per bin q, side by side in a k x (count * width) matrix: Σ x xᵀ (width k) or Σ x (width 1)
/// over the columns x of X in bin q, in double.
template <class Scalar>
void bin_totals(const MatrixT<Scalar>& X, const Bins& bins, Index width, Matrix& totals) {
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
      block.noalias() = gathered * gathered.transpose();
    }
  }
}

/// For every wanted bin b: the sum of the totals of the bins q that b pairs with inside
/// (`inside`) or outside the held-out set. Bins are symmetric: rows pair with column bins as
/// columns with row bins. The bins b holds out, (b + q) mod 256 < T, are the T bins from
/// q = -b (mod 256) on, and the others the rest of the circle: each sum is a difference of two
/// prefix sums, O(k²) a bin. (A difference of sums of up to all 256 totals: its rounding,
/// relative to the range summed, grows as the range shrinks, at most 256-fold for T = 1.)
void paired_totals(const Matrix& totals, const Bins& bins, Index width, const HeldOutSet& held_out,
                   bool inside, Matrix& paired) {
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

/// What both masked losses share: the bins of rows and columns, and the totals (Grams or
/// sums) over each row's and each column's observed entries.
template <class Scalar>
class MaskedSides {
 public:
  MaskedSides(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H, Index column_begin,
              Index column_count, const EntryMaskT<Scalar>& mask, mpi::Communicator& comm,
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

  /// From H: each wanted row bin's total over the columns it observes, and over the columns
  /// it holds out (for the test error and the final error).
  void update_row_side() {
    bin_totals(H_, column_bins_, width_, column_totals_);
    paired_totals(column_totals_, row_bins_, width_, mask_.held_out, false, row_observed_);
    if (!mask_.held_out.empty())
      paired_totals(column_totals_, row_bins_, width_, mask_.held_out, true, row_held_out_);
  }

  /// From W (collective): each of this rank's columns' totals over the rows it observes. A
  /// column with more missing entries than observed ones (counted over all ranks) is summed
  /// over its observed rows, the others are corrected for their missing rows, each summed
  /// over the ranks in one reduce-scatter.
  void update_column_side() {
    bin_totals(Wt_, row_bins_, width_, row_totals_);
    comm_.allreduce_sum(row_totals_.data(), row_totals_.size());
    paired_totals(row_totals_, column_bins_, width_, mask_.held_out, false, column_observed_);
    if (!any_missing_) return;
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

  /// The total over the observed entries of local row i (a k x width block): its bin's total
  /// less its missing entries, or, when most of its entries outside the held-out set are
  /// missing, summed over its observed entries (no cancellation).
  Matrix row_total(Index i) const {
    const EntryList& missing = mask_.missing_in_fit;
    if (missing.count(i) > mask_.row_observed[static_cast<std::size_t>(i)]) {
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
  /// The total over the observed entries of column column_begin + c.
  Matrix column_total(Index c) const {
    const Index j = column_begin_ + c;
    if (summed_directly(j)) return column_partial_.middleCols(c * width_, width_);
    const int bin = mask_.column_bins[static_cast<std::size_t>(j)];
    const auto bin_total = column_observed_.middleCols(bin * width_, width_);
    if (!any_missing_) return bin_total;
    return corrected(bin_total, column_partial_.middleCols(c * width_, width_), terms_);
  }
  /// The total over the held-out columns of row i's bin (zero without a held-out set).
  auto row_held_out(Index i) const { return held_out_total(bin_of_row(i)); }
  auto held_out_total(int row_bin) const {
    return row_held_out_.middleCols(row_bin * width_, width_);
  }
  bool held_out() const { return !mask_.held_out.empty(); }

  // Rows and columns without missing entries (outside the held-out set) share their bin's total.
  int bins() const { return row_bins_.count; }
  int bin_of_row(Index i) const { return mask_.row_bins[static_cast<std::size_t>(i)]; }
  bool row_shares_bin(Index i) const { return mask_.missing_in_fit.count(i) == 0; }
  auto row_bin_total(int bin) const { return row_observed_.middleCols(bin * width_, width_); }
  int bin_of_column(Index c) const {
    return mask_.column_bins[static_cast<std::size_t>(column_begin_ + c)];
  }
  bool column_shares_bin(Index c) const {
    return mask_.column_missing[static_cast<std::size_t>(column_begin_ + c)] == 0;
  }
  auto column_bin_total(int bin) const { return column_observed_.middleCols(bin * width_, width_); }

 private:
  /// Whether column j's total is summed over its observed rows rather than corrected.
  bool summed_directly(Index j) const {
    const std::size_t c = static_cast<std::size_t>(j);
    return mask_.column_missing[c] > mask_.column_observed[c];
  }

  const MatrixT<Scalar>& Wt_;
  const MatrixT<Scalar>& H_;
  const EntryMaskT<Scalar>& mask_;
  mpi::Communicator& comm_;
  const Index width_;  // k: Grams; 1: sums
  const Index column_begin_;
  const Index column_count_;
  const Bins row_bins_;     // this rank's rows by bin; wanted: their bins
  const Bins column_bins_;  // all columns by bin; wanted: the bins of this rank's column block
  const mpi::BlockPartition column_blocks_;
  const bool any_missing_;             // on any rank
  std::vector<Index> direct_columns_;  // the columns summed_directly()
  const double terms_;                 // n + m: at least the terms of any total
  // In double, k x (bins * width):
  Matrix column_totals_;    // per column bin, from H
  Matrix row_observed_;     // per row bin: over the column bins it observes
  Matrix row_held_out_;     // per row bin: over the column bins it holds out
  Matrix row_totals_;       // per row bin, from W, summed over the ranks
  Matrix column_observed_;  // per column bin: over the row bins it observes
  Matrix column_partial_;   // this rank's columns: their missing (or observed) entries' totals
};

/// Σ over the listed entries of row i of (w_i · h_j)^power, power 1 or 2.
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
    const Matrix Yd = Y.template cast<double>();
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

/// ½||P_O(A - WH)||², by the update rule (MU, HALS, BPP) one row (column) at a time.
template <class Scalar>
class MaskedFrobeniusSteps final : public LossSteps<Scalar> {
 public:
  MaskedFrobeniusSteps(const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, Index column_begin,
                       Index column_count, const SolverOptions& options,
                       const InputStatistics& statistics, const EntryMaskT<Scalar>& mask,
                       mpi::Communicator& comm, UpdateRuleT<Scalar>& w_rule,
                       UpdateRuleT<Scalar>& h_rule)
      : A_(A),
        Wt_(factors.Wt),
        H_(factors.H),
        column_begin_(column_begin),
        options_(options),
        statistics_(statistics),
        mask_(mask),
        comm_(comm),
        w_rule_(w_rule),
        h_rule_(h_rule),
        sides_(factors.Wt, factors.H, column_begin, column_count, mask, comm, options.rank) {}

  Index gram_size() const override { return 0; }
  void write_gram(Eigen::Map<Matrix>&) const override {}
  void take_gram(const Eigen::Map<Matrix>&) override {}
  void start() override { sides_.update_row_side(); }
  void begin_w_update() override {}

  /// The right-hand sides H (P_O A)_bᵀ of every row block first; the rows then in end_w_update,
  /// grouped by bin across all of this rank's rows.
  void update_w_rows(Index row, Index rows, Eigen::Ref<MatrixT<Scalar>>,
                     Eigen::Ref<MatrixT<Scalar>>, MatrixT<Scalar>&) override {
    rhs_.resize(Wt_.rows(), Wt_.cols());
    A_.times_transposed_rows(H_, row, rows, rhs_.middleCols(row, rows));
  }

  void end_w_update(MatrixT<Scalar>& WtA) override {
    const SideGrams grams{
        sides_.bins(),
        [&](Index i) { return sides_.bin_of_row(i); },
        [&](Index i) { return sides_.row_shares_bin(i); },
        [&](int bin) { return sides_.row_bin_total(bin); },
        [&](Index i) { return sides_.row_total(i); },
        [&](Index i) { return mask_.row_observed[static_cast<std::size_t>(i)] > 0; }};
    update_problems<Scalar>(Wt_, rhs_, grams, w_rule_, options_.w_penalty, false);
    // Wᵀ (P_O A): a second pass over the block, which the rows' grouping needs.
    for (Index row = 0; row < Wt_.cols(); row += kRowsPerBlock) {
      const Index rows = std::min(kRowsPerBlock, Wt_.cols() - row);
      A_.add_product_with_rows(Wt_.middleCols(row, rows), row, rows, WtA);
    }
  }

  void update_h_block(Eigen::Ref<MatrixT<Scalar>> H_block,
                      const MatrixT<Scalar>& WtA_block) override {
    sides_.update_column_side();
    const SideGrams grams{
        sides_.bins(),
        [&](Index c) { return sides_.bin_of_column(c); },
        [&](Index c) { return sides_.column_shares_bin(c); },
        [&](int bin) { return sides_.column_bin_total(bin); },
        [&](Index c) { return sides_.column_total(c); },
        [&](Index c) {
          return mask_.column_observed[static_cast<std::size_t>(column_begin_ + c)] > 0;
        }};
    // Σ_j h_jᵀ G_j h_j - 2 b_jᵀ h_j: this block's share of ||P_O(A - WH)||² - ||P_O A||².
    fit_term_ =
        update_problems<Scalar>(H_block, WtA_block, grams, h_rule_, options_.h_penalty, true) -
        2.0 * (WtA_block.template cast<double>().array() * H_block.template cast<double>().array())
                  .sum();
  }

  double loss_term(const MatrixT<Scalar>&, Index) override {
    sides_.update_row_side();  // for the test term now and the next W update
    test_term_ = 0;
    if (sides_.held_out()) {
      // ||P_T(A - WH)||² - ||P_T A||² = Σ_T (WH)² - 2 Σ_T A (WH), the first over the held-out
      // bins less the missing entries among them, the second at the stored test values.
      test_term_ = held_out_quadratic(Wt_) - 2.0 * test_cross_term();
      for (Index i = 0; i < Wt_.cols(); ++i)
        test_term_ -= listed_products(Wt_, H_, mask_.missing_in_test, i, 2);
    }
    return fit_term_;
  }
  double test_term() const override { return test_term_; }

  void measure(double loss_term, double test_term, double penalties,
               IterationRecord& record) const override {
    const double fit = statistics_.squared_norm + loss_term;
    record.objective = 0.5 * fit + penalties;
    record.relative_error =
        std::sqrt(std::max(2.0 * record.objective, 0.0) / statistics_.squared_norm);
    if (sides_.held_out()) {
      const double norm = mask_.test_squared_norm;
      const double residual = std::max(norm + test_term, 0.0);
      record.test_error = std::sqrt(norm > 0 ? residual / norm : residual);
    }
  }

  double final_relative_error(const FactorsT<Scalar>& factors) override {
    // The residual over all entries of P_O A, less the unobserved entries' (WH)² (the block
    // holds zeros there).
    double unobserved = sides_.held_out() ? held_out_quadratic(factors.Wt) : 0.0;
    for (Index i = 0; i < factors.Wt.cols(); ++i)
      unobserved += listed_products(factors.Wt, factors.H, mask_.missing_in_fit, i, 2);
    const double residual = comm_.sum(A_.residual_squared_norm(factors.Wt, factors.H) - unobserved);
    return std::sqrt(std::max(residual, 0.0) / statistics_.squared_norm);
  }
  double product_passes() const override { return 1.0; }

 private:
  /// Σ_i w_iᵀ (Σ_{held-out bins of row i} S_q) w_i: Σ (WH)² over the held-out entries of this
  /// rank's rows (missing or not).
  double held_out_quadratic(const MatrixT<Scalar>& Wt) const {
    return binned_quadratic_form(
        Wt, sides_.bins(), [&](Index i) { return sides_.bin_of_row(i); },
        [&](int bin) { return sides_.held_out_total(bin); });
  }

  /// Σ_T A (WH) over this rank's stored test values.
  double test_cross_term() const {
    double total = 0;
    const auto& values = mask_.test_values;
    for (Index i = 0; i < values.outerSize(); ++i) {
      const Vector w = Wt_.col(i).template cast<double>();
      for (typename SparseRowMatrixT<Scalar>::InnerIterator entry(values, i); entry; ++entry)
        total +=
            static_cast<double>(entry.value()) * w.dot(H_.col(entry.col()).template cast<double>());
    }
    return total;
  }

  const LocalBlockT<Scalar>& A_;
  MatrixT<Scalar>& Wt_;
  const MatrixT<Scalar>& H_;
  const Index column_begin_;
  const SolverOptions& options_;
  const InputStatistics& statistics_;  // of P_O A
  const EntryMaskT<Scalar>& mask_;
  mpi::Communicator& comm_;
  UpdateRuleT<Scalar>& w_rule_;
  UpdateRuleT<Scalar>& h_rule_;
  MaskedSides<Scalar> sides_;  // Grams
  MatrixT<Scalar> rhs_;        // H (P_O A)ᵀ, k x this rank's rows
  double fit_term_ = 0;
  double test_term_ = 0;
};

// Guards the KL ratio where (W H)_ij is exactly zero at a nonzero of A (as local_block.cpp).
constexpr double kProductGuard = 1e-16;

/// D(P_O A || P_O WH): Lee & Seung's (2001) multiplicative updates with the sums over each row's
/// and column's observed entries in the denominators.
template <class Scalar>
class MaskedKlSteps final : public LossSteps<Scalar> {
 public:
  MaskedKlSteps(const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, Index column_begin,
                Index column_count, const SolverOptions& options, const InputStatistics& statistics,
                const EntryMaskT<Scalar>& mask, mpi::Communicator& comm)
      : A_(A),
        Wt_(factors.Wt),
        H_(factors.H),
        column_begin_(column_begin),
        options_(options),
        statistics_(statistics),
        mask_(mask),
        comm_(comm),
        ratio_(A.same_pattern()),
        sides_(factors.Wt, factors.H, column_begin, column_count, mask, comm, 1) {}

  Index gram_size() const override { return 0; }
  void write_gram(Eigen::Map<Matrix>&) const override {}
  void take_gram(const Eigen::Map<Matrix>&) override {}
  void start() override {
    ratio_pass(Wt_, H_);
    sides_.update_row_side();
  }
  void begin_w_update() override {}

  void update_w_rows(Index row, Index rows, Eigen::Ref<MatrixT<Scalar>> rhs,
                     Eigen::Ref<MatrixT<Scalar>> Wt_b, MatrixT<Scalar>& WtQ) override {
    ratio_->times_transposed_rows(H_, row, rows, rhs);
    for (Index i = 0; i < rows; ++i) {
      if (mask_.row_observed[static_cast<std::size_t>(row + i)] == 0) {
        Wt_b.col(i).setZero();
        continue;
      }
      kl_multiplicative_update<Scalar>(Wt_b.middleCols(i, 1), Vector(sides_.row_total(row + i)),
                                       rhs.middleCols(i, 1), options_.w_penalty);
    }
    A_.divide_by_product(Wt_b, H_, row, rows, *ratio_);
    ratio_->add_product_with_rows(Wt_b, row, rows, WtQ);
  }

  void update_h_block(Eigen::Ref<MatrixT<Scalar>> H_block,
                      const MatrixT<Scalar>& WtQ_block) override {
    sides_.update_column_side();
    product_sum_ = 0;
    for (Index c = 0; c < H_block.cols(); ++c) {
      if (mask_.column_observed[static_cast<std::size_t>(column_begin_ + c)] == 0) {
        H_block.col(c).setZero();
        continue;
      }
      const Vector sums = sides_.column_total(c);
      kl_multiplicative_update<Scalar>(H_block.middleCols(c, 1), sums, WtQ_block.middleCols(c, 1),
                                       options_.h_penalty);
      // Σ_{i observed} (WH)_ij for column j.
      product_sum_ += sums.dot(H_block.col(c).template cast<double>());
    }
  }

  double loss_term(const MatrixT<Scalar>&, Index) override {
    const double log_sum = ratio_pass(Wt_, H_);
    sides_.update_row_side();
    test_term_ = sides_.held_out() ? test_sum(Wt_, H_) : 0.0;
    return log_sum + product_sum_;
  }
  double test_term() const override { return test_term_; }

  void measure(double loss_term, double test_term, double penalties,
               IterationRecord& record) const override {
    // Σ_O A log(A / WH) + Σ_O WH - Σ_O A.
    record.objective = loss_term - statistics_.sum + penalties;
    record.relative_error = std::max(record.objective, 0.0) / statistics_.sum;
    if (sides_.held_out() && mask_.test_sum > 0) {
      record.test_error = std::max(test_term - mask_.test_sum, 0.0) / mask_.test_sum;
    }
  }

  double final_relative_error(const FactorsT<Scalar>& factors) override {
    // Σ_O A log(A / WH) + Σ_O WH - Σ_O A, Σ_O WH from each row's sums of H over its observed
    // columns (as of the last loss_term, i.e. for these factors).
    double local = ratio_pass(factors.Wt, factors.H);
    for (Index i = 0; i < factors.Wt.cols(); ++i)
      local += factors.Wt.col(i).template cast<double>().dot(sides_.row_total(i).col(0));
    return std::max(comm_.sum(local) - statistics_.sum, 0.0) / statistics_.sum;
  }
  double product_passes() const override { return 2.0; }

 private:
  /// Q <- P_O A ⊘ (W H); returns this rank's Σ_O A log(A / WH).
  double ratio_pass(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H) {
    double log_sum = 0;
    for (Index row = 0; row < A_.rows(); row += kRowsPerBlock) {
      const Index rows = std::min(kRowsPerBlock, A_.rows() - row);
      log_sum += A_.divide_by_product(Wt.middleCols(row, rows), H, row, rows, *ratio_);
    }
    return log_sum;
  }

  /// This rank's Σ_T A log(A / WH) + Σ_T WH.
  double test_sum(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H) const {
    double total = 0;
    const auto& values = mask_.test_values;
    for (Index i = 0; i < Wt.cols(); ++i) {
      const Vector w = Wt.col(i).template cast<double>();
      total += w.dot(sides_.row_held_out(i).col(0)) -
               listed_products(Wt, H, mask_.missing_in_test, i, 1);
      for (typename SparseRowMatrixT<Scalar>::InnerIterator entry(values, i); entry; ++entry) {
        const double a = static_cast<double>(entry.value());
        const double product =
            std::max(w.dot(H.col(entry.col()).template cast<double>()), kProductGuard);
        total += a * (std::log(a) - std::log(product));
      }
    }
    return total;
  }

  const LocalBlockT<Scalar>& A_;
  const MatrixT<Scalar>& Wt_;
  const MatrixT<Scalar>& H_;
  const Index column_begin_;
  const SolverOptions& options_;
  const InputStatistics& statistics_;  // of P_O A
  const EntryMaskT<Scalar>& mask_;
  mpi::Communicator& comm_;
  // Q = P_O A ⊘ (W H) at P_O A's nonzeros, this rank's rows.
  const std::unique_ptr<LocalBlockT<Scalar>> ratio_;
  MaskedSides<Scalar> sides_;  // sums
  double product_sum_ = 0;     // this rank's columns' Σ_O WH after the H update
  double test_term_ = 0;
};

}  // namespace

template <class Scalar>
std::unique_ptr<LossSteps<Scalar>> make_masked_loss_steps(
    const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, Index column_begin, Index column_count,
    const SolverOptions& options, const InputStatistics& statistics, const EntryMaskT<Scalar>& mask,
    mpi::Communicator& comm, UpdateRuleT<Scalar>& w_rule, UpdateRuleT<Scalar>& h_rule) {
  if (options.loss == Loss::KullbackLeibler) {
    return std::make_unique<MaskedKlSteps<Scalar>>(A, factors, column_begin, column_count, options,
                                                   statistics, mask, comm);
  }
  return std::make_unique<MaskedFrobeniusSteps<Scalar>>(
      A, factors, column_begin, column_count, options, statistics, mask, comm, w_rule, h_rule);
}

#define DNMF_INSTANTIATE_MASKED_LOSS_STEPS(Scalar)                                                 \
  template std::unique_ptr<LossSteps<Scalar>> make_masked_loss_steps<Scalar>(                      \
      const LocalBlockT<Scalar>&, FactorsT<Scalar>&, Index, Index, const SolverOptions&,           \
      const InputStatistics&, const EntryMaskT<Scalar>&, mpi::Communicator&, UpdateRuleT<Scalar>&, \
      UpdateRuleT<Scalar>&);
DNMF_INSTANTIATE_MASKED_LOSS_STEPS(float)
DNMF_INSTANTIATE_MASKED_LOSS_STEPS(double)
#undef DNMF_INSTANTIATE_MASKED_LOSS_STEPS

}  // namespace dnmf::nmf
