#pragma once
// IDX files, the format of the MNIST distribution: a big-endian header (two zero bytes, a type
// code, the number of dimensions, then each dimension as a 32-bit unsigned integer) followed by
// the values in row-major order. Only unsigned bytes (type code 0x08, what MNIST uses) are
// read. gzip-compressed files (train-images-idx3-ubyte.gz) are read as they are: zlib's gzread
// decompresses them and passes uncompressed files through.

#include <cstdint>
#include <string>
#include <vector>

namespace dnmf::io {

struct IdxArray {
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> values;
};

/// Reads the whole file. Throws IoError if it cannot be opened, InputError naming the file for
/// a wrong magic number, an element type other than unsigned byte, or fewer values than the
/// header announces (a truncated file).
IdxArray read_idx(const std::string& path);

}  // namespace dnmf::io
