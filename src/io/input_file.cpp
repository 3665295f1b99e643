#include "dnmf/io/input_file.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>

#include "dnmf/core/error.hpp"
#include "dnmf/core/threads.hpp"
#include "dnmf/io/deflated_chunks.hpp"
#include "dnmf/io/hdf5_util.hpp"
#include "dnmf/io/read_guard.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::io {
namespace {

herr_t collect_dataset(hid_t group, const char* name, const H5L_info_t* info, void* out) {
  if (info->type != H5L_TYPE_HARD) return 0;
  Handle object(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (object.valid() && H5Iget_type(object.get()) == H5I_DATASET) {
    static_cast<std::vector<std::string>*>(out)->push_back("/" + std::string(name));
  }
  return 0;
}

/// The attribute as text; `what` names it in an error ("FILE: attribute NAME").
std::string read_attribute_text(hid_t attribute, const std::string& what, int rank) {
  Handle type(H5Aget_type(attribute), H5Tclose);
  Handle space(H5Aget_space(attribute), H5Sclose);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  const H5T_class_t type_class = H5Tget_class(type.get());
  std::ostringstream text;
  if (type_class == H5T_STRING) {
    if (H5Tis_variable_str(type.get()) > 0) {
      std::vector<char*> values(static_cast<std::size_t>(count), nullptr);
      Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(memory_type.get(), H5T_VARIABLE);
      H5Tset_cset(memory_type.get(), H5Tget_cset(type.get()));  // h5py writes UTF-8
      {
        const ReadGuard guard(what, rank);  // the global heap of a corrupted file: see there
        if (H5Aread(attribute, memory_type.get(), values.data()) < 0) {
          throw InputError(what + ": cannot read it (corrupt or unreadable)");
        }
      }
      for (std::size_t i = 0; i < values.size(); ++i)
        text << (i ? ", " : "") << (values[i] ? values[i] : "");
      H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, values.data());
    } else {
      const std::size_t size = H5Tget_size(type.get());
      std::string value(size * static_cast<std::size_t>(count), '\0');
      H5Aread(attribute, type.get(), value.data());
      text << value.c_str();
    }
  } else if (type_class == H5T_INTEGER) {
    // As 64-bit integers: through a double, a seed of 11 digits showed as 1.23456789e+10, and
    // one beyond 2^53 lost its last digits.
    if (H5Tget_sign(type.get()) == H5T_SGN_NONE) {
      std::vector<std::uint64_t> values(static_cast<std::size_t>(count));
      H5Aread(attribute, H5T_NATIVE_UINT64, values.data());
      for (std::size_t i = 0; i < values.size(); ++i) text << (i ? ", " : "") << values[i];
    } else {
      std::vector<std::int64_t> values(static_cast<std::size_t>(count));
      H5Aread(attribute, H5T_NATIVE_INT64, values.data());
      for (std::size_t i = 0; i < values.size(); ++i) text << (i ? ", " : "") << values[i];
    }
  } else if (type_class == H5T_FLOAT) {
    std::vector<double> values(static_cast<std::size_t>(count));
    H5Aread(attribute, H5T_NATIVE_DOUBLE, values.data());
    text.precision(10);
    for (std::size_t i = 0; i < values.size(); ++i) text << (i ? ", " : "") << values[i];
  } else {
    text << "(" << describe_type(type.get()) << ")";
  }
  return text.str();
}

/// What H5Aiterate2 hands collect_attribute, and the error that stopped it (an exception must
/// not cross HDF5's C frames).
struct AttributeCollection {
  std::vector<AttributeText> attributes;
  const std::string& path;
  int rank;
  std::string error;
};

herr_t collect_attribute(hid_t location, const char* name, const H5A_info_t*, void* out) {
  auto& collection = *static_cast<AttributeCollection*>(out);
  try {
    Handle attribute(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
    const std::string what = collection.path + ": attribute " + name;
    collection.attributes.push_back(
        {name, read_attribute_text(attribute.get(), what, collection.rank)});
    return 0;
  } catch (const std::exception& error) {
    collection.error = error.what();
    return -1;
  }
}

}  // namespace

std::string where(const std::string& file, const std::string& dataset) {
  return file + ":" + dataset;
}

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string text;
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "x" : "") + std::to_string(shape[i]);
  return shape.empty() ? "a scalar" : text;
}

