#include "dnmf/io/hdf5_util.hpp"

#include "dnmf/core/error.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace dnmf::io {

void silence_hdf5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

Handle posix_file_access() {
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fapl_sec2(access.get());
  // Lock the file where the file system can, go on where it cannot (Lustre mounted without
  // flock, some NFS): HDF5 would otherwise refuse to open any file there.
  H5Pset_file_locking(access.get(), true, true);
  return access;
}

Handle select_block(hid_t file_space, const std::vector<hsize_t>& start,
                    const std::vector<hsize_t>& count) {
  hsize_t elements = 1;
  for (const hsize_t extent : count) elements *= extent;
  const hsize_t memory_dims[1] = {std::max<hsize_t>(elements, 1)};
  Handle memory_space(H5Screate_simple(1, memory_dims, nullptr), H5Sclose);
  if (elements == 0) {
    H5Sselect_none(file_space);
    H5Sselect_none(memory_space.get());
  } else {
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  }
  return memory_space;
}

void require_success_everywhere(herr_t status, mpi::Communicator& comm,
                                const std::string& message) {
  if (comm.min(status >= 0 ? 1 : 0) == 1) return;
  IoError error(message);
  error.set_on_all_ranks();
  throw error;
}

namespace {

/// numpy's bool as h5py writes it: an enum of two members valued 0 and 1 (FALSE, TRUE).
bool is_boolean_enum(hid_t type) {
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_nmembers(type) != 2) return false;
  long long values[2] = {-1, -1};
  for (unsigned member = 0; member < 2; ++member) {
    if (H5Tget_member_value(type, member, &values[member]) < 0) return false;
  }
  // The values are stored in the enum's base type; compare them in a type of that size.
  const std::size_t bytes = H5Tget_size(type);
  if (bytes > sizeof(long long)) return false;
  const auto value_of = [&](const long long& stored) {
    long long value = 0;
    std::memcpy(&value, &stored, bytes);
    return value;
  };
  const long long first = value_of(values[0]);
  const long long second = value_of(values[1]);
  return (first == 0 && second == 1) || (first == 1 && second == 0);
}

}  // namespace

std::string describe_type(hid_t type) {
  const std::size_t bits = H5Tget_size(type) * 8;
  if (is_boolean_enum(type)) return "bool";
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_FLOAT: return "float" + std::to_string(bits);
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    case H5T_VLEN: return "variable-length";
    default: return "unknown type";
  }
}

bool is_numeric_type(hid_t type) {
  const H5T_class_t type_class = H5Tget_class(type);
  // HDF5 converts a boolean enum to numbers by its members' values, 0 and 1.
  return type_class == H5T_INTEGER || type_class == H5T_FLOAT || is_boolean_enum(type);
}

template <>
hid_t native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}
template <>
hid_t native_type<std::uint8_t>() {
  return H5T_NATIVE_UINT8;
}
template <>
hid_t file_type<float>() {
  return H5T_IEEE_F32LE;
}
template <>
hid_t file_type<double>() {
  return H5T_IEEE_F64LE;
}
template <>
hid_t file_type<std::int64_t>() {
  return H5T_STD_I64LE;
}
template <>
hid_t file_type<std::uint8_t>() {
  return H5T_STD_U8LE;
}

}  // namespace dnmf::io
