#include "cli/input_matrix.hpp"

#include <cmath>
#include <limits>

#include "dnmf/core/error.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/partition.hpp"

namespace dnmf::cli {
namespace {

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

}  // namespace

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

void check_nonnegative_finite(const RowMatrix& values, std::int64_t row_begin,
                              const std::string& where, mpi::Communicator& comm) {
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  std::int64_t first_nonfinite = kNone;
  std::int64_t first_negative = kNone;
  const std::int64_t cols = values.cols();
  for (Index i = 0; i < values.rows() && first_nonfinite == kNone; ++i) {
    for (Index j = 0; j < cols; ++j) {
      const double value = values(i, j);
      const std::int64_t position = (row_begin + i) * cols + j;
      if (!std::isfinite(value)) {
        first_nonfinite = position;
        break;
      }
      if (value < 0 && first_negative == kNone) first_negative = position;
    }
  }
  first_nonfinite = comm.min(first_nonfinite);
  first_negative = comm.min(first_negative);
  const auto located = [&](std::int64_t position) {
    return " at row " + std::to_string(position / cols) + ", column " +
           std::to_string(position % cols) + " (counting from 0)";
  };
  if (first_nonfinite != kNone) throw InputError(where + ": NaN or Inf" + located(first_nonfinite));
  if (first_negative != kNone) {
    throw InputError(where + ": negative value" + located(first_negative) +
                     "; NMF needs a nonnegative matrix");
  }
}

InputMatrix load_input_matrix(const std::string& file, const std::string& dataset,
                              mpi::Communicator& comm) {
  InputMatrix input;
  input.file = file;
  const io::InputFile reader(file, comm);
  io::DatasetInfo info;
  mpi::agree(comm, [&] {
    info = dataset.empty() ? reader.only_matrix() : reader.dataset(dataset);
    require_2d_numeric(info, file);
  });
  input.dataset = info.path;
  input.rows = static_cast<std::int64_t>(info.shape[0]);
  input.cols = static_cast<std::int64_t>(info.shape[1]);
  const mpi::BlockPartition rows(input.rows, comm.size());
  input.row_begin = rows.begin(comm.rank());
  RowMatrix values;
  mpi::agree(comm, [&] { values = reader.read_rows(info, input.row_begin, rows.size(comm.rank())); });
  mpi::agree(comm, [&] {
    check_nonnegative_finite(values, input.row_begin, io::where(file, info.path), comm);
  });
  input.block = std::make_unique<nmf::DenseBlock>(std::move(values));
  return input;
}

}  // namespace dnmf::cli
