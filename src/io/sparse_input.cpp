#include "dnmf/io/sparse_input.hpp"

#include <algorithm>
#include <climits>
#include <vector>

#include "dnmf/core/error.hpp"

namespace dnmf::io {
namespace {

// Stored values streamed per read when the wanted rows are not the compressed dimension.
constexpr std::int64_t kChunk = std::int64_t{1} << 20;

std::optional<DatasetInfo> child_dataset(const InputFile& file, const std::string& group,
                                         const std::string& name) {
  const std::string path = group + "/" + name;
  if (file.is_group(path)) return std::nullopt;
  try {
    return file.dataset(path);
  } catch (const InputError&) {
    return std::nullopt;
  }
}

std::vector<std::int64_t> shape_from(const InputFile& file, const std::string& group,
                                     const char* attribute) {
  std::vector<std::int64_t> shape;
  if (const auto values = file.object_number_attribute(group, attribute)) {
    for (const double v : *values) shape.push_back(static_cast<std::int64_t>(v));
  } else if (const auto dataset = child_dataset(file, group, "shape")) {
    shape = file.read_array<std::int64_t>(*dataset);
  }
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) {
    throw InputError(where(file.path(), group) + ": sparse matrix group without a 2-entry shape (" +
                     std::string(attribute) + " attribute or shape dataset)");
  }
  return shape;
}

[[noreturn]] void fail(const InputFile& file, const DatasetInfo& info, const std::string& problem) {
  throw InputError(where(file.path(), info.path) + ": " + problem);
}

void check_indptr(const InputFile& file, const SparseLayout& layout,
                  const std::vector<std::int64_t>& indptr, std::int64_t first_index,
                  std::int64_t stored) {
  const std::int64_t last_index = static_cast<std::int64_t>(layout.indptr.shape[0]) - 1;
  if (first_index == 0 && indptr.front() != 0) {
    fail(file, layout.indptr, "indptr must start at 0, found " + std::to_string(indptr.front()));
  }
  for (std::size_t i = 1; i < indptr.size(); ++i) {
    if (indptr[i] < indptr[i - 1]) {
      fail(file, layout.indptr,
           "indptr is not monotone at position " +
               std::to_string(first_index + static_cast<std::int64_t>(i)));
    }
  }
  const bool holds_end = first_index + static_cast<std::int64_t>(indptr.size()) - 1 == last_index;
  if ((holds_end && indptr.back() != stored) || indptr.back() > stored || indptr.front() < 0) {
    fail(file, layout.indptr,
         "indptr does not match the " + std::to_string(stored) + " stored values (it reaches " +
             std::to_string(indptr.back()) + ")");
  }
}

[[noreturn]] void index_out_of_range(const InputFile& file, const SparseLayout& layout,
                                     std::int64_t position, std::int64_t index,
                                     std::int64_t limit) {
  fail(file, layout.indices,
       "index " + std::to_string(index) + " at position " + std::to_string(position) +
           " is out of range [0, " + std::to_string(limit) + ")");
}

/// Eigen's sparse blocks index columns and nonzeros with int: more of either is one error each.
void require_int_indexable(const InputFile& file, const SparseLayout& layout, std::int64_t columns,
                           std::int64_t nonzeros) {
  if (columns > INT_MAX) {
    fail(file, layout.indices,
         "the matrix factorized has " + std::to_string(columns) + " columns (from the shape " +
             std::to_string(layout.rows) + "x" + std::to_string(layout.cols) +
             "), more than the 2^31 - 1 a sparse block can index");
  }
  if (nonzeros > INT_MAX) {
    fail(file, layout.data, "a rank's block holds more than 2^31 - 1 nonzeros; use more ranks");
  }
}

template <class Scalar>
SparseRowMatrixT<Scalar> csr_from_slice(const InputFile& file, const SparseLayout& layout,
                                        std::int64_t row_begin, std::int64_t row_count,
                                        std::int64_t minor, std::int64_t stored) {
  std::vector<std::int64_t> indptr;
  allocate_for(where(file.path(), layout.indptr.path), {static_cast<std::uint64_t>(row_count + 1)},
               sizeof(std::int64_t),
               [&] { indptr.resize(static_cast<std::size_t>(row_count + 1)); });
  file.read_range(layout.indptr, row_begin, row_count + 1, indptr.data());
  check_indptr(file, layout, indptr, row_begin, stored);
  const std::int64_t first = indptr.front();
  const std::int64_t count = indptr.back() - first;
  require_int_indexable(file, layout, minor, count);
  SparseRowMatrixT<Scalar> block(static_cast<Index>(row_count), static_cast<Index>(minor));
  std::vector<std::int64_t> indices;
  allocate_for(where(file.path(), layout.group), {static_cast<std::uint64_t>(count)},
               sizeof(Scalar) + sizeof(int) + sizeof(std::int64_t), [&] {
                 block.resizeNonZeros(static_cast<Index>(count));
                 indices.resize(static_cast<std::size_t>(count));
               });
  file.read_range(layout.indices, first, count, indices.data());
  file.read_range(layout.data, first, count, block.valuePtr());
  for (std::int64_t p = 0; p < count; ++p) {
    const std::int64_t index = indices[static_cast<std::size_t>(p)];
    if (index < 0 || index >= minor) index_out_of_range(file, layout, first + p, index, minor);
    block.innerIndexPtr()[p] = static_cast<int>(index);
  }
  for (std::int64_t i = 0; i <= row_count; ++i) {
    block.outerIndexPtr()[i] = static_cast<int>(indptr[static_cast<std::size_t>(i)] - first);
  }
  return block;
}

template <class Scalar>
SparseRowMatrixT<Scalar> csr_by_filtering(const InputFile& file, const SparseLayout& layout,
                                          std::int64_t row_begin, std::int64_t row_count,
                                          std::int64_t major, std::int64_t minor,
                                          std::int64_t stored) {
  std::vector<std::int64_t> indptr;
  allocate_for(where(file.path(), layout.indptr.path), {static_cast<std::uint64_t>(major + 1)},
               sizeof(std::int64_t), [&] { indptr.resize(static_cast<std::size_t>(major + 1)); });
  file.read_range(layout.indptr, 0, major + 1, indptr.data());
  check_indptr(file, layout, indptr, 0, stored);
  struct Entry {
    int row;
    int col;
    Scalar value;
  };
  std::vector<Entry> kept;
  std::vector<std::int64_t> indices;
  std::vector<Scalar> values;
  std::int64_t column = 0;
  for (std::int64_t first = 0; first < stored; first += kChunk) {
    const std::int64_t count = std::min(kChunk, stored - first);
    indices.resize(static_cast<std::size_t>(count));
    values.resize(static_cast<std::size_t>(count));
    file.read_range(layout.indices, first, count, indices.data());
    file.read_range(layout.data, first, count, values.data());
    for (std::int64_t p = 0; p < count; ++p) {
      while (indptr[static_cast<std::size_t>(column + 1)] <= first + p) ++column;
      const std::int64_t row = indices[static_cast<std::size_t>(p)];
      if (row < 0 || row >= minor) index_out_of_range(file, layout, first + p, row, minor);
      if (row >= row_begin && row < row_begin + row_count) {
        kept.push_back({static_cast<int>(row - row_begin), static_cast<int>(column),
                        values[static_cast<std::size_t>(p)]});
      }
    }
  }
  require_int_indexable(file, layout, major, static_cast<std::int64_t>(kept.size()));
  // Counting sort by row; entries of a row stay in column order (columns were visited in order).
  // The row count comes from the shape alone (nothing read was sized by it): allocated through
  // allocate_for, so that a shape too large for memory is one error naming the group.
  SparseRowMatrixT<Scalar> block;
  std::vector<int> next;
  allocate_for(where(file.path(), layout.group), {static_cast<std::uint64_t>(row_count + 1)},
               2 * sizeof(int), [&] {
                 block.resize(static_cast<Index>(row_count), static_cast<Index>(major));
                 next.resize(static_cast<std::size_t>(row_count));
               });
  allocate_for(where(file.path(), layout.group), {kept.size()}, sizeof(Scalar) + sizeof(int),
               [&] { block.resizeNonZeros(static_cast<Index>(kept.size())); });
  int* starts = block.outerIndexPtr();
  std::fill(starts, starts + row_count + 1, 0);
  for (const Entry& e : kept) ++starts[e.row + 1];
  for (std::int64_t i = 0; i < row_count; ++i) starts[i + 1] += starts[i];
  std::copy(starts, starts + row_count, next.begin());
  for (const Entry& e : kept) {
    const int position = next[static_cast<std::size_t>(e.row)]++;
    block.innerIndexPtr()[position] = e.col;
    block.valuePtr()[position] = e.value;
  }
  return block;
}

}  // namespace

