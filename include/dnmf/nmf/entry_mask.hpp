#pragma once
// Which entries of A take part in the fit (DESIGN.md "Masks and held-out entries").
//
// An entry is observed unless it is missing (a NaN with `--missing nan`, or marked by `--mask`)
// or held out (`--holdout F`). The solvers fit the observed entries only; the held-out entries
// that are not missing are the test set, whose error is measured every iteration.
//
// The held-out set is a pure function of (seed, global row, global column), the same for any
// number of ranks, and cheap to correct for in the Grams. With bins of 256:
//   row_bin(i)    = floor(256 u(seed, 8, i, 0)),   column_bin(j) = floor(256 u(seed, 9, 0, j)),
//   (i, j) is held out  iff  (row_bin(i) + column_bin(j)) mod 256 < T,  T = ceil(256 F),
// where u(seed, stream, row, col) is core/random.hpp's counter_uniform. A fraction T/256 of the
// entries is held out on average (F = 0.1 holds out 26/256 = 10.2 %). The columns a row holds
// out are the columns of T of the 256 column bins, so the Gram of a row's observed columns is a
// sum of bin Grams, O(k²) a row however many entries it holds out; the same holds for columns.
// Missing entries are an arbitrary pattern, corrected entry by entry: O(k²) each.

#include <cstdint>
#include <vector>

#include "dnmf/core/matrix.hpp"
#include "dnmf/core/sparse_matrix.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/local_block.hpp"

namespace dnmf::nmf {

/// The held-out set of `--holdout F` with `--seed S` (see above). F = 0: none.
class HeldOutSet {
 public:
  static constexpr int kBins = 256;

  HeldOutSet() = default;
  /// UsageError unless 0 <= F and ceil(256 F) < 256 (some entry must stay observed).
  HeldOutSet(double fraction, std::uint64_t seed);

  bool empty() const { return threshold_ == 0; }
  double fraction() const { return fraction_; }  ///< F as given
  int threshold() const { return threshold_; }   ///< T
  int row_bin(std::int64_t row) const;
  int column_bin(std::int64_t column) const;
  bool held_out_bins(int row_bin, int column_bin) const {
    return (row_bin + column_bin) % kBins < threshold_;
  }

 private:
  double fraction_ = 0;
  std::uint64_t seed_ = 0;
  int threshold_ = 0;
};

/// Entries of a block of rows, compressed by row: the columns of row i are
/// columns[starts[i]] .. columns[starts[i + 1] - 1], increasing.
struct EntryList {
  std::vector<Index> starts{0};
  std::vector<Index> columns;

  Index rows() const { return static_cast<Index>(starts.size()) - 1; }
  Index size() const { return static_cast<Index>(columns.size()); }
  Index count(Index row) const { return starts[row + 1] - starts[row]; }
  /// Appends the next row's entries.
  void add_row(const std::vector<Index>& row_columns);
  /// The union of two lists of the same rows.
  static EntryList merged(const EntryList& first, const EntryList& second);
};

/// The entries of one rank's rows that are left out of the fit, and the test set.
template <class Scalar>
struct EntryMaskT {
  HeldOutSet held_out;
  std::vector<int> row_bins;     ///< this rank's rows (all 0 without a held-out set)
  std::vector<int> column_bins;  ///< every column (likewise)
  /// Missing entries outside the held-out set: corrected for entry by entry in the fit.
  EntryList missing_in_fit;
  /// Missing entries inside the held-out set: already out of the fit, and out of the test set.
  EntryList missing_in_test;
  /// A's held-out entries that are not missing, where nonzero (this rank's rows x n).
  SparseRowMatrixT<Scalar> test_values;

  // Over all ranks:
  std::int64_t missing_entries = 0;
  std::int64_t observed_entries = 0;  ///< in the fit
  std::int64_t test_entries = 0;      ///< held out and not missing
  double test_sum = 0;                ///< Σ A over the test set (in double)
  double test_squared_norm = 0;       ///< ||P_T A||²
  /// Entries in the fit of each of this rank's rows and of each column (over all ranks), and
  /// each column's missing entries outside the held-out set (over all ranks). A row or column
  /// with no entry in the fit gets zero factors.
  std::vector<std::int64_t> row_observed;
  std::vector<std::int64_t> column_observed;
  std::vector<std::int64_t> column_missing;

  /// Whether any entry is left out of the fit.
  bool any() const { return !held_out.empty() || missing_entries > 0; }
  /// Whether entry (i, j) of this rank's rows is held out (missing or not).
  bool held_out_entry(Index i, Index j) const {
    return held_out.held_out_bins(row_bins[static_cast<std::size_t>(i)],
                                  column_bins[static_cast<std::size_t>(j)]);
  }
};
using EntryMask = EntryMaskT<double>;

/// The NaN entries of the block, set to 0 and listed (`--missing nan`).
template <class Scalar>
EntryList take_out_nan_entries(LocalBlockT<Scalar>& block);

/// Collective. Takes the `missing` entries (this rank's rows; any value) and the held-out
/// entries out of `block` (set to 0: the block then holds P_O A, what the solvers fit) and
/// returns the mask, the held-out values kept as its test set. `row_begin` is the global index
/// of the block's first row. InputError ("every entry ...") when no entry is left to fit.
template <class Scalar>
EntryMaskT<Scalar> take_out_unobserved(LocalBlockT<Scalar>& block, std::int64_t row_begin,
                                       const EntryList& missing, const HeldOutSet& held_out,
                                       mpi::Communicator& comm);

}  // namespace dnmf::nmf
