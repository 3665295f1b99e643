#pragma once
// The Grams (Frobenius) or sums (KL) of each row's and each column's observed entries, which
// the masked losses (masked_loss_steps.cpp) and the masked transform use in place of H Hᵀ and
// Wᵀ W (DESIGN.md "Masks"):
//
//   row i of W:    G_i = Σ_{j observed} h_j h_jᵀ   (sums: Σ h_j)
//   column j of H: G_j = Σ_{i observed} w_i w_iᵀ   (sums: Σ w_i)
//
// With a held-out set (nmf/entry_mask.hpp) a row's observed columns are those of the column
// bins its bin observes, so G_i is a sum of bin Grams, the same for every row of the bin;
// each missing entry outside the held-out set is then subtracted, or, when most of a row's
// entries are missing, G_i is summed over its observed entries instead. Columns likewise, with
// the bin Grams of W's rows summed over the ranks (an allreduce of 256 blocks) and the missing
// entries' terms summed per column (a reduce-scatter, only when entries are missing).

#include <cstdint>
#include <vector>

#include "dnmf/core/matrix.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/entry_mask.hpp"
#include "dnmf/nmf/factors.hpp"
#include "dnmf/nmf/local_block.hpp"
#include "dnmf/nmf/options.hpp"
#include "dnmf/nmf/update_rule.hpp"

namespace dnmf::nmf {

/// The factor columns of each bin (all in bin 0 without a held-out set), and which bins occur
/// among the columns whose totals are wanted.
struct BinMembers {
  int count = 1;  ///< 256 with a held-out set, else 1
  std::vector<std::vector<Index>> members;
  std::vector<std::uint8_t> wanted;

  BinMembers(const std::vector<int>& bins, bool held_out, Index wanted_begin, Index wanted_count);
};

/// Which problems: this rank's rows of W, or its column block of H.
enum class Side { Rows, Columns };

template <class Scalar>
class ObservedTotals {
 public:
  /// `width` k: Grams (Frobenius); 1: sums (KL). [column_begin, column_begin + column_count) is
  /// this rank's column block of H. The references must outlive this. Collective.
  ObservedTotals(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H, Index column_begin,
                 Index column_count, const EntryMaskT<Scalar>& mask, mpi::Communicator& comm,
                 Index width);

  /// From H: the rows' totals, over the columns they observe and over those they hold out.
  void update_row_side();
  /// From W (collective): the totals of this rank's columns over the rows they observe.
  void update_column_side();

  /// The total over the observed entries of local row i (k x width), or of column
  /// column_begin + c.
  Matrix row_total(Index i) const;
  Matrix column_total(Index c) const;
  /// The total over the held-out columns of row i's bin (k x width).
  Matrix row_held_out(Index i) const;
  bool held_out() const { return !mask_.held_out.empty(); }

  /// Updates every problem (column of X; right-hand sides B) of `side` by `rule`, each with the
  /// Gram of its observed entries (width k): the problems that share their bin's Gram (no
  /// missing entry outside the held-out set) in one call of the rule a bin, so BPP shares its
  /// Cholesky factorizations among them and MU and HALS their products; the others one at a
  /// time. A problem with nothing observed becomes zero. With `quadratic` it returns
  /// Σ xᵀ G x over the updated problems (G without the ridge), else 0.
  double update(Side side, Eigen::Ref<MatrixT<Scalar>> X, Eigen::Ref<const MatrixT<Scalar>> B,
                UpdateRuleT<Scalar>& rule, const Penalty& penalty, bool quadratic) const;

  /// Σ_i w_iᵀ (the held-out Gram of row i's bin) w_i over the columns of Wt: Σ (WH)² over the
  /// held-out entries of this rank's rows (width k).
  double held_out_quadratic(const MatrixT<Scalar>& Wt) const;

  /// The relative error over the observed entries, computed directly (collective): Frobenius
  /// (width k) ||P_O(A - WH)|| / ||P_O A|| from the residual over all of the block (which holds
  /// zeros where entries are unobserved) less the unobserved entries' (WH)²; KL (width 1)
  /// D_O(A || WH) / Σ_O A. The row side must be current for `factors`' H.
  double relative_error(const LocalBlockT<Scalar>& A, const FactorsT<Scalar>& factors,
                        const InputStatistics& statistics) const;

 private:
  int bin_of_row(Index i) const { return mask_.row_bins[static_cast<std::size_t>(i)]; }
  bool row_shares_bin(Index i) const { return mask_.missing_in_fit.count(i) == 0; }
  int bin_of_column(Index c) const {
    return mask_.column_bins[static_cast<std::size_t>(column_begin_ + c)];
  }
  bool column_shares_bin(Index c) const {
    return mask_.column_missing[static_cast<std::size_t>(column_begin_ + c)] == 0;
  }
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
  const BinMembers row_bins_;     // this rank's rows by bin; wanted: their bins
  const BinMembers column_bins_;  // all columns by bin; wanted: the bins of the column block
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

/// Σ over the listed entries of local row i of (w_i · h_j)^power, power 1 or 2, in double.
template <class Scalar>
double listed_products(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H, const EntryList& list,
                       Index row, int power);

}  // namespace dnmf::nmf
