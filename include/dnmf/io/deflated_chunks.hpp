#pragma once
// Reading a deflate-compressed 1-D dataset (the data, indices and indptr arrays of a sparse
// matrix, as h5py, anndata and 10x write them) with its chunks inflated on the kernel threads
// (core/parallel_for.hpp). HDF5 1.10, as Debian builds it, is not thread-safe and runs the
// filter pipeline in the calling thread: an H5Dread of a gzip-compressed array inflates one chunk
// after another while the rank's other threads wait. Here HDF5 only hands over the stored chunks
// (H5Dread_chunk, in the calling thread), zlib inflates them (and the shuffle filter is undone)
// on the threads, and HDF5 converts the bytes to the memory type (H5Tconvert): the values are
// those H5Dread gives.

#include <hdf5.h>

#include <cstdint>
#include <string>

namespace dnmf::io {

/// Whether `dataset` is 1-D, chunked, of a fixed-size number type, and filtered by deflate alone
/// or by shuffle then deflate: the datasets read_deflated_range reads.
bool has_deflated_chunks(hid_t dataset);

/// Reads the elements [begin, begin + count) of a dataset for which has_deflated_chunks holds into
/// `out`, as `memory_type`. Returns false for any other dataset, a range outside the dataset, or
/// where a chunk of the range is not stored or was stored with a filter skipped (HDF5 then supplies
/// fill values or the unfiltered bytes): the caller reads through H5Dread instead; `out` may have
/// been written. Throws IoError naming `where` (file and dataset) for a chunk zlib cannot inflate
/// to its full size, or a failed conversion.
bool read_deflated_range(hid_t dataset, hid_t memory_type, std::int64_t begin, std::int64_t count,
                         void* out, const std::string& where);

}  // namespace dnmf::io
