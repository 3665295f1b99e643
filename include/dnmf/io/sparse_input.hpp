#pragma once
// Sparse matrices stored in HDF5 as three 1-D datasets, data, indices and indptr (compressed
// rows or columns, any integer or float width), read a block of rows per rank:
//   - AnnData .h5ad: a group with attribute encoding-type = csr_matrix | csc_matrix and a shape
//     attribute (X, layers/<name>, raw/X); legacy files: h5sparse_format = csr | csc and
//     h5sparse_shape.
//   - 10x Genomics feature-barcode matrix: group /matrix (or /<genome> in the older layout) with
//     a shape dataset [features, barcodes], compressed over barcodes: CSC of features x barcodes,
//     that is CSR of A = barcodes x features.
//   - any other group with data, indices, indptr and a shape attribute or dataset: CSR.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dnmf/core/sparse_matrix.hpp"
#include "dnmf/io/input_file.hpp"

namespace dnmf::io {

struct SparseLayout {
  std::string group;            ///< absolute path of the group
  std::string format;           ///< e.g. "AnnData csr_matrix", for messages and `dnmf info`
  bool compressed_rows = true;  ///< indptr runs over the rows of A (CSR) or its columns (CSC)
  std::int64_t rows = 0;        ///< of A, oriented as the format defines it
  std::int64_t cols = 0;
  DatasetInfo data;
  DatasetInfo indices;
  DatasetInfo indptr;
};

/// The sparse matrix held by the group at `path`, or nullopt if `path` is not a group holding
/// data, indices and indptr. InputError naming file and group if such a group has no usable
/// shape. Not collective.
std::optional<SparseLayout> find_sparse(const InputFile& file, const std::string& path);

/// Every sparse matrix group of the file, in name order. Not collective.
std::vector<SparseLayout> find_sparse_groups(const InputFile& file);

/// Rows [row_begin, row_begin + row_count) of A, or of Aᵀ when `transpose`, as CSR with values
/// converted by HDF5 to Scalar (float or double) as they are read. When the
/// wanted rows are the compressed dimension, only their slice of indptr, indices and data is
/// read (O(nnz/p) per rank); otherwise indptr is read whole and indices/data are streamed in
/// chunks, keeping the entries of these rows (I/O O(nnz) per rank, memory O(nnz/p + chunk)).
/// InputError naming the dataset for a malformed structure: indptr not starting at 0, not
/// monotone, or not ending at the number of stored values; indptr's length disagreeing with
/// the shape; an index out of range. Not collective.
template <class Scalar = double>
SparseRowMatrixT<Scalar> read_sparse_rows(const InputFile& file, const SparseLayout& layout,
                                          bool transpose, std::int64_t row_begin,
                                          std::int64_t row_count);

}  // namespace dnmf::io
