#include "dnmf/nmf/entry_mask.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <sstream>

#include "dnmf/core/error.hpp"
#include "dnmf/core/random.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::nmf {

HeldOutSet::HeldOutSet(double fraction, std::uint64_t seed) : fraction_(fraction), seed_(seed) {
  std::ostringstream given;
  given << "--holdout " << fraction;
  if (!(fraction >= 0 && fraction < 1)) throw UsageError(given.str() + " is not in [0, 1)");
  threshold_ = static_cast<int>(std::ceil(fraction * kBins));
  if (threshold_ >= kBins) {
    throw UsageError(given.str() +
                     " holds out every entry (the set is made of 256ths: at most 255/256)");
  }
}

int HeldOutSet::row_bin(std::int64_t row) const {
  return static_cast<int>(kBins * counter_uniform(seed_, RandomStream::HeldOutRows,
                                                  static_cast<std::uint64_t>(row), 0));
}

int HeldOutSet::column_bin(std::int64_t column) const {
  return static_cast<int>(kBins * counter_uniform(seed_, RandomStream::HeldOutColumns, 0,
                                                  static_cast<std::uint64_t>(column)));
}

void EntryList::add_row(const std::vector<Index>& row_columns) {
  columns.insert(columns.end(), row_columns.begin(), row_columns.end());
  starts.push_back(static_cast<Index>(columns.size()));
}

EntryList EntryList::merged(const EntryList& first, const EntryList& second) {
  EntryList result;
  std::vector<Index> row;
  for (Index i = 0; i < first.rows(); ++i) {
    row.clear();
    std::set_union(first.columns.begin() + first.starts[i],
                   first.columns.begin() + first.starts[i + 1],
                   second.columns.begin() + second.starts[i],
                   second.columns.begin() + second.starts[i + 1], std::back_inserter(row));
    result.add_row(row);
  }
  return result;
}

template <class Scalar>
EntryList take_out_nan_entries(LocalBlockT<Scalar>& block) {
  std::vector<std::vector<Index>> rows(static_cast<std::size_t>(block.rows()));
  block.take_out_entries([&](Index row, Index col, Scalar value) {
    if (!std::isnan(value)) return false;
    rows[static_cast<std::size_t>(row)].push_back(col);
    return true;
  });
  EntryList list;
  for (const auto& row : rows) list.add_row(row);
  return list;
}

namespace {

/// How many entries of each row (this rank's) and each column (all ranks) are in the fit, from
/// the bins and the missing entries. Returns the number of held-out entries in this rank's rows.
template <class Scalar>
std::int64_t count_observed(EntryMaskT<Scalar>& mask, Index cols, mpi::Communicator& comm) {
  constexpr int kBins = HeldOutSet::kBins;
  std::vector<std::int64_t> column_bin_counts(kBins, 0);
  for (const int bin : mask.column_bins) ++column_bin_counts[static_cast<std::size_t>(bin)];
  std::vector<std::int64_t> row_bin_counts(kBins, 0);
  for (const int bin : mask.row_bins) ++row_bin_counts[static_cast<std::size_t>(bin)];
  comm.allreduce_sum(row_bin_counts.data(), kBins);
  const HeldOutSet& held_out = mask.held_out;
  // Held-out entries of a row of bin b: the columns whose bin c has (b + c) mod 256 < T.
  const auto held_out_count = [&](int bin, const std::vector<std::int64_t>& other_counts) {
    std::int64_t count = 0;
    for (int other = 0; other < kBins; ++other)
      if (held_out.held_out_bins(bin, other))
        count += other_counts[static_cast<std::size_t>(other)];
    return count;
  };
  const Index rows = static_cast<Index>(mask.row_bins.size());
  mask.row_observed.assign(static_cast<std::size_t>(rows), 0);
  std::vector<std::int64_t>& column_missing = mask.column_missing;
  column_missing.assign(static_cast<std::size_t>(cols), 0);
  std::int64_t held_out_entries = 0;
  for (Index i = 0; i < rows; ++i) {
    const std::int64_t held_out_in_row =
        held_out_count(mask.row_bins[static_cast<std::size_t>(i)], column_bin_counts);
    held_out_entries += held_out_in_row;
    mask.row_observed[static_cast<std::size_t>(i)] =
        cols - mask.missing_in_fit.count(i) - held_out_in_row;
    for (Index e = mask.missing_in_fit.starts[i]; e < mask.missing_in_fit.starts[i + 1]; ++e)
      ++column_missing[static_cast<std::size_t>(mask.missing_in_fit.columns[e])];
  }
  comm.allreduce_sum(column_missing.data(), cols);
  std::int64_t total_rows = 0;
  for (const std::int64_t count : row_bin_counts) total_rows += count;
  mask.column_observed.assign(static_cast<std::size_t>(cols), 0);
  for (Index j = 0; j < cols; ++j) {
    const std::size_t c = static_cast<std::size_t>(j);
    mask.column_observed[c] =
        total_rows - column_missing[c] - held_out_count(mask.column_bins[c], row_bin_counts);
  }
  return held_out_entries;
}

}  // namespace

