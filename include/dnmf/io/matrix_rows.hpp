#pragma once
// Reading the matrix to factorize: each rank's block of rows of a 2-D numeric HDF5 dataset or
// of a sparse matrix group (AnnData, 10x Genomics, generic CSR; see io/sparse_input.hpp),
// checked collectively (shape, type, structure, finiteness, sign) so that bad input stops every
// rank with one message.

#include <cstdint>
#include <string>
#include <variant>

#include "dnmf/core/matrix.hpp"
#include "dnmf/core/sparse_matrix.hpp"
#include "dnmf/io/matrix_checks.hpp"
#include "dnmf/mpi/communicator.hpp"

namespace dnmf::io {

/// Where a matrix was read from, and the part of it this rank holds.
struct MatrixSource {
  std::string file;
  std::string dataset;      ///< the dataset or sparse group
  std::string kind;         ///< "dense float32", "AnnData csr_matrix", ...
  bool transposed = false;  ///< the rows are rows of Aᵀ
  std::int64_t rows = 0;    ///< of the matrix read (Aᵀ when transposed)
  std::int64_t cols = 0;
  std::int64_t row_begin = 0;  ///< this rank's first global row
  std::int64_t row_count = 0;  ///< and its number of rows
};

/// This rank's rows (mpi::BlockPartition of `rows`) as `Scalar` (float or double: HDF5 converts
/// the stored values as they are read), dense or CSR as the file stores them.
template <class Scalar>
struct MatrixRowsT : MatrixSource {
  std::variant<RowMatrixT<Scalar>, SparseRowMatrixT<Scalar>> values;
};

/// Collective. `dataset` empty means: /X (AnnData), /matrix (10x), the only 2-D numeric
/// dataset, or the only sparse matrix group. `transpose` reads the rows of Aᵀ instead of A.
/// `nan` says whether a NaN entry is refused or kept as a missing value.
template <class Scalar = double>
MatrixRowsT<Scalar> read_matrix_rows(const std::string& file, const std::string& dataset,
                                     bool transpose, mpi::Communicator& comm,
                                     NanEntries nan = NanEntries::RefusedUnlessAsked);

}  // namespace dnmf::io