std::size_t bytes_for(const std::string& where, const std::vector<std::uint64_t>& shape,
                      std::size_t value_bytes) {
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  std::uint64_t bytes = value_bytes;
  for (const std::uint64_t extent : shape) {
    if (__builtin_mul_overflow(bytes, extent, &bytes) ||
        bytes > static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max())) {
      throw allocation_failure(where, shape, value_bytes);
    }
  }
  return static_cast<std::size_t>(bytes);
}

InputError allocation_failure(const std::string& where, const std::vector<std::uint64_t>& shape,
                              std::size_t value_bytes) {
  // In long double: the product may not fit 64 bits, which is why it is being reported.
  long double bytes = static_cast<long double>(value_bytes);
  for (const std::uint64_t extent : shape) bytes *= static_cast<long double>(extent);
  char amount[64];
  std::snprintf(amount, sizeof amount, "%.0Lf", bytes);
  return InputError(where + ": cannot allocate " + amount + " bytes for its " + shape_text(shape) +
                    " block (" + std::to_string(value_bytes) +
                    (value_bytes == 1 ? " byte" : " bytes") + " a value)");
}

InputFile::InputFile(const std::string& path, mpi::Communicator& comm) : path_(path), comm_(&comm) {
  silence_hdf5_errors();
  // Rank 0 alone looks at the file system, so every rank reports the same problem.
  mpi::agree(comm, [&] {
    if (!comm.is_root()) return;
    require_regular_file(path);
    if (H5Fis_hdf5(path.c_str()) <= 0) throw IoError(path + ": not an HDF5 file (or not readable)");
  });
  // Every rank opens the file for itself (HDF5's POSIX driver), so a corrupted file fails on
  // each rank alone and agree() reports it; a collective MPI-IO open once left the other ranks
  // waiting inside HDF5 when rank 0 failed in it.
  mpi::agree(comm, [&] {
    file_ = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, posix_file_access().get()), H5Fclose);
    if (!file_.valid()) throw IoError(path + ": cannot open the HDF5 file");
  });
}

std::vector<DatasetInfo> InputFile::datasets() const {
  std::vector<std::string> names;
  H5Lvisit(file_.get(), H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &names);
  std::vector<DatasetInfo> result;
  for (const std::string& name : names) result.push_back(dataset(name));
  return result;
}

