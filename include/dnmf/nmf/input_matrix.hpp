#pragma once
// The matrix a factorization or transform works on (dnmf_nmf_files): this rank's rows as read
// by io/matrix_rows.hpp, held as the solvers' LocalBlock, and scaled as nmf/input_scaling.hpp
// says.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dnmf/core/named_values.hpp"
#include "dnmf/io/matrix_rows.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/entry_mask.hpp"
#include "dnmf/nmf/factors.hpp"
#include "dnmf/nmf/input_scaling.hpp"
#include "dnmf/nmf/local_block.hpp"

namespace dnmf::nmf {

template <class Scalar>
struct InputMatrixT : io::MatrixSource {
  std::unique_ptr<LocalBlockT<Scalar>> block;
};
using InputMatrix = InputMatrixT<double>;

/// Collective: io::read_matrix_rows, the rows held as a dense or a sparse block. With
/// `nan_is_missing` (--missing nan) NaN entries are kept, for missing_entries to take out.
template <class Scalar = double>
InputMatrixT<Scalar> load_input_matrix(const std::string& file, const std::string& dataset,
                                       bool transpose, mpi::Communicator& comm,
                                       bool nan_is_missing = false);

/// --missing: which value of A marks a missing entry (none, or NaN).
enum class MissingValue { None, Nan };
inline constexpr NamedValue<MissingValue> kMissingValueNames[] = {{MissingValue::None, "none"},
                                                                  {MissingValue::Nan, "nan"}};

/// What leaves entries of A out of the fit (nmf/entry_mask.hpp), as the options say it.
struct MaskOptions {
  bool missing_nan = false;  ///< --missing nan: NaN entries are missing
  std::string mask;          ///< --mask: a dataset of the input file, or FILE:PATH; empty: none
  double holdout = 0;        ///< --holdout F
  /// --holdout-seed: the seed the held-out set is drawn from; not given: the run's --seed.
  std::optional<std::uint64_t> holdout_seed;
  bool any() const { return missing_nan || !mask.empty() || holdout > 0; }
  /// The file of FILE:/PATH, or "" for a /PATH of the input file; and the dataset's path.
  std::string mask_file() const;
  std::string mask_path() const;
};

/// Collective: the missing entries of this rank's rows: its NaN entries with --missing nan (set
/// to 0 in the block), and the nonzero entries of the --mask dataset, read as A is (the same
/// rows, transposed with A). An InputError naming the mask unless it is a 2-D numeric dataset
/// or a sparse matrix of A's shape with finite nonnegative entries.
template <class Scalar>
EntryList missing_entries(const InputMatrixT<Scalar>& input, const MaskOptions& options,
                          mpi::Communicator& comm);

/// The scale the solvers work at and the statistics of the scaled matrix.
struct ScaledInput {
  InputScaling scaling;
  InputStatistics statistics;
};

/// Collective: scales `input`'s block (normalize_input); an InputError naming the input, ending
/// in `if_all_zero` ("nothing to factorize"), when every entry is zero.
template <class Scalar>
ScaledInput scale_input(const InputMatrixT<Scalar>& input, ScaledFactors factors,
                        const std::string& if_all_zero, mpi::Communicator& comm);

/// Collective: scale_input with the entries `options` leaves out of the fit taken out of the
/// block into `mask` (missing_entries before the scaling, as a NaN has no scale; the held-out
/// set of `seed` after it, so that the test values are scaled too); the statistics are then
/// those of the entries fitted. An InputError naming the input when none is left.
/// The two halves below, for fits of one input with many seeds (dnmf sweep).
template <class Scalar>
ScaledInput scale_masked_input(const InputMatrixT<Scalar>& input, ScaledFactors factors,
                               const std::string& if_all_zero, const MaskOptions& options,
                               std::uint64_t seed, EntryMaskT<Scalar>& mask,
                               mpi::Communicator& comm);

/// What of scale_masked_input does not depend on the seed: the scale, and the missing entries.
struct PreparedInput {
  ScaledInput scaled;  ///< the statistics of the whole scaled block
  EntryList missing;   ///< this rank's rows
};

/// Collective: the first half of scale_masked_input.
template <class Scalar>
PreparedInput prepare_masked_input(const InputMatrixT<Scalar>& input, ScaledFactors factors,
                                   const std::string& if_all_zero, const MaskOptions& options,
                                   mpi::Communicator& comm);

/// Collective: the second half: the missing entries and the held-out set of `seed` taken out
/// into `mask`; the scale, with the statistics of the entries fitted. put_back_held_out undoes
/// what this took out of the block but the missing entries (which stay 0 for every seed).
template <class Scalar>
ScaledInput take_out_left_out_entries(const InputMatrixT<Scalar>& input,
                                      const PreparedInput& prepared, const MaskOptions& options,
                                      std::uint64_t seed, EntryMaskT<Scalar>& mask,
                                      mpi::Communicator& comm);

template <class Scalar>
void put_back_held_out(const InputMatrixT<Scalar>& input, const EntryMaskT<Scalar>& mask) {
  input.block->put_back_entries(mask.test_values);
}

}  // namespace dnmf::nmf
