#include "dnmf/io/output_file.hpp"

#include <cstdio>

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

}  // namespace

OutputFile::OutputFile(const std::string& target, mpi::Communicator& comm, IfExists if_exists)
    : target_(target), comm_(comm), if_exists_(if_exists) {
  silence_hdf5_errors();
  if (comm_.is_root()) temporary_ = temporary_beside(target);
  comm_.broadcast(temporary_, 0);
  mpi::agree(comm_, [&] {
    Handle access = mpio_file_access(comm_);
    file_ = Handle(H5Fcreate(temporary_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()), H5Fclose);
    if (!file_.valid()) throw IoError(target_ + ": cannot create the output file");
  });
}

OutputFile::~OutputFile() {
  if (committed_) return;
  file_.reset();
  if (comm_.is_root() && !temporary_.empty()) std::remove(temporary_.c_str());
}

Handle OutputFile::create_dataset(const std::string& name, const std::vector<hsize_t>& dims,
                                  hid_t type) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle link_list = with_intermediate_groups();
  Handle dataset(H5Dcreate2(file_.get(), name.c_str(), type, space.get(),
                            link_list.get(), H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid()) throw IoError(target_ + ": cannot create dataset " + name);
  return dataset;
}

template <class T>
void OutputFile::write_block(const std::string& name, const std::vector<hsize_t>& dims,
                             const T* local, std::int64_t row_begin, std::int64_t local_rows) {
  Handle dataset = create_dataset(name, dims, file_type<T>());
  hsize_t total = 1;
  for (const hsize_t extent : dims) total *= extent;
  if (total == 0) return;  // an empty dataset: nothing to write (HDF5 refuses the transfer)
  Handle file_space(H5Dget_space(dataset.get()), H5Sclose);
  hsize_t row_elements = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) row_elements *= dims[i];
  const hsize_t local_elements = static_cast<hsize_t>(local_rows) * row_elements;
  Handle memory_space = select_rows(file_space.get(), row_begin, local_rows);
  Handle transfer = collective_transfer();
  const T dummy = 0;
  require_success_everywhere(H5Dwrite(dataset.get(), native_type<T>(), memory_space.get(),
                                      file_space.get(), transfer.get(),
                                      local_elements == 0 ? &dummy : local),
                             comm_, target_ + ": writing dataset " + name + " failed");
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
  const std::int64_t rows = shape.empty() ? 0 : shape.front();
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
  // Variable-length UTF-8, the string form h5py and most HDF5 tools read back as text.
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attribute(H5Acreate2(file_.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                              H5P_DEFAULT),
                   H5Aclose);
  const char* text = value.c_str();
  if (H5Awrite(attribute.get(), type.get(), &text) < 0) {
    throw IoError(target_ + ": writing attribute " + name + " failed");
  }
}

void OutputFile::set_attribute(const std::string& name, double value) {
  write_scalar_attribute(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void OutputFile::set_attribute(const std::string& name, std::int64_t value) {
  write_scalar_attribute(name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void OutputFile::write_scalar_attribute(const std::string& name, hid_t file_type,
                                        hid_t memory_type, const void* value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attribute(H5Acreate2(file_.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT,
                              H5P_DEFAULT),
                   H5Aclose);
  if (H5Awrite(attribute.get(), memory_type, value) < 0) {
    throw IoError(target_ + ": writing attribute " + name + " failed");
  }
}

void OutputFile::commit() {
  // The collective close flushes everything; a failed flush must not be renamed into place.
  require_success_everywhere(file_.close(), comm_,
                             target_ + ": finishing the output failed (disk full?)");
  mpi::agree(comm_, [&] {
    if (comm_.is_root()) move_into_place(temporary_, target_, if_exists_);
  });
  committed_ = true;
}

}  // namespace dnmf::io
