#include "dnmf/io/matrix_checks.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include "dnmf/core/error.hpp"

namespace dnmf::io {
namespace {

/// Collective: InputError naming the first (global row, column) where `for_each` reports NaN/Inf
/// or a negative value. for_each(visit) calls visit(local row, column, value) for each entry in
/// row order and stops when visit returns false. Scalar is the type the values were read into.
template <class Scalar, class ForEach>
void check_entries(const ForEach& for_each, std::int64_t row_begin, std::int64_t cols,
                   const std::string& where, NanEntries nan, mpi::Communicator& comm) {
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  std::int64_t first_nonfinite = kNone;
  std::int64_t first_negative = kNone;
  for_each([&](Index i, Index j, double value) {
    const std::int64_t position = (row_begin + i) * cols + j;
    if (std::isnan(value) && nan == NanEntries::Missing) return true;
    if (!std::isfinite(value)) {
      first_nonfinite = position;
      return false;
    }
    if (value < 0 && first_negative == kNone) first_negative = position;
    return true;
  });
  first_nonfinite = comm.min(first_nonfinite);
  first_negative = comm.min(first_negative);
  const auto located = [&](std::int64_t position) {
    return " at row " + std::to_string(position / cols) + ", column " +
           std::to_string(position % cols) + " (counting from 0)";
  };
  if (first_nonfinite != kNone) {
    // HDF5 converts a stored value beyond float's range to Inf when it reads into float.
    std::string hint = std::is_same_v<Scalar, float>
                           ? " (read as float32 for --precision single: a value beyond 3.4e38 "
                             "becomes Inf there; --precision double reads it)"
                           : "";
    if (nan == NanEntries::RefusedUnlessAsked) hint += "; --missing nan takes NaN for missing";
    throw InputError(where + ": NaN or Inf" + located(first_nonfinite) + hint);
  }
  if (first_negative != kNone) {
    throw InputError(where + ": negative value" + located(first_negative) +
                     "; NMF needs a nonnegative matrix");
  }
}

}  // namespace

void require_2d_numeric(const DatasetInfo& info, const std::string& file) {
  const std::string at = where(file, info.path);
  if (info.shape.size() != 2) {
    throw InputError(at + ": expected a 2-D matrix, found " + std::to_string(info.shape.size()) +
                     "-D (" + shape_text(info.shape) + ")");
  }
  if (!info.numeric) throw InputError(at + ": element type " + info.type + " is not numeric");
  if (info.shape[0] == 0 || info.shape[1] == 0) {
    throw InputError(at + ": the matrix is empty (" + shape_text(info.shape) + ")");
  }
}

DatasetInfo require_matrix(const InputFile& file, const std::string& name, std::int64_t rows,
                           std::int64_t cols) {
  DatasetInfo info = file.dataset(name);  // not const: returned, moved
  require_2d_numeric(info, file.path());
  if (static_cast<std::int64_t>(info.shape[0]) != rows ||
      static_cast<std::int64_t>(info.shape[1]) != cols) {
    throw InputError(where(file.path(), info.path) + ": expected shape " + std::to_string(rows) +
                     "x" + std::to_string(cols) + ", found " + shape_text(info.shape));
  }
  return info;
}

template <class Scalar>
void check_nonnegative_finite(const RowMatrixT<Scalar>& values, std::int64_t row_begin,
                              const std::string& where, mpi::Communicator& comm, NanEntries nan) {
  const auto for_each = [&](const auto& visit) {
    for (Index i = 0; i < values.rows(); ++i)
      for (Index j = 0; j < values.cols(); ++j)
        if (!visit(i, j, values(i, j))) return;
  };
  check_entries<Scalar>(for_each, row_begin, values.cols(), where, nan, comm);
}

template <class Scalar>
void check_nonnegative_finite(const SparseRowMatrixT<Scalar>& values, std::int64_t row_begin,
                              const std::string& where, mpi::Communicator& comm, NanEntries nan) {
  const auto for_each = [&](const auto& visit) {
    for (Index i = 0; i < values.outerSize(); ++i)
      for (typename SparseRowMatrixT<Scalar>::InnerIterator it(values, i); it; ++it)
        if (!visit(i, it.col(), it.value())) return;
  };
  check_entries<Scalar>(for_each, row_begin, values.cols(), where, nan, comm);
}

#define DNMF_INSTANTIATE_MATRIX_CHECKS(Scalar)                                                  \
  template void check_nonnegative_finite<Scalar>(const RowMatrixT<Scalar>&, std::int64_t,       \
                                                 const std::string&, mpi::Communicator&,        \
                                                 NanEntries);                                   \
  template void check_nonnegative_finite<Scalar>(const SparseRowMatrixT<Scalar>&, std::int64_t, \
                                                 const std::string&, mpi::Communicator&,        \
                                                 NanEntries);
DNMF_INSTANTIATE_MATRIX_CHECKS(float)
DNMF_INSTANTIATE_MATRIX_CHECKS(double)
#undef DNMF_INSTANTIATE_MATRIX_CHECKS

}  // namespace dnmf::io