DatasetInfo InputFile::dataset(const std::string& name) const {
  const std::string absolute = name.empty() || name[0] != '/' ? "/" + name : name;
  if (H5Lexists(file_.get(), absolute.c_str(), H5P_DEFAULT) <= 0 && !(absolute == "/")) {
    // H5Lexists fails on a missing intermediate group too; both mean "not there".
    throw InputError(where(path_, absolute) + ": no such dataset");
  }
  Handle object(H5Oopen(file_.get(), absolute.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid() || H5Iget_type(object.get()) != H5I_DATASET) {
    throw InputError(where(path_, absolute) + ": not a dataset (a group or other object)");
  }
  DatasetInfo info;
  info.path = absolute;
  Handle type(H5Dget_type(object.get()), H5Tclose);
  Handle space(H5Dget_space(object.get()), H5Sclose);
  info.type = describe_type(type.get());
  info.numeric = is_numeric_type(type.get());
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  info.shape.assign(dims.begin(), dims.end());
  return info;
}

DatasetInfo InputFile::only_matrix() const {
  std::vector<DatasetInfo> matrices;
  std::string all;
  for (const DatasetInfo& info : datasets()) {
    all += " " + info.path + " (" + shape_text(info.shape) + " " + info.type + ")";
    if (info.shape.size() == 2 && info.numeric) matrices.push_back(info);
  }
  if (matrices.size() == 1) return matrices.front();
  if (matrices.empty()) {
    throw InputError(path_ + ": no 2-D numeric dataset in the file; it holds:" +
                     (all.empty() ? std::string(" nothing") : all));
  }
  std::string candidates;
  for (const DatasetInfo& info : matrices) candidates += " " + info.path;
  throw InputError(path_ +
                   ": several 2-D numeric datasets, choose one with --dataset:" + candidates);
}

template <class Scalar>
RowMatrixT<Scalar> InputFile::read_rows(const DatasetInfo& info, std::int64_t row_begin,
                                        std::int64_t row_count) const {
  return read_block<Scalar>(info, {static_cast<hsize_t>(row_begin), 0},
                            {static_cast<hsize_t>(row_count), info.shape.at(1)});
}

template <class Scalar>
RowMatrixT<Scalar> InputFile::read_columns(const DatasetInfo& info, std::int64_t col_begin,
                                           std::int64_t col_count) const {
  return read_block<Scalar>(info, {0, static_cast<hsize_t>(col_begin)},
                            {info.shape.at(0), static_cast<hsize_t>(col_count)});
}

template <class Scalar>
RowMatrixT<Scalar> InputFile::read_block(const DatasetInfo& info, const std::vector<hsize_t>& start,
                                         const std::vector<hsize_t>& count) const {
  RowMatrixT<Scalar> block;
  // Agreed first: a rank that could not allocate must not leave the others waiting in the
  // agreement on the read.
  mpi::agree(*comm_, [&] {
    allocate_for(where(path_, info.path), {count[0], count[1]}, sizeof(Scalar),
                 [&] { block.resize(static_cast<Index>(count[0]), static_cast<Index>(count[1])); });
  });
  Handle dataset(H5Dopen2(file_.get(), info.path.c_str(), H5P_DEFAULT), H5Dclose);
  Handle file_space(H5Dget_space(dataset.get()), H5Sclose);
  Handle memory_space = select_block(file_space.get(), start, count);
  Scalar dummy = 0;
  require_success_everywhere(
      H5Dread(dataset.get(), native_type<Scalar>(), memory_space.get(), file_space.get(),
              H5P_DEFAULT, block.size() == 0 ? &dummy : block.data()),
      *comm_, where(path_, info.path) + ": reading failed (corrupt or unreadable data)");
  return block;
}

template <class Scalar>
RowMatrixT<Scalar> InputFile::read_all(const DatasetInfo& info) const {
  // Every rank reads the whole dataset: a replicated copy.
  return read_rows<Scalar>(info, 0, static_cast<std::int64_t>(info.shape.at(0)));
}

#define DNMF_INSTANTIATE_MATRIX_READS(Scalar)                                                   \
  template RowMatrixT<Scalar> InputFile::read_rows<Scalar>(const DatasetInfo&, std::int64_t,    \
                                                           std::int64_t) const;                 \
  template RowMatrixT<Scalar> InputFile::read_columns<Scalar>(const DatasetInfo&, std::int64_t, \
                                                              std::int64_t) const;              \
  template RowMatrixT<Scalar> InputFile::read_all<Scalar>(const DatasetInfo&) const;
DNMF_INSTANTIATE_MATRIX_READS(float)
DNMF_INSTANTIATE_MATRIX_READS(double)
#undef DNMF_INSTANTIATE_MATRIX_READS

namespace {

// A span (the block of rows from a selected row to a later one) holds at most kSpanBytes, and
// at least kDensity of its rows are selected: the read never exceeds 1 / kDensity of the
// selected data by more than one span's worth.
constexpr std::size_t kSpanBytes = std::size_t{8} << 20;
constexpr std::int64_t kDensity = 4;

/// The end of the span that starts at rows[first]: it covers rows[first] .. rows[end - 1],
/// ascending, at most max_span rows of the file, at least 1 / kDensity of them selected.
std::size_t span_end(const std::vector<std::int64_t>& rows, std::size_t first,
                     std::int64_t max_span) {
  std::size_t last = first + 1;
  while (last < rows.size() && rows[last] > rows[last - 1] && rows[last] - rows[first] < max_span &&
         rows[last] - rows[first] + 1 <= kDensity * static_cast<std::int64_t>(last - first + 1)) {
    ++last;
  }
  return last;
}

/// Moves the selected rows rows[first] .. rows[last - 1] of a span read into `span` (rows of
/// `row_bytes` bytes, rows[first] first) to its front, in order: each moves down or stays.
void gather_selected_rows(unsigned char* span, const std::vector<std::int64_t>& rows,
                          std::size_t first, std::size_t last, std::size_t row_bytes) {
  for (std::size_t i = first; i < last; ++i) {
    std::memmove(span + (i - first) * row_bytes,
                 span + static_cast<std::size_t>(rows[i] - rows[first]) * row_bytes, row_bytes);
  }
}

/// The dimensions of a dataset's file space; InputError naming `what` for a scalar.
std::vector<hsize_t> array_dims(hid_t file_space, const std::string& what) {
  std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(file_space)));
  H5Sget_simple_extent_dims(file_space, dims.data(), nullptr);
  if (dims.empty()) throw InputError(what + ": expected an array, found a scalar");
  return dims;
}

}  // namespace

