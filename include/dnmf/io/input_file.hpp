#pragma once
// Reading HDF5 files in parallel: listing datasets, and reading each rank's block of rows of a
// 2-D numeric dataset of any integer or float type (converted by HDF5 to double, or to float when
// asked: a float matrix is read straight into float, never through a double copy). Every read
// is collective: all ranks of the communicator call it, a rank with no rows included.

#include <cstdint>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/core/matrix.hpp"
#include "dnmf/io/hdf5_handle.hpp"
#include "dnmf/mpi/communicator.hpp"

namespace dnmf::io {

struct DatasetInfo {
  std::string path;                  ///< absolute, e.g. "/train/images"
  std::vector<std::uint64_t> shape;  ///< HDF5 (row-major) dimensions
  std::string type;                  ///< "uint8", "float64", ... or a description of a non-number
  bool numeric = false;              ///< an integer or floating-point element type
};

/// One attribute rendered as text, for `dnmf info`.
struct AttributeText {
  std::string name;
  std::string value;
};

class InputFile {
 public:
  /// Collective. Throws IoError naming the file if it is missing, unreadable or not HDF5.
  InputFile(const std::string& path, mpi::Communicator& comm);

  const std::string& path() const { return path_; }
  std::vector<DatasetInfo> datasets() const;
  /// Throws InputError naming the file and dataset if it does not exist or is not a dataset.
  DatasetInfo dataset(const std::string& name) const;
  /// The only 2-D numeric dataset, else an InputError listing the candidates.
  DatasetInfo only_matrix() const;
  /// Rows [row_begin, row_begin + row_count) of a 2-D numeric dataset as Scalar (float or
  /// double); collective.
  template <class Scalar = double>
  RowMatrixT<Scalar> read_rows(const DatasetInfo& info, std::int64_t row_begin,
                               std::int64_t row_count) const;
  /// Columns [col_begin, col_begin + col_count) of a 2-D numeric dataset, all rows; collective.
  template <class Scalar = double>
  RowMatrixT<Scalar> read_columns(const DatasetInfo& info, std::int64_t col_begin,
                                  std::int64_t col_count) const;
  /// The whole 2-D dataset on every rank; collective.
  template <class Scalar = double>
  RowMatrixT<Scalar> read_all(const DatasetInfo& info) const;
  /// Root group attributes as text.
  std::vector<AttributeText> attributes() const;

  /// The rows `rows` (ascending, no repeats) of a numeric dataset of any rank >= 1, converted by
  /// HDF5 to T (float, double, std::int64_t or std::uint8_t) and stored one after another in
  /// `out` (rows.size() times the product of the other dimensions). Not collective: each rank
  /// reads its own rows independently. Nearby rows are read as one block of consecutive rows
  /// (at most 8 MB, at least a quarter of its rows wanted) and the wanted ones copied out:
  /// HDF5 1.10 reads one block fast, but maps a union of scattered rows to a chunked dataset's
  /// chunks element by element (and builds the union in O(n^2)).
  template <class T>
  void read_row_set(const DatasetInfo& info, const std::vector<std::int64_t>& rows, T* out) const;
  /// Keeps `info`'s dataset open for read_row_set, with a chunk cache of `cache_bytes` (HDF5's
  /// default is 1 MiB a dataset): reading rows of a dataset that fits again, every epoch of a
  /// training say, then decompresses no chunk twice. A larger dataset gains nothing and loses
  /// nothing but the memory. Not collective.
  void keep_open(const DatasetInfo& info, std::size_t cache_bytes) const;
  /// A whole numeric dataset of any rank, converted to T, row-major, on every rank.
  template <class T>
  std::vector<T> read_array(const DatasetInfo& info) const;
  /// A root attribute; InputError naming the file and attribute if it is missing or is not a
  /// string (a number).
  std::string string_attribute(const std::string& name) const;
  double number_attribute(const std::string& name) const;
  /// A root attribute read as a 64-bit integer (exact beyond 2^53, where a double is not).
  std::int64_t integer_attribute(const std::string& name) const;

  /// True if `path` names a group (not a dataset, not missing).
  bool is_group(const std::string& path) const;
  /// True if `path` names a dataset (its parent groups must exist).
  bool is_dataset(const std::string& path) const;
  /// Attribute `name` of the object at `path` as text / as numbers; nullopt when it is missing
  /// or of another kind (a string asked as numbers, or the reverse).
  std::optional<std::string> object_string_attribute(const std::string& path,
                                                     const std::string& name) const;
  std::optional<std::vector<double>> object_number_attribute(const std::string& path,
                                                             const std::string& name) const;
  /// Every element of the 1-D dataset of strings at `path` (variable- or fixed-length, as
  /// AnnData's obs and var names are); an InputError naming it if it is anything else. Not
  /// collective.
  std::vector<std::string> read_strings(const std::string& path) const;
  /// Elements [begin, begin + count) of a 1-D numeric dataset, converted by HDF5 to T (double
  /// or std::int64_t). Not collective: each rank reads its own range.
  template <class T>
  void read_range(const DatasetInfo& info, std::int64_t begin, std::int64_t count, T* out) const;

 private:
  Handle open_attribute(const std::string& name, H5T_class_t expected) const;
  /// The 2-D block [start, start + count) of a 2-D numeric dataset as Scalar; collective.
  template <class Scalar>
  RowMatrixT<Scalar> read_block(const DatasetInfo& info, const std::vector<hsize_t>& start,
                                const std::vector<hsize_t>& count) const;

  std::string path_;
  mpi::Communicator* comm_;  ///< the ranks that opened the file together
  Handle file_;
  mutable std::map<std::string, Handle> kept_open_;  ///< datasets by path (keep_open)
};

/// "file:/dataset", the prefix of every message about a dataset.
std::string where(const std::string& file, const std::string& dataset);

/// "3x4x5", or "a scalar".
std::string shape_text(const std::vector<std::uint64_t>& shape);

/// The bytes of `shape` values of `value_bytes` each; the InputError of allocate_for when that
/// is more than memory can address.
std::size_t bytes_for(const std::string& where, const std::vector<std::uint64_t>& shape,
                      std::size_t value_bytes);
/// "WHERE: cannot allocate N bytes for its SHAPE block (B bytes a value)".
InputError allocation_failure(const std::string& where, const std::vector<std::uint64_t>& shape,
                              std::size_t value_bytes);

/// Runs allocate(), which sizes memory for `shape` values of `value_bytes` bytes to be read from
/// `where` ("file:/dataset"): std::bad_alloc, or a size past what memory can address, becomes
/// one InputError naming the dataset and the bytes asked for. Not collective.
template <class Allocate>
void allocate_for(const std::string& where, const std::vector<std::uint64_t>& shape,
                  std::size_t value_bytes, Allocate&& allocate) {
  bytes_for(where, shape, value_bytes);
  try {
    allocate();
  } catch (const std::bad_alloc&) {
    throw allocation_failure(where, shape, value_bytes);
  }
}

}  // namespace dnmf::io
