#include "dnmf/io/matrix_rows.hpp"

#include <optional>
#include <utility>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/matrix_checks.hpp"
#include "dnmf/io/sparse_input.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/partition.hpp"

namespace dnmf::io {
namespace {

/// The sparse group or dense dataset to read when --dataset is not given.
std::string default_matrix(const InputFile& reader) {
  for (const char* conventional : {"/X", "/matrix"}) {  // AnnData, 10x Genomics
    if (find_sparse(reader, conventional)) return conventional;
  }
  const std::vector<SparseLayout> sparse = find_sparse_groups(reader);
  try {
    return reader.only_matrix().path;
  } catch (const InputError&) {
    if (sparse.size() == 1) return sparse.front().group;  // e.g. 10x's older /<genome> layout
    throw;
  }
}

/// What the file says about the matrix: its source (without this rank's rows) and how to read it.
struct Located {
  MatrixSource source;
  std::optional<SparseLayout> sparse;
  DatasetInfo dense;  ///< when not sparse
};

/// Not collective: InputError for a missing, empty or non-numeric matrix.
Located locate(const InputFile& reader, const std::string& dataset) {
  Located located;
  MatrixSource& source = located.source;
  source.file = reader.path();
  source.dataset =
      dataset.empty() ? default_matrix(reader) : (dataset[0] == '/' ? dataset : "/" + dataset);
  located.sparse = find_sparse(reader, source.dataset);
  if (located.sparse) {
    source.kind = located.sparse->format;
    source.rows = located.sparse->rows;
    source.cols = located.sparse->cols;
    if (source.rows == 0 || source.cols == 0) {
      throw InputError(where(source.file, source.dataset) + ": the matrix is empty (" +
                       std::to_string(source.rows) + "x" + std::to_string(source.cols) + ")");
    }
  } else {
    located.dense = reader.dataset(source.dataset);
    require_2d_numeric(located.dense, source.file);
    source.kind = "dense " + located.dense.type;
    source.rows = static_cast<std::int64_t>(located.dense.shape[0]);
    source.cols = static_cast<std::int64_t>(located.dense.shape[1]);
  }
  return located;
}

/// Not collective: rows [row_begin, row_begin + row_count) of a dense dataset, or of its
/// transpose (its columns, transposed in memory).
template <class Scalar>
RowMatrixT<Scalar> read_dense_rows(const InputFile& reader, const DatasetInfo& info, bool transpose,
                                   std::int64_t row_begin, std::int64_t row_count) {
  if (!transpose) return reader.read_rows<Scalar>(info, row_begin, row_count);
  const RowMatrixT<Scalar> columns = reader.read_columns<Scalar>(info, row_begin, row_count);
  RowMatrixT<Scalar> rows;
  allocate_for(
      where(reader.path(), info.path),
      {static_cast<std::uint64_t>(columns.cols()), static_cast<std::uint64_t>(columns.rows())},
      sizeof(Scalar), [&] { rows = columns.transpose(); });
  return rows;
}

}  // namespace

template <class Scalar>
MatrixRowsT<Scalar> read_matrix_rows(const std::string& file, const std::string& dataset,
                                     bool transpose, mpi::Communicator& comm, NanEntries nan) {
  const InputFile reader(file, comm);
  Located located = mpi::agreed(comm, [&] { return locate(reader, dataset); });
  MatrixRowsT<Scalar> matrix;
  static_cast<MatrixSource&>(matrix) = std::move(located.source);
  matrix.transposed = transpose;
  if (transpose) std::swap(matrix.rows, matrix.cols);
  const mpi::BlockPartition rows(matrix.rows, comm.size());
  matrix.row_begin = rows.begin(comm.rank());
  matrix.row_count = rows.size(comm.rank());
  const std::string at = where(file, matrix.dataset);
  // The check communicates (the first bad entry over all ranks): it runs only once every
  // rank's read has succeeded.
  const auto read_and_check = [&](auto read) {
    auto values = mpi::agreed(comm, read);
    mpi::agree(comm, [&] { check_nonnegative_finite(values, matrix.row_begin, at, comm, nan); });
    matrix.values = std::move(values);
  };
  if (located.sparse) {
    read_and_check([&] {
      return read_sparse_rows<Scalar>(reader, *located.sparse, transpose, matrix.row_begin,
                                      matrix.row_count);
    });
  } else {
    read_and_check([&] {
      return read_dense_rows<Scalar>(reader, located.dense, transpose, matrix.row_begin,
                                     matrix.row_count);
    });
  }
  return matrix;
}

template MatrixRowsT<float> read_matrix_rows<float>(const std::string&, const std::string&, bool,
                                                    mpi::Communicator&, NanEntries);
template MatrixRowsT<double> read_matrix_rows<double>(const std::string&, const std::string&, bool,
                                                      mpi::Communicator&, NanEntries);

}  // namespace dnmf::io