template <class T>
void InputFile::read_row_set(const DatasetInfo& info, const std::vector<std::int64_t>& rows,
                             T* out) const {
  if (rows.empty()) return;
  const auto kept = kept_open_.find(info.path);
  const Handle opened =
      kept == kept_open_.end()
          ? Handle(H5Dopen2(file_.get(), info.path.c_str(), H5P_DEFAULT), H5Dclose)
          : Handle();
  const Handle& dataset = kept == kept_open_.end() ? opened : kept->second;
  Handle file_space(H5Dget_space(dataset.get()), H5Sclose);
  const std::vector<hsize_t> dims = array_dims(file_space.get(), where(path_, info.path));
  std::size_t row_size = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) row_size *= static_cast<std::size_t>(dims[i]);
  // A span with unselected rows is read in the file's own type and only its selected rows are
  // converted: converting (uint8 images to float, say) costs more than reading the raw bytes,
  // and at half density the conversion of the whole span doubled the read of each rank.
  const Handle file_type(H5Dget_type(dataset.get()), H5Tclose);
  const Handle raw_type(H5Tget_native_type(file_type.get(), H5T_DIR_ASCEND), H5Tclose);
  const std::size_t raw_size = H5Tget_size(raw_type.get());
  const std::size_t value_size = std::max(raw_size, sizeof(T));  // converted in place
  const auto max_span =
      static_cast<std::int64_t>(std::max<std::size_t>(1, kSpanBytes / (row_size * value_size)));
  std::vector<unsigned char> span_bytes;
  std::vector<hsize_t> start(dims.size(), 0);
  std::vector<hsize_t> block(dims);
  for (std::size_t first = 0; first < rows.size();) {
    if (rows[first] < 0 || static_cast<hsize_t>(rows[first]) >= dims[0] ||
        (first > 0 && rows[first] <= rows[first - 1])) {
      throw InputError(where(path_, info.path) + ": row " + std::to_string(rows[first]) +
                       " is out of range or out of order");
    }
    const std::size_t last = span_end(rows, first, max_span);
    if (static_cast<hsize_t>(rows[last - 1]) >= dims[0]) {
      throw InputError(where(path_, info.path) + ": row " + std::to_string(rows[last - 1]) +
                       " is out of range");
    }
    const std::int64_t span = rows[last - 1] - rows[first] + 1;
    const std::size_t selected = last - first;
    const bool contiguous = span == static_cast<std::int64_t>(selected);
    if (!contiguous) span_bytes.resize(static_cast<std::size_t>(span) * row_size * value_size);
    void* target = contiguous ? static_cast<void*>(out + first * row_size) : span_bytes.data();
    // One block in the file and a memory space of the same shape: HDF5 1.10 maps any other
    // selection to the chunks element by element (67 ns an element for scattered image rows).
    start[0] = static_cast<hsize_t>(rows[first]);
    block[0] = static_cast<hsize_t>(span);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, block.data(),
                        nullptr);
    Handle memory_space(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr),
                        H5Sclose);
    const auto failure = [&] {
      return IoError(where(path_, info.path) + ": reading rows " + std::to_string(rows[first]) +
                     ".." + std::to_string(rows[last - 1]) +
                     " failed (corrupt or unreadable data)");
    };
    if (H5Dread(dataset.get(), contiguous ? native_type<T>() : raw_type.get(), memory_space.get(),
                file_space.get(), H5P_DEFAULT, target) < 0) {
      throw failure();
    }
    if (!contiguous) {
      // Selected rows to the front, then converted in place.
      gather_selected_rows(span_bytes.data(), rows, first, last, row_size * raw_size);
      if (H5Tconvert(raw_type.get(), native_type<T>(), selected * row_size, span_bytes.data(),
                     nullptr, H5P_DEFAULT) < 0) {
        throw failure();
      }
      std::memcpy(out + first * row_size, span_bytes.data(), selected * row_size * sizeof(T));
    }
    first = last;
  }
}

