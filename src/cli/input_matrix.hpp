#pragma once
// Reading the matrix to factorize: each rank's row block of a 2-D numeric HDF5 dataset or of a
// sparse matrix group (AnnData, 10x Genomics, generic CSR; see io/sparse_input.hpp), checked
// collectively (shape, type, structure, finiteness, sign) so bad input stops every rank with
// one message.

#include <cstdint>
#include <memory>
#include <string>

#include "dnmf/core/matrix.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/local_block.hpp"

namespace dnmf::cli {

/// The matrix as `Scalar` (float or double): HDF5 converts the stored values as they are read.
template <class Scalar>
struct InputMatrixT {
  std::string file;
  std::string dataset;      ///< the dataset or sparse group
  std::string kind;         ///< "dense float32", "AnnData csr_matrix", ...
  bool transposed = false;  ///< the block holds rows of Aᵀ
  std::int64_t rows = 0;    ///< of the matrix factorized (Aᵀ when transposed)
  std::int64_t cols = 0;
  std::int64_t row_begin = 0;  ///< this rank's first global row
  std::unique_ptr<nmf::LocalBlockT<Scalar>> block;
};
using InputMatrix = InputMatrixT<double>;

/// Collective. `dataset` empty means: /X (AnnData), /matrix (10x), the only 2-D numeric
/// dataset, or the only sparse matrix group. `transpose` factorizes Aᵀ instead of A.
template <class Scalar = double>
InputMatrixT<Scalar> load_input_matrix(const std::string& file, const std::string& dataset,
                                       bool transpose, mpi::Communicator& comm);

/// InputError naming `file` and the dataset unless it is a nonempty 2-D numeric dataset.
void require_2d_numeric(const io::DatasetInfo& info, const std::string& file);

/// Collective: the 2-D numeric dataset `name` of `file`, with the given shape (an InputError
/// naming the expected and the found shape otherwise).
io::DatasetInfo require_matrix(const io::InputFile& file, const std::string& name,
                               std::int64_t rows, std::int64_t cols);

/// Collective: InputError naming the first (global row, column) holding NaN/Inf or a negative
/// value. `row_begin` is the global index of values' first row.
template <class Scalar>
void check_nonnegative_finite(const RowMatrixT<Scalar>& values, std::int64_t row_begin,
                              const std::string& where, mpi::Communicator& comm);

}  // namespace dnmf::cli