std::optional<SparseLayout> find_sparse(const InputFile& file, const std::string& path) {
  const std::string group = path.empty() || path[0] != '/' ? "/" + path : path;
  if (!file.is_group(group)) return std::nullopt;
  const auto data = child_dataset(file, group, "data");
  const auto indices = child_dataset(file, group, "indices");
  const auto indptr = child_dataset(file, group, "indptr");
  if (!data || !indices || !indptr) return std::nullopt;
  SparseLayout layout;
  layout.group = group;
  layout.data = *data;
  layout.indices = *indices;
  layout.indptr = *indptr;
  std::vector<std::int64_t> shape;
  const auto encoding = file.object_string_attribute(group, "encoding-type");
  const auto legacy = file.object_string_attribute(group, "h5sparse_format");
  if (encoding && (*encoding == "csr_matrix" || *encoding == "csc_matrix")) {
    layout.format = "AnnData " + *encoding;
    layout.compressed_rows = *encoding == "csr_matrix";
    shape = shape_from(file, group, "shape");
  } else if (legacy && (*legacy == "csr" || *legacy == "csc")) {
    layout.format = "AnnData (legacy h5sparse) " + *legacy;
    layout.compressed_rows = *legacy == "csr";
    shape = shape_from(file, group, "h5sparse_shape");
  } else if (child_dataset(file, group, "barcodes")) {
    // Cell Ranger: CSC of features x barcodes, i.e. CSR of barcodes x features.
    layout.format = "10x Genomics (barcodes x features)";
    shape = shape_from(file, group, "shape");
    std::swap(shape[0], shape[1]);
  } else {
    layout.format = "generic CSR group";
    shape = shape_from(file, group, "shape");
  }
  layout.rows = shape[0];
  layout.cols = shape[1];
  return layout;
}

