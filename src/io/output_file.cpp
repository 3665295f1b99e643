#include "dnmf/io/output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "dnmf/core/error.hpp"
#include "dnmf/io/hdf5_util.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::io {
namespace {

/// Link-creation properties that create the missing groups of "/a/b/name" on the way.
Handle with_intermediate_groups() {
  Handle create_list(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(create_list.get(), 1);
  return create_list;
}

/// Dataset-creation properties for raw data that the ranks write themselves: one contiguous
/// block, placed in the file when the dataset is created, never filled by HDF5.
Handle contiguous_preallocated() {
  Handle create_list(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_layout(create_list.get(), H5D_CONTIGUOUS);
  H5Pset_alloc_time(create_list.get(), H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(create_list.get(), H5D_FILL_TIME_NEVER);
  return create_list;
}

/// pwrite until every byte is written; false with errno set otherwise.
bool write_fully(int descriptor, const void* data, std::size_t bytes, std::uint64_t offset) {
  const char* next = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t written = pwrite(descriptor, next, bytes, static_cast<off_t>(offset));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      if (written == 0) errno = ENOSPC;
      return false;
    }
    next += written;
    bytes -= static_cast<std::size_t>(written);
    offset += static_cast<std::uint64_t>(written);
  }
  return true;
}

std::string system_error_text() { return std::strerror(errno); }

}  // namespace

OutputFile::OutputFile(const std::string& target, mpi::Communicator& comm, IfExists if_exists)
    : target_(target), comm_(comm), if_exists_(if_exists) {
  silence_hdf5_errors();
  if (comm_.is_root()) temporary_ = temporary_beside(target);
  comm_.broadcast(temporary_, 0);
  mpi::agree(comm_, [&] {
    if (!comm_.is_root()) return;
    file_ =
        Handle(H5Fcreate(temporary_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, posix_file_access().get()),
               H5Fclose);
    if (!file_.valid()) throw IoError(target_ + ": cannot create the output file");
  });
  mpi::agree(comm_, [&] {
    raw_ = open(temporary_.c_str(), O_WRONLY | O_CLOEXEC);
    if (raw_ < 0) {
      throw IoError(target_ + ": cannot open the output file for writing: " + system_error_text());
    }
  });
}

OutputFile::~OutputFile() {
  if (raw_ >= 0) close(raw_);
  if (committed_) return;
  if (file_.valid()) {
    // Given up (a full disk, most likely): empty the file first so that HDF5's closing flush of
    // its metadata finds room. A close that fails leaves HDF5 holding a half-closed file, on
    // which the library crashes when MPI_Finalize shuts it down.
    if (truncate(temporary_.c_str(), 0) != 0) {
      // nothing to do: the close below may still succeed, and the file is removed anyway
    }
    file_.reset();
  }
  if (comm_.is_root() && !temporary_.empty()) std::remove(temporary_.c_str());
}

Handle OutputFile::create_dataset(const std::string& name, const std::vector<hsize_t>& dims,
                                  hid_t type) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle link_list = with_intermediate_groups();
  Handle create_list = contiguous_preallocated();
  Handle dataset(H5Dcreate2(file_.get(), name.c_str(), type, space.get(), link_list.get(),
                            create_list.get(), H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid()) throw IoError(target_ + ": cannot create dataset " + name);
  return dataset;
}

template <class T>
void OutputFile::write_block(const std::string& name, const std::vector<hsize_t>& dims,
                             const T* local, std::int64_t row_begin, std::int64_t local_rows) {
  // The file stores T little-endian (file_type<T>), the bytes of memory as they are.
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "raw writes assume little-endian");
  hsize_t total = 1;
  for (const hsize_t extent : dims) total *= extent;
  std::uint64_t offset = 0;  // of the dataset's raw data in the file, placed by rank 0
  mpi::agree(comm_, [&] {
    if (!comm_.is_root()) return;
    Handle dataset = create_dataset(name, dims, file_type<T>());
    offset = H5Dget_offset(dataset.get());
    if (total > 0 && offset == HADDR_UNDEF) {
      throw IoError(target_ + ": cannot place dataset " + name + " in the file");
    }
  });
  if (total == 0) return;  // an empty dataset: nothing to write
  comm_.broadcast(&offset, 1, 0);
  std::uint64_t row_bytes = sizeof(T);
  for (std::size_t i = 1; i < dims.size(); ++i) row_bytes *= dims[i];
  mpi::agree(comm_, [&] {
    const std::uint64_t bytes = static_cast<std::uint64_t>(local_rows) * row_bytes;
    if (!write_fully(raw_, local, bytes,
                     offset + static_cast<std::uint64_t>(row_begin) * row_bytes)) {
      throw IoError(target_ + ": writing dataset " + name + " failed: " + system_error_text());
    }
  });
}

template <class T>
void OutputFile::write_rows(const std::string& name, std::int64_t global_rows, std::int64_t cols,
                            const T* local, std::int64_t row_begin, std::int64_t local_rows) {
  write_block(name, {static_cast<hsize_t>(global_rows), static_cast<hsize_t>(cols)}, local,
              row_begin, local_rows);
}

template <class Scalar>
void OutputFile::write_matrix(const std::string& name, const RowMatrixT<Scalar>& matrix) {
  write_rows(name, matrix.rows(), matrix.cols(), matrix.data(), 0,
             comm_.is_root() ? matrix.rows() : 0);
}

#define DNMF_INSTANTIATE_MATRIX_WRITES(Scalar)                                                 \
  template void OutputFile::write_rows<Scalar>(const std::string&, std::int64_t, std::int64_t, \
                                               const Scalar*, std::int64_t, std::int64_t);     \
  template void OutputFile::write_matrix<Scalar>(const std::string&, const RowMatrixT<Scalar>&);
