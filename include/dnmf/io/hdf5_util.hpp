#pragma once
// Small HDF5 helpers shared by the reader and the writer.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dnmf/io/hdf5_handle.hpp"
#include "dnmf/mpi/communicator.hpp"

namespace dnmf::io {

/// Turns off HDF5's own error-stack printing: dnmf reports errors itself, in one line.
void silence_hdf5_errors();

/// File-access properties for one process's own access through HDF5's POSIX driver (dnmf makes
/// no collective HDF5 call: see output_file.hpp and input_file.hpp).
Handle posix_file_access();

/// Selects the block [start, start + count) of the dataspace `file_space` (none at all when it
/// is empty) and returns the matching 1-D memory dataspace.
Handle select_block(hid_t file_space, const std::vector<hsize_t>& start,
                    const std::vector<hsize_t>& count);

/// After an HDF5 call made on every rank: throws IoError(message) on every rank if the call
/// failed on any rank, so no rank goes on to the next collective while another leaves with an
/// error.
void require_success_everywhere(herr_t status, mpi::Communicator& comm, const std::string& message);

/// "uint8", "int32", "float64", ... or a description of a non-numeric type.
std::string describe_type(hid_t type);

/// True for integer and floating-point element types, and for numpy's bool (an enum of the
/// values 0 and 1, "bool" in describe_type), which HDF5 converts to numbers.
bool is_numeric_type(hid_t type);

/// The HDF5 native (memory) type of a C++ element type, and the little-endian file type dnmf
/// stores it as: float, double, std::int64_t, std::uint8_t.
template <class T>
hid_t native_type();
template <class T>
hid_t file_type();

}  // namespace dnmf::io