std::vector<SparseLayout> find_sparse_groups(const InputFile& file) {
  std::vector<SparseLayout> groups;
  const std::string suffix = "/indptr";
  for (const DatasetInfo& info : file.datasets()) {
    if (info.path.size() <= suffix.size() ||
        info.path.compare(info.path.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string group = info.path.substr(0, info.path.size() - suffix.size());
    if (auto layout = find_sparse(file, group.empty() ? "/" : group)) groups.push_back(*layout);
  }
  return groups;
}

template <class Scalar>
SparseRowMatrixT<Scalar> read_sparse_rows(const InputFile& file, const SparseLayout& layout,
                                          bool transpose, std::int64_t row_begin,
                                          std::int64_t row_count) {
  const std::int64_t major = layout.compressed_rows ? layout.rows : layout.cols;
  const std::int64_t minor = layout.compressed_rows ? layout.cols : layout.rows;
  for (const DatasetInfo* info : {&layout.data, &layout.indices, &layout.indptr}) {
    if (info->shape.size() != 1 || !info->numeric) {
      fail(file, *info,
           "expected a 1-D numeric dataset, found " + shape_text(info->shape) + " " + info->type);
    }
  }
  // Positions must be integers: HDF5 would convert 2.7 to 2 without a word.
  for (const DatasetInfo* info : {&layout.indices, &layout.indptr}) {
    if (info->type.rfind("float", 0) == 0) {
      fail(file, *info, "expected integer positions, found " + info->type);
    }
  }
  const std::int64_t stored = static_cast<std::int64_t>(layout.data.shape[0]);
  if (static_cast<std::int64_t>(layout.indices.shape[0]) != stored) {
    fail(file, layout.indices,
         "holds " + std::to_string(layout.indices.shape[0]) + " indices for " +
             std::to_string(stored) + " values");
  }
  if (static_cast<std::int64_t>(layout.indptr.shape[0]) != major + 1) {
    fail(file, layout.indptr,
         "has " + std::to_string(layout.indptr.shape[0]) + " entries, but the shape " +
             std::to_string(layout.rows) + "x" + std::to_string(layout.cols) + " needs " +
             std::to_string(major + 1));
  }
  if (layout.compressed_rows != transpose) {
    return csr_from_slice<Scalar>(file, layout, row_begin, row_count, minor, stored);
  }
  return csr_by_filtering<Scalar>(file, layout, row_begin, row_count, major, minor, stored);
}

template SparseRowMatrixT<float> read_sparse_rows<float>(const InputFile&, const SparseLayout&,
                                                         bool, std::int64_t, std::int64_t);
template SparseRowMatrixT<double> read_sparse_rows<double>(const InputFile&, const SparseLayout&,
                                                           bool, std::int64_t, std::int64_t);

}  // namespace dnmf::io