DNMF_INSTANTIATE_MATRIX_WRITES(float)
DNMF_INSTANTIATE_MATRIX_WRITES(double)
#undef DNMF_INSTANTIATE_MATRIX_WRITES

void OutputFile::write_vector(const std::string& name, const std::vector<double>& values) {
  const std::int64_t size = static_cast<std::int64_t>(values.size());
  write_block(name, {static_cast<hsize_t>(size)}, values.data(), 0, comm_.is_root() ? size : 0);
}

template <class T>
void OutputFile::write_array(const std::string& name, const std::vector<std::int64_t>& shape,
                             const T* values) {
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  // A scalar (no dimensions) is one row of one value.
  const std::int64_t rows = shape.empty() ? 1 : shape.front();
  write_block(name, dims, values, 0, comm_.is_root() ? rows : 0);
}

template void OutputFile::write_array<float>(const std::string&, const std::vector<std::int64_t>&,
                                             const float*);
template void OutputFile::write_array<double>(const std::string&, const std::vector<std::int64_t>&,
                                              const double*);
template void OutputFile::write_array<std::int64_t>(const std::string&,
                                                    const std::vector<std::int64_t>&,
                                                    const std::int64_t*);
template void OutputFile::write_array<std::uint8_t>(const std::string&,
                                                    const std::vector<std::int64_t>&,
                                                    const std::uint8_t*);

void OutputFile::set_attribute(const std::string& name, const std::string& value) {
  set_attribute("/", name, value);
}

void OutputFile::set_attribute(const std::string& object, const std::string& name,
                               const std::string& value) {
  mpi::agree(comm_, [&] {
    if (!comm_.is_root()) return;
    // Variable-length UTF-8, the string form h5py and most HDF5 tools read back as text.
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    const char* text = value.c_str();
    write_object_attribute(object, name, type.get(), type.get(), space.get(), &text);
  });
}

void OutputFile::set_attribute(const std::string& object, const std::string& name,
                               const std::vector<double>& values) {
  mpi::agree(comm_, [&] {
    if (!comm_.is_root()) return;
    const hsize_t size = values.size();
    Handle space(H5Screate_simple(1, &size, nullptr), H5Sclose);
    write_object_attribute(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(),
                           values.data());
  });
}

void OutputFile::write_object_attribute(const std::string& object, const std::string& name,
                                        hid_t file_type, hid_t memory_type, hid_t space,
                                        const void* value) {
  Handle attribute(H5Acreate_by_name(file_.get(), object.c_str(), name.c_str(), file_type, space,
                                     H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   H5Aclose);
  // An empty array has nothing to write (and HDF5 refuses the write from no buffer).
  const bool empty = H5Sget_simple_extent_npoints(space) == 0;
  if (!attribute.valid() || (!empty && H5Awrite(attribute.get(), memory_type, value) < 0)) {
    throw IoError(target_ + ": writing attribute " + name + " of " + object + " failed");
  }
}

void OutputFile::create_group(const std::string& name) {
  mpi::agree(comm_, [&] {
    if (!comm_.is_root()) return;
    Handle link_list = with_intermediate_groups();
    Handle group(H5Gcreate2(file_.get(), name.c_str(), link_list.get(), H5P_DEFAULT, H5P_DEFAULT),
                 H5Gclose);
    if (!group.valid()) throw IoError(target_ + ": cannot create group " + name);
  });
}

void OutputFile::write_strings(const std::string& name, const std::vector<std::string>& values) {
  mpi::agree(comm_, [&] {
    if (!comm_.is_root()) return;
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    const hsize_t size = values.size();
    Handle space(H5Screate_simple(1, &size, nullptr), H5Sclose);
    Handle link_list = with_intermediate_groups();
    Handle dataset(H5Dcreate2(file_.get(), name.c_str(), type.get(), space.get(), link_list.get(),
                              H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose);
    std::vector<const char*> pointers;
    pointers.reserve(values.size());
    for (const std::string& value : values) pointers.push_back(value.c_str());
    if (!dataset.valid() ||
        H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0) {
      throw IoError(target_ + ": cannot write dataset " + name);
    }
  });
}

void OutputFile::set_attribute(const std::string& name, double value) {
  write_scalar_attribute(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void OutputFile::set_attribute(const std::string& name, std::int64_t value) {
  write_scalar_attribute(name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void OutputFile::write_scalar_attribute(const std::string& name, hid_t file_type, hid_t memory_type,
                                        const void* value) {
  mpi::agree(comm_, [&] {
    if (!comm_.is_root()) return;
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    write_object_attribute("/", name, file_type, memory_type, space.get(), value);
  });
}

void OutputFile::commit() {
  mpi::agree(comm_, [&] {
    if (!comm_.is_root()) return;
    // Flushed while the file is still open: a flush that fails (a full disk) leaves HDF5's
    // state whole, and the destructor can still close it; the close then has nothing to write.
    if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0 || file_.close() < 0) {
      throw IoError(target_ + ": finishing the output failed (disk full?)");
    }
  });
  // Every rank's rows (and on rank 0 the metadata) on disk: on many file systems a full disk
  // shows only here.
  mpi::agree(comm_, [&] {
    const bool synced = fsync(raw_) == 0;
    const std::string reason = synced ? "" : system_error_text();
    const bool closed = close(raw_) == 0;
    raw_ = -1;
    if (!synced || !closed) {
      throw IoError(target_ +
                    ": finishing the output failed: " + (synced ? system_error_text() : reason));
    }
  });
  mpi::agree(comm_, [&] {
    if (comm_.is_root()) move_into_place(temporary_, target_, if_exists_);
  });
  committed_ = true;
}

}  // namespace dnmf::io
