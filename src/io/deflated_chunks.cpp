#include "dnmf/io/deflated_chunks.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/core/parallel_for.hpp"
#include "dnmf/io/hdf5_handle.hpp"

namespace dnmf::io {
namespace {

// The elements converted at a time, a bound on the staging memory: the chunks of a batch are
// read, inflated and converted before the next batch's.
constexpr std::size_t kBatchBytes = std::size_t{64} << 20;

/// The filters of a dataset's pipeline, in order.
std::vector<H5Z_filter_t> filters_of(hid_t creation) {
  std::vector<H5Z_filter_t> filters;
  const int count = H5Pget_nfilters(creation);
  for (int i = 0; i < count; ++i) {
    unsigned flags = 0;
    std::size_t values = 0;
    unsigned configuration = 0;
    filters.push_back(H5Pget_filter2(creation, static_cast<unsigned>(i), &flags, &values, nullptr,
                                     0, nullptr, &configuration));
  }
  return filters;
}

/// Copies the elements [first, end) of an inflated chunk of `chunk` elements of `size` bytes to
/// `target`, undoing the shuffle filter if `shuffled` (it stores byte b of element i at
/// b * chunk + i).
void copy_elements(const unsigned char* inflated, std::size_t chunk, std::size_t size,
                   bool shuffled, std::size_t first, std::size_t end, unsigned char* target) {
  if (!shuffled || size == 1) {
    std::memcpy(target, inflated + first * size, (end - first) * size);
    return;
  }
  for (std::size_t i = first; i < end; ++i) {
    for (std::size_t b = 0; b < size; ++b) target[(i - first) * size + b] = inflated[b * chunk + i];
  }
}

/// How a dataset for which has_deflated_chunks holds is stored.
struct DeflatedLayout {
  Handle type;        // the file's element type
  hsize_t extent;     // elements
  std::size_t chunk;  // elements a chunk
  bool shuffled;      // shuffle before deflate
};

/// The layout of a 1-D chunked dataset of numbers filtered by deflate alone or shuffle then
/// deflate; none for any other dataset.
std::optional<DeflatedLayout> deflated_layout(hid_t dataset) {
  const Handle creation(H5Dget_create_plist(dataset), H5Pclose);
  const Handle space(H5Dget_space(dataset), H5Sclose);
  Handle type(H5Dget_type(dataset), H5Tclose);
  if (!creation.valid() || !space.valid() || !type.valid()) return std::nullopt;
  if (H5Pget_layout(creation.get()) != H5D_CHUNKED) return std::nullopt;
  hsize_t extent = 0;
  if (H5Sget_simple_extent_dims(space.get(), &extent, nullptr) != 1) return std::nullopt;
  const H5T_class_t kind = H5Tget_class(type.get());
  if (kind != H5T_INTEGER && kind != H5T_FLOAT) return std::nullopt;
  const std::vector<H5Z_filter_t> filters = filters_of(creation.get());
  const bool shuffled =
      filters == std::vector<H5Z_filter_t>{H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE};
  if (!shuffled && filters != std::vector<H5Z_filter_t>{H5Z_FILTER_DEFLATE}) return std::nullopt;
  hsize_t chunk = 0;
  if (H5Pget_chunk(creation.get(), 1, &chunk) != 1 || chunk == 0) return std::nullopt;
  return DeflatedLayout{std::move(type), extent, static_cast<std::size_t>(chunk), shuffled};
}

}  // namespace

bool has_deflated_chunks(hid_t dataset) { return deflated_layout(dataset).has_value(); }

bool read_deflated_range(hid_t dataset, hid_t memory_type, std::int64_t begin, std::int64_t count,
                         void* out, const std::string& where) {
  if (count <= 0) return true;
  const std::optional<DeflatedLayout> layout = deflated_layout(dataset);
  // Beyond the extent the stored chunks hold padding; H5Dread reports such a range.
  if (!layout || begin < 0 || static_cast<hsize_t>(begin + count) > layout->extent) return false;
  const hid_t file_type = layout->type.get();
  const std::size_t chunk = layout->chunk;
  const bool shuffled = layout->shuffled;
  const std::size_t file_size = H5Tget_size(file_type);
  const std::size_t memory_size = H5Tget_size(memory_type);
  const bool convert = H5Tequal(file_type, memory_type) <= 0;
  // H5Tconvert converts in place: a buffer of max(file, memory) bytes an element.
  const std::size_t staged_size = std::max(file_size, memory_size);
  const std::size_t batch_chunks = std::max<std::size_t>(1, kBatchBytes / (chunk * staged_size));

  const auto first = static_cast<std::size_t>(begin);
  const std::size_t end = first + static_cast<std::size_t>(count);
  std::vector<std::vector<unsigned char>> stored(batch_chunks);
  std::vector<unsigned char> staging;
  for (std::size_t batch_first = first / chunk; batch_first * chunk < end;
       batch_first += batch_chunks) {
    const std::size_t batch_end = std::min(batch_first + batch_chunks, (end - 1) / chunk + 1);
    // HDF5 is not thread-safe: the stored chunks are fetched here, on the calling thread.
    for (std::size_t c = batch_first; c < batch_end; ++c) {
      const hsize_t offset = c * chunk;
      hsize_t bytes = 0;
      if (H5Dget_chunk_storage_size(dataset, &offset, &bytes) < 0 || bytes == 0) return false;
      std::vector<unsigned char>& chunk_bytes = stored[c - batch_first];
      chunk_bytes.resize(static_cast<std::size_t>(bytes));
      std::uint32_t skipped = 0;
      if (H5Dread_chunk(dataset, H5P_DEFAULT, &offset, &skipped, chunk_bytes.data()) < 0 ||
          skipped != 0) {
        return false;
      }
    }
    // The batch's elements, [element_first, element_end), packed in the file's type.
    const std::size_t element_first = std::max(first, batch_first * chunk);
    const std::size_t element_end = std::min(end, batch_end * chunk);
    auto* target = static_cast<unsigned char*>(out) + (element_first - first) * memory_size;
    if (convert) {
      staging.resize((element_end - element_first) * staged_size);
      target = staging.data();
    }
    parallel_for(static_cast<Index>(batch_end - batch_first), 1, [&](Index from, Index to) {
      thread_local std::vector<unsigned char> inflated;
      inflated.resize(chunk * file_size);
      for (auto i = static_cast<std::size_t>(from); i < static_cast<std::size_t>(to); ++i) {
        const std::size_t c = batch_first + i;
        uLongf length = inflated.size();
        const int status = uncompress(inflated.data(), &length, stored[i].data(), stored[i].size());
        if (status != Z_OK || length != inflated.size()) {
          throw IoError(where + ": the chunk at element " + std::to_string(c * chunk) +
                        " is not valid deflate data (" + zError(status) + ")");
        }
        const std::size_t from_element = std::max(element_first, c * chunk);
        const std::size_t to_element = std::min(element_end, (c + 1) * chunk);
        copy_elements(inflated.data(), chunk, file_size, shuffled, from_element - c * chunk,
                      to_element - c * chunk, target + (from_element - element_first) * file_size);
      }
    });
    if (!convert) continue;
    const std::size_t elements = element_end - element_first;
    if (H5Tconvert(file_type, memory_type, elements, staging.data(), nullptr, H5P_DEFAULT) < 0) {
      throw IoError(where + ": converting elements " + std::to_string(element_first) + ".." +
                    std::to_string(element_end) + " to the memory type failed");
    }
    std::memcpy(static_cast<unsigned char*>(out) + (element_first - first) * memory_size,
                staging.data(), elements * memory_size);
  }
  return true;
}

}  // namespace dnmf::io
