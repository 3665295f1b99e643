#pragma once
// The checks of a matrix read from a file, each an InputError naming the file and dataset: its
// shape and element type, and that every entry is finite and nonnegative (what NMF and the
// layers fed by it need).

#include <cstdint>
#include <string>

#include "dnmf/core/matrix.hpp"
#include "dnmf/core/sparse_matrix.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/communicator.hpp"

namespace dnmf::io {

/// InputError naming `file` and the dataset unless it is a nonempty 2-D numeric dataset.
void require_2d_numeric(const DatasetInfo& info, const std::string& file);

/// The 2-D numeric dataset `name` of `file`, with the given shape (an InputError naming the
/// expected and the found shape otherwise). Not collective.
DatasetInfo require_matrix(const InputFile& file, const std::string& name, std::int64_t rows,
                           std::int64_t cols);

/// What a NaN entry is: an error; an error whose message says that `--missing nan` takes NaN
/// for a missing value (the matrix to factorize); or a missing value, passed over.
enum class NanEntries { Refused, RefusedUnlessAsked, Missing };

/// Collective: InputError naming the first (global row, column) holding NaN/Inf or a negative
/// value. `row_begin` is the global index of values' first row; `where` is "file:/dataset".
template <class Scalar>
void check_nonnegative_finite(const RowMatrixT<Scalar>& values, std::int64_t row_begin,
                              const std::string& where, mpi::Communicator& comm,
                              NanEntries nan = NanEntries::Refused);
/// The same for the stored entries of a sparse block of rows.
template <class Scalar>
void check_nonnegative_finite(const SparseRowMatrixT<Scalar>& values, std::int64_t row_begin,
                              const std::string& where, mpi::Communicator& comm,
                              NanEntries nan = NanEntries::Refused);

}  // namespace dnmf::io
