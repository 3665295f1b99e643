#include "dnmf/io/idx_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/run_files.hpp"

namespace dnmf::io {
namespace {

constexpr unsigned char kUnsignedByte = 0x08;
constexpr int kMaxDimensions = 4;

using GzFile = std::unique_ptr<gzFile_s, int (*)(gzFile)>;

/// Reads exactly `size` bytes; false if the file ends first.
bool read_exactly(gzFile file, void* data, std::size_t size) {
  auto* bytes = static_cast<unsigned char*>(data);
  while (size > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size, 1u << 30));
    const int got = gzread(file, bytes, chunk);
    if (got <= 0) return false;
    bytes += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  require_regular_file(path);
  GzFile file(gzopen(path.c_str(), "rb"), gzclose);
  if (file == nullptr) throw IoError(path + ": cannot open the IDX file");
  unsigned char magic[4] = {};
  if (!read_exactly(file.get(), magic, sizeof magic) || magic[0] != 0 || magic[1] != 0 ||
      magic[3] == 0 || magic[3] > kMaxDimensions) {
    throw InputError(path + ": not an IDX file (wrong magic number; expected 00 00 08 0N)");
  }
  if (magic[2] != kUnsignedByte) {
    char code[8];
    std::snprintf(code, sizeof code, "0x%02x", magic[2]);
    throw InputError(path + ": IDX element type " + code + " is not unsigned byte (0x08)");
  }
  IdxArray array;
  std::vector<std::uint64_t> extents;
  for (int i = 0; i < magic[3]; ++i) {
    unsigned char extent[4] = {};
    if (!read_exactly(file.get(), extent, sizeof extent)) {
      throw InputError(path + ": truncated IDX header");
    }
    const std::int64_t value = (std::int64_t{extent[0]} << 24) | (std::int64_t{extent[1]} << 16) |
                               (std::int64_t{extent[2]} << 8) | std::int64_t{extent[3]};
    array.shape.push_back(value);
    extents.push_back(static_cast<std::uint64_t>(value));
  }
  const std::size_t size = bytes_for(path, extents, 1);
  allocate_for(path, extents, 1, [&] { array.values.resize(size); });
  if (!read_exactly(file.get(), array.values.data(), size)) {
    throw InputError(path + ": truncated IDX data (the header announces " + std::to_string(size) +
                     " values)");
  }
  return array;
}

}  // namespace dnmf::io