void InputFile::keep_open(const DatasetInfo& info, std::size_t cache_bytes) const {
  Handle access(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
  // Slots: a prime well above the number of chunks that fit, as HDF5's guide advises.
  H5Pset_chunk_cache(access.get(), 100003, cache_bytes, 1.0);
  Handle dataset(H5Dopen2(file_.get(), info.path.c_str(), access.get()), H5Dclose);
  if (!dataset.valid()) throw IoError(where(path_, info.path) + ": cannot open the dataset");
  kept_open_[info.path] = std::move(dataset);
}

template <class T>
std::vector<T> InputFile::read_array(const DatasetInfo& info) const {
  std::vector<T> values;
  const std::size_t size = bytes_for(where(path_, info.path), info.shape, sizeof(T)) / sizeof(T);
  allocate_for(where(path_, info.path), info.shape, sizeof(T), [&] { values.resize(size); });
  if (size == 0) return values;
  Handle dataset(H5Dopen2(file_.get(), info.path.c_str(), H5P_DEFAULT), H5Dclose);
  if (H5Dread(dataset.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    throw IoError(where(path_, info.path) + ": reading failed (corrupt or unreadable data)");
  }
  return values;
}

template <class T>
void InputFile::read_range(const DatasetInfo& info, std::int64_t begin, std::int64_t count,
                           T* out) const {
  if (count <= 0) return;
  Handle dataset(H5Dopen2(file_.get(), info.path.c_str(), H5P_DEFAULT), H5Dclose);
  // A gzip-compressed array is inflated on the kernel threads where there are several.
  if (kernel_threads() > 1 && read_deflated_range(dataset.get(), native_type<T>(), begin, count,
                                                  out, where(path_, info.path))) {
    return;
  }
  Handle file_space(H5Dget_space(dataset.get()), H5Sclose);
  const hsize_t start = static_cast<hsize_t>(begin);
  const hsize_t elements = static_cast<hsize_t>(count);
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &elements, nullptr);
  Handle memory_space(H5Screate_simple(1, &elements, nullptr), H5Sclose);
  if (H5Dread(dataset.get(), native_type<T>(), memory_space.get(), file_space.get(), H5P_DEFAULT,
              out) < 0) {
    throw IoError(where(path_, info.path) + ": reading elements " + std::to_string(begin) + ".." +
                  std::to_string(begin + count) + " failed (corrupt or unreadable data)");
  }
}

#define DNMF_INSTANTIATE_READS(T)                                                                \
  template void InputFile::read_row_set<T>(const DatasetInfo&, const std::vector<std::int64_t>&, \
                                           T*) const;                                            \
  template std::vector<T> InputFile::read_array<T>(const DatasetInfo&) const;                    \
  template void InputFile::read_range<T>(const DatasetInfo&, std::int64_t, std::int64_t, T*) const;
DNMF_INSTANTIATE_READS(float)
DNMF_INSTANTIATE_READS(double)
DNMF_INSTANTIATE_READS(std::int64_t)
DNMF_INSTANTIATE_READS(std::uint8_t)
#undef DNMF_INSTANTIATE_READS

Handle InputFile::open_attribute(const std::string& name, H5T_class_t expected) const {
  const char* kind = expected == H5T_STRING ? "a string" : "a number";
  if (H5Aexists(file_.get(), name.c_str()) <= 0) {
    throw InputError(path_ + ": no attribute " + name + " (expected " + kind + ")");
  }
  Handle attribute(H5Aopen(file_.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attribute.get()), H5Tclose);
  const H5T_class_t found = H5Tget_class(type.get());
  const bool fits =
      expected == H5T_STRING ? found == H5T_STRING : found == H5T_INTEGER || found == H5T_FLOAT;
  if (!fits) throw InputError(path_ + ": attribute " + name + " is not " + kind);
  return attribute;
}

std::string InputFile::string_attribute(const std::string& name) const {
  return read_attribute_text(open_attribute(name, H5T_STRING).get(), path_ + ": attribute " + name,
                             comm_->rank());
}

double InputFile::number_attribute(const std::string& name) const {
  const Handle attribute = open_attribute(name, H5T_FLOAT);
  Handle space(H5Aget_space(attribute.get()), H5Sclose);
  double value = 0;
  if (H5Sget_simple_extent_npoints(space.get()) != 1 ||
      H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value) < 0) {
    throw InputError(path_ + ": attribute " + name + " is not a single number");
  }
  return value;
}

