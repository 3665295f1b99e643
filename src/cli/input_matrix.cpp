#include "cli/input_matrix.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include "dnmf/core/error.hpp"
#include "dnmf/io/sparse_input.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/partition.hpp"

namespace dnmf::cli {
namespace {

/// Collective: InputError naming the first (global row, column) where `for_each` reports NaN/Inf
/// or a negative value. for_each(visit) calls visit(local row, column, value) for each entry in
/// row order and stops when visit returns false. Scalar is the type the values were read into.
template <class Scalar, class ForEach>
void check_entries(const ForEach& for_each, std::int64_t row_begin, std::int64_t cols,
                   const std::string& where, mpi::Communicator& comm) {
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  std::int64_t first_nonfinite = kNone;
  std::int64_t first_negative = kNone;
  for_each([&](Index i, Index j, double value) {
    const std::int64_t position = (row_begin + i) * cols + j;
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
    const char* hint = std::is_same_v<Scalar, float>
                           ? " (read as float32 for --precision single: a value beyond 3.4e38 "
                             "becomes Inf there; --precision double reads it)"
                           : "";
    throw InputError(where + ": NaN or Inf" + located(first_nonfinite) + hint);
  }
  if (first_negative != kNone) {
    throw InputError(where + ": negative value" + located(first_negative) +
                     "; NMF needs a nonnegative matrix");
  }
}

/// The sparse group or dense dataset to read when --dataset is not given.
std::string default_matrix(const io::InputFile& reader) {
  for (const char* conventional : {"/X", "/matrix"}) {  // AnnData, 10x Genomics
    if (io::find_sparse(reader, conventional)) return conventional;
  }
  const std::vector<io::SparseLayout> sparse = io::find_sparse_groups(reader);
  try {
    return reader.only_matrix().path;
  } catch (const InputError&) {
    if (sparse.size() == 1) return sparse.front().group;  // e.g. 10x's older /<genome> layout
    throw;
  }
}

}  // namespace

void require_2d_numeric(const io::DatasetInfo& info, const std::string& file) {
  const std::string where = io::where(file, info.path);
  if (info.shape.size() != 2) {
    throw InputError(where + ": expected a 2-D matrix, found " + std::to_string(info.shape.size()) +
                     "-D (" + io::shape_text(info.shape) + ")");
  }
  if (!info.numeric) throw InputError(where + ": element type " + info.type + " is not numeric");
  if (info.shape[0] == 0 || info.shape[1] == 0) {
    throw InputError(where + ": the matrix is empty (" + io::shape_text(info.shape) + ")");
  }
}

io::DatasetInfo require_matrix(const io::InputFile& file, const std::string& name,
                               std::int64_t rows, std::int64_t cols) {
  const io::DatasetInfo info = file.dataset(name);
  require_2d_numeric(info, file.path());
  if (static_cast<std::int64_t>(info.shape[0]) != rows ||
      static_cast<std::int64_t>(info.shape[1]) != cols) {
    throw InputError(io::where(file.path(), info.path) + ": expected shape " +
                     std::to_string(rows) + "x" + std::to_string(cols) + ", found " +
                     io::shape_text(info.shape));
  }
  return info;
}

template <class Scalar>
void check_nonnegative_finite(const RowMatrixT<Scalar>& values, std::int64_t row_begin,
                              const std::string& where, mpi::Communicator& comm) {
  const auto for_each = [&](const auto& visit) {
    for (Index i = 0; i < values.rows(); ++i)
      for (Index j = 0; j < values.cols(); ++j)
        if (!visit(i, j, values(i, j))) return;
  };
  check_entries<Scalar>(for_each, row_begin, values.cols(), where, comm);
}

template <class Scalar>
InputMatrixT<Scalar> load_input_matrix(const std::string& file, const std::string& dataset,
                                       bool transpose, mpi::Communicator& comm) {
  InputMatrixT<Scalar> input;
  input.file = file;
  input.transposed = transpose;
  const io::InputFile reader(file, comm);
  std::optional<io::SparseLayout> sparse;
  io::DatasetInfo info;
  mpi::agree(comm, [&] {
    input.dataset =
        dataset.empty() ? default_matrix(reader) : (dataset[0] == '/' ? dataset : "/" + dataset);
    sparse = io::find_sparse(reader, input.dataset);
    if (sparse) {
      input.kind = sparse->format;
      input.rows = sparse->rows;
      input.cols = sparse->cols;
      if (input.rows == 0 || input.cols == 0) {
        throw InputError(io::where(file, input.dataset) + ": the matrix is empty (" +
                         std::to_string(input.rows) + "x" + std::to_string(input.cols) + ")");
      }
    } else {
      info = reader.dataset(input.dataset);
      require_2d_numeric(info, file);
      input.kind = "dense " + info.type;
      input.rows = static_cast<std::int64_t>(info.shape[0]);
      input.cols = static_cast<std::int64_t>(info.shape[1]);
    }
  });
  if (transpose) std::swap(input.rows, input.cols);
  const mpi::BlockPartition rows(input.rows, comm.size());
  input.row_begin = rows.begin(comm.rank());
  const std::int64_t row_count = rows.size(comm.rank());
  const std::string where = io::where(file, input.dataset);
  if (sparse) {
    SparseRowMatrixT<Scalar> values;
    mpi::agree(comm, [&] {
      values = io::read_sparse_rows<Scalar>(reader, *sparse, transpose, input.row_begin, row_count);
    });
    const auto for_each = [&](const auto& visit) {
      for (Index i = 0; i < values.outerSize(); ++i)
        for (typename SparseRowMatrixT<Scalar>::InnerIterator it(values, i); it; ++it)
          if (!visit(i, it.col(), it.value())) return;
    };
    mpi::agree(comm,
               [&] { check_entries<Scalar>(for_each, input.row_begin, input.cols, where, comm); });
    input.block = std::make_unique<nmf::SparseBlockT<Scalar>>(std::move(values));
    return input;
  }
  RowMatrixT<Scalar> values;
  mpi::agree(comm, [&] {
    if (!transpose) {
      values = reader.read_rows<Scalar>(info, input.row_begin, row_count);
      return;
    }
    const RowMatrixT<Scalar> columns =
        reader.read_columns<Scalar>(info, input.row_begin, row_count);
    io::allocate_for(
        where,
        {static_cast<std::uint64_t>(columns.cols()), static_cast<std::uint64_t>(columns.rows())},
        sizeof(Scalar), [&] { values = columns.transpose(); });
  });
  mpi::agree(comm, [&] { check_nonnegative_finite(values, input.row_begin, where, comm); });
  input.block = std::make_unique<nmf::DenseBlockT<Scalar>>(std::move(values));
  return input;
}

#define DNMF_INSTANTIATE_INPUT_MATRIX(Scalar)                                                     \
  template InputMatrixT<Scalar> load_input_matrix<Scalar>(const std::string&, const std::string&, \
                                                          bool, mpi::Communicator&);              \
  template void check_nonnegative_finite<Scalar>(const RowMatrixT<Scalar>&, std::int64_t,         \
                                                 const std::string&, mpi::Communicator&);
DNMF_INSTANTIATE_INPUT_MATRIX(float)
DNMF_INSTANTIATE_INPUT_MATRIX(double)
#undef DNMF_INSTANTIATE_INPUT_MATRIX

}  // namespace dnmf::cli