template <class Scalar>
EntryMaskT<Scalar> take_out_unobserved(LocalBlockT<Scalar>& block, std::int64_t row_begin,
                                       const EntryList& missing, const HeldOutSet& held_out,
                                       mpi::Communicator& comm) {
  EntryMaskT<Scalar> mask;
  mask.held_out = held_out;
  const Index rows = block.rows();
  const Index cols = block.cols();
  mask.row_bins.assign(static_cast<std::size_t>(rows), 0);
  mask.column_bins.assign(static_cast<std::size_t>(cols), 0);
  if (!held_out.empty()) {
    for (Index i = 0; i < rows; ++i)
      mask.row_bins[static_cast<std::size_t>(i)] = held_out.row_bin(row_begin + i);
    for (Index j = 0; j < cols; ++j)
      mask.column_bins[static_cast<std::size_t>(j)] = held_out.column_bin(j);
  }
  const auto is_held_out = [&](Index row, Index col) { return mask.held_out_entry(row, col); };
  // Split the missing entries by the held-out set.
  std::vector<Index> in_fit;
  std::vector<Index> in_test;
  for (Index i = 0; i < rows; ++i) {
    in_fit.clear();
    in_test.clear();
    for (Index e = missing.starts[i]; e < missing.starts[i + 1]; ++e) {
      const Index col = missing.columns[e];
      (is_held_out(i, col) ? in_test : in_fit).push_back(col);
    }
    mask.missing_in_fit.add_row(in_fit);
    mask.missing_in_test.add_row(in_test);
  }
  // Zero the missing entries, move the held-out ones into the test set (both lists increase
  // along a row as take_out_entries visits it).
  std::vector<Eigen::Triplet<Scalar, int>> test_entries;
  std::vector<Index> next_missing(missing.starts.begin(), missing.starts.end() - 1);
  block.take_out_entries([&](Index row, Index col, Scalar value) {
    Index& next = next_missing[static_cast<std::size_t>(row)];
    while (next < missing.starts[row + 1] && missing.columns[next] < col) ++next;
    if (next < missing.starts[row + 1] && missing.columns[next] == col) return true;
    if (!is_held_out(row, col)) return false;
    if (value != 0) test_entries.emplace_back(static_cast<int>(row), static_cast<int>(col), value);
    return true;
  });
  mask.test_values.resize(rows, cols);
  mask.test_values.setFromTriplets(test_entries.begin(), test_entries.end());
  mask.test_values.makeCompressed();

  const std::int64_t held_out_entries = count_observed(mask, cols, comm);
  std::vector<double> totals = {static_cast<double>(missing.size()),
                                static_cast<double>(held_out_entries),
                                static_cast<double>(mask.missing_in_test.size()), 0.0, 0.0};
  for (Index e = 0; e < mask.test_values.nonZeros(); ++e) {
    const double a = static_cast<double>(mask.test_values.valuePtr()[e]);
    totals[3] += a;
    totals[4] += a * a;
  }
  comm.allreduce_sum(totals.data(), static_cast<std::int64_t>(totals.size()));
  const double entries =
      static_cast<double>(comm.sum(static_cast<std::int64_t>(rows))) * static_cast<double>(cols);
  mask.missing_entries = static_cast<std::int64_t>(totals[0]);
  mask.test_entries = static_cast<std::int64_t>(totals[1] - totals[2]);
  mask.observed_entries = static_cast<std::int64_t>(entries - totals[0] - totals[1] + totals[2]);
  mask.test_sum = totals[3];
  mask.test_squared_norm = totals[4];
  if (mask.observed_entries == 0) {
    mpi::agree(comm,
               [] { throw InputError("every entry is missing or held out: nothing to fit"); });
  }
  return mask;
}

#define DNMF_INSTANTIATE_ENTRY_MASK(Scalar)                                                    \
  template EntryList take_out_nan_entries<Scalar>(LocalBlockT<Scalar>&);                       \
  template EntryMaskT<Scalar> take_out_unobserved<Scalar>(LocalBlockT<Scalar>&, std::int64_t,  \
                                                          const EntryList&, const HeldOutSet&, \
                                                          mpi::Communicator&);
DNMF_INSTANTIATE_ENTRY_MASK(float)
DNMF_INSTANTIATE_ENTRY_MASK(double)
#undef DNMF_INSTANTIATE_ENTRY_MASK

}  // namespace dnmf::nmf