std::int64_t InputFile::integer_attribute(const std::string& name) const {
  const Handle attribute = open_attribute(name, H5T_INTEGER);
  Handle space(H5Aget_space(attribute.get()), H5Sclose);
  std::int64_t value = 0;
  if (H5Sget_simple_extent_npoints(space.get()) != 1 ||
      H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0) {
    throw InputError(path_ + ": attribute " + name + " is not a single integer");
  }
  return value;
}

bool InputFile::is_group(const std::string& path) const {
  if (path != "/" && H5Lexists(file_.get(), path.c_str(), H5P_DEFAULT) <= 0) return false;
  Handle object(H5Oopen(file_.get(), path.c_str(), H5P_DEFAULT), H5Oclose);
  return object.valid() && H5Iget_type(object.get()) == H5I_GROUP;
}

bool InputFile::is_dataset(const std::string& path) const {
  if (H5Lexists(file_.get(), path.c_str(), H5P_DEFAULT) <= 0) return false;
  Handle object(H5Oopen(file_.get(), path.c_str(), H5P_DEFAULT), H5Oclose);
  return object.valid() && H5Iget_type(object.get()) == H5I_DATASET;
}

namespace {
/// The attribute `name` of the object at `path` if it exists and its class is `accepted`.
Handle find_attribute(hid_t file, const std::string& path, const std::string& name,
                      bool (*accepted)(H5T_class_t)) {
  if (path != "/" && H5Lexists(file, path.c_str(), H5P_DEFAULT) <= 0) return {};
  if (H5Aexists_by_name(file, path.c_str(), name.c_str(), H5P_DEFAULT) <= 0) return {};
  Handle attribute(H5Aopen_by_name(file, path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                   H5Aclose);
  Handle type(H5Aget_type(attribute.get()), H5Tclose);
  if (!accepted(H5Tget_class(type.get()))) return {};
  return attribute;
}
}  // namespace

std::optional<std::string> InputFile::object_string_attribute(const std::string& path,
                                                              const std::string& name) const {
  const Handle attribute =
      find_attribute(file_.get(), path, name, [](H5T_class_t c) { return c == H5T_STRING; });
  if (!attribute.valid()) return std::nullopt;
  return read_attribute_text(attribute.get(), where(path_, path) + ": attribute " + name,
                             comm_->rank());
}

std::optional<std::vector<double>> InputFile::object_number_attribute(
    const std::string& path, const std::string& name) const {
  const Handle attribute = find_attribute(
      file_.get(), path, name, [](H5T_class_t c) { return c == H5T_INTEGER || c == H5T_FLOAT; });
  if (!attribute.valid()) return std::nullopt;
  Handle space(H5Aget_space(attribute.get()), H5Sclose);
  std::vector<double> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  if (values.empty()) return values;  // nothing to read (and HDF5 refuses a read into nothing)
  if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, values.data()) < 0) return std::nullopt;
  return values;
}

std::vector<std::string> InputFile::read_strings(const std::string& path) const {
  const std::string what = where(path_, path);
  if (!is_dataset(path)) throw InputError(what + ": not a dataset");
  Handle dataset(H5Dopen2(file_.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Sget_simple_extent_ndims(space.get()) != 1) {
    throw InputError(what + ": not a 1-D dataset of strings");
  }
  const auto count = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get()));
  std::vector<std::string> strings;
  strings.reserve(count);
  Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(memory.get(), H5T_VARIABLE);
    std::vector<char*> pointers(count, nullptr);
    if (H5Dread(dataset.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0) {
      throw InputError(what + ": cannot read its strings");
    }
    for (char* text : pointers) strings.emplace_back(text != nullptr ? text : "");
    H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
    return strings;
  }
  const std::size_t width = H5Tget_size(type.get());
  H5Tset_size(memory.get(), width);
  std::vector<char> buffer(count * width);
  if (H5Dread(dataset.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0) {
    throw InputError(what + ": cannot read its strings");
  }
  for (std::size_t i = 0; i < count; ++i) {
    const char* text = buffer.data() + i * width;
    strings.emplace_back(text, strnlen(text, width));  // NUL-padded, or exactly `width` long
  }
  return strings;
}

std::vector<AttributeText> InputFile::attributes() const {
  AttributeCollection collection{{}, path_, comm_->rank(), {}};
  hsize_t position = 0;
  H5Aiterate2(file_.get(), H5_INDEX_NAME, H5_ITER_INC, &position, collect_attribute, &collection);
  if (!collection.error.empty()) throw InputError(collection.error);
  return collection.attributes;
}

}  // namespace dnmf::io
