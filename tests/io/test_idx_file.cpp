// io/idx_file: IDX files written byte by byte here (big-endian header: 00 00 type dims, then each
// extent in 4 bytes, then the values), read back with their shape and values, also gzip-wrapped;
// a bad file (missing, a directory, empty, wrong magic, no or too many dimensions, another
// element type, a truncated header or body, extents beyond memory) is an error naming the file.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/idx_file.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

/// The header of an IDX file of element type `type` and `extents`.
Bytes header(std::uint8_t type, const std::vector<std::uint32_t>& extents) {
  Bytes bytes = {0, 0, type, static_cast<std::uint8_t>(extents.size())};
  for (const std::uint32_t extent : extents) {
    for (const int shift : {24, 16, 8, 0})
      bytes.push_back(static_cast<std::uint8_t>(extent >> shift));
  }
  return bytes;
}

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// The value at position i of a test array.
std::uint8_t value_at(std::size_t i) { return static_cast<std::uint8_t>((i * 37 + 11) % 256); }

Bytes values(std::size_t count) {
  Bytes bytes(count);
  for (std::size_t i = 0; i < count; ++i) bytes[i] = value_at(i);
  return bytes;
}

/// CRC-32 (IEEE 802.3, reflected, bit by bit) for the gzip trailer.
std::uint32_t crc32(const Bytes& data) {
  std::uint32_t crc = 0xffffffffu;
  for (const std::uint8_t byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put_le(Bytes& out, std::uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

/// A gzip member holding `data` in stored (uncompressed) deflate blocks (RFC 1951, 1952).
Bytes gzip_stored(const Bytes& data) {
  Bytes out = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  std::size_t at = 0;
  do {
    const std::size_t length = std::min<std::size_t>(data.size() - at, 65535);
    const bool last = at + length == data.size();
    out.push_back(last ? 1 : 0);
    put_le(out, static_cast<std::uint32_t>(length), 2);
    put_le(out, static_cast<std::uint32_t>(~length & 0xffff), 2);
    out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(at),
               data.begin() + static_cast<std::ptrdiff_t>(at + length));
    at += length;
  } while (at < data.size());
  put_le(out, crc32(data), 4);
  put_le(out, static_cast<std::uint32_t>(data.size()), 4);
  return out;
}

class IdxFileTest : public testing::Test {
 protected:
  void SetUp() override {
    dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
    directory_ = testing_support::scratch_directory(self);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::string write(const std::string& name, const Bytes& bytes) {
    const std::string path = directory_ + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  /// The message of the InputError reading `bytes` raises; it must start with the file's name.
  std::string input_error(const Bytes& bytes) {
    const std::string path = write("bad" + std::to_string(++files_) + "-idx1-ubyte", bytes);
    try {
      dnmf::io::read_idx(path);
    } catch (const dnmf::InputError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
      return message.substr(path.size() + 2);
    }
    ADD_FAILURE() << "no InputError";
    return "";
  }

  std::string directory_;
  int files_ = 0;
};

TEST_F(IdxFileTest, OneDimensionalLabels) {
  const auto array = dnmf::io::read_idx(write("labels", header(8, {5}) + values(5)));
  EXPECT_EQ(array.shape, (std::vector<std::int64_t>{5}));
  EXPECT_EQ(array.values, values(5));
}

TEST_F(IdxFileTest, ImagesInRowMajorOrder) {
  const auto array = dnmf::io::read_idx(write("images", header(8, {2, 3, 4}) + values(24)));
  EXPECT_EQ(array.shape, (std::vector<std::int64_t>{2, 3, 4}));
  ASSERT_EQ(array.values.size(), 24u);
  for (std::size_t i = 0; i < 24; ++i) EXPECT_EQ(array.values[i], value_at(i)) << i;
}

TEST_F(IdxFileTest, ExtentsAreBigEndianAndFourDimensionsAreAllowed) {
  // 259 = 0x00000103, 65537 = 0x00010001: each byte of an extent has its own weight.
  auto array = dnmf::io::read_idx(write("wide", header(8, {259}) + values(259)));
  EXPECT_EQ(array.shape, (std::vector<std::int64_t>{259}));
  EXPECT_EQ(array.values, values(259));
  array = dnmf::io::read_idx(write("tall", header(8, {65537, 1}) + values(65537)));
  EXPECT_EQ(array.shape, (std::vector<std::int64_t>{65537, 1}));
  EXPECT_EQ(array.values, values(65537));
  array = dnmf::io::read_idx(write("four", header(8, {1, 2, 3, 2}) + values(12)));
  EXPECT_EQ(array.shape, (std::vector<std::int64_t>{1, 2, 3, 2}));
  EXPECT_EQ(array.values, values(12));
}

TEST_F(IdxFileTest, AGzipFileIsReadAsItsContents) {
  // Two stored deflate blocks: the values cross a block boundary.
  const Bytes plain = header(8, {3, 100, 300}) + values(90000);
  const auto array = dnmf::io::read_idx(write("images.gz", gzip_stored(plain)));
  EXPECT_EQ(array.shape, (std::vector<std::int64_t>{3, 100, 300}));
  EXPECT_EQ(array.values, values(90000));
}

TEST_F(IdxFileTest, AZeroExtentIsAnEmptyArray) {
  const auto array = dnmf::io::read_idx(write("none", header(8, {0, 28, 28})));
  EXPECT_EQ(array.shape, (std::vector<std::int64_t>{0, 28, 28}));
  EXPECT_TRUE(array.values.empty());
}

TEST_F(IdxFileTest, ValuesAfterTheAnnouncedOnesAreIgnored) {
  const auto array = dnmf::io::read_idx(write("longer", header(8, {4}) + values(10)));
  EXPECT_EQ(array.values, values(4));
}

TEST_F(IdxFileTest, AWrongMagicNumberIsNotAnIdxFile) {
  const std::string expected = "not an IDX file (wrong magic number; expected 00 00 08 0N)";
  const Bytes body = {0, 0, 0, 1, 42};
  EXPECT_EQ(input_error({}), expected) << "an empty file";
  EXPECT_EQ(input_error({0, 0, 8}), expected) << "three bytes";
  EXPECT_EQ(input_error(Bytes{1, 0, 8, 1} + body), expected) << "first byte";
  EXPECT_EQ(input_error(Bytes{0, 1, 8, 1} + body), expected) << "second byte";
  EXPECT_EQ(input_error(Bytes{'P', 'K', 3, 4} + body), expected) << "a zip file";
}

TEST_F(IdxFileTest, NoOrMoreThanFourDimensionsIsNotAnIdxFile) {
  const std::string expected = "not an IDX file (wrong magic number; expected 00 00 08 0N)";
  EXPECT_EQ(input_error(header(8, {})), expected) << "0 dimensions";
  EXPECT_EQ(input_error(header(8, {1, 1, 1, 1, 1}) + values(1)), expected) << "5 dimensions";
  EXPECT_EQ(input_error(Bytes{0, 0, 8, 255}), expected) << "255 dimensions";
}

TEST_F(IdxFileTest, AnotherElementTypeIsNamed) {
  // 0x0D is float, 0x09 signed byte, 0x0B short in the IDX format.
  EXPECT_EQ(input_error(header(0x0d, {2}) + values(8)),
            "IDX element type 0x0d is not unsigned byte (0x08)");
  EXPECT_EQ(input_error(header(0x09, {2}) + values(2)),
            "IDX element type 0x09 is not unsigned byte (0x08)");
  EXPECT_EQ(input_error(header(0x0b, {2}) + values(4)),
            "IDX element type 0x0b is not unsigned byte (0x08)");
}

TEST_F(IdxFileTest, ATruncatedHeaderOrBodyIsNamed) {
  const Bytes three = header(8, {2, 3, 4});
  EXPECT_EQ(input_error(Bytes(three.begin(), three.end() - 1)), "truncated IDX header");
  EXPECT_EQ(input_error(Bytes(three.begin(), three.begin() + 4)), "truncated IDX header");
  EXPECT_EQ(input_error(three), "truncated IDX data (the header announces 24 values)");
  EXPECT_EQ(input_error(three + values(23)), "truncated IDX data (the header announces 24 values)");
  // A gzip file cut inside its data.
  const Bytes zipped = gzip_stored(header(8, {1000}) + values(1000));
  EXPECT_EQ(input_error(Bytes(zipped.begin(), zipped.begin() + 600)),
            "truncated IDX data (the header announces 1000 values)");
}

TEST_F(IdxFileTest, ExtentsBeyondMemoryAreOneErrorWithTheBytesAskedFor) {
  EXPECT_EQ(input_error(header(8, {65536, 65536, 65536, 65536})),
            "cannot allocate 18446744073709551616 bytes for its 65536x65536x65536x65536 block "
            "(1 byte a value)");
  EXPECT_EQ(input_error(header(8, {1u << 21, 1u << 21, 1u << 21})),
            "cannot allocate 9223372036854775808 bytes for its 2097152x2097152x2097152 block "
            "(1 byte a value)");
}

TEST_F(IdxFileTest, AMissingFileOrADirectoryIsAnIoError) {
  const std::string missing = directory_ + "/missing-idx1-ubyte";
  try {
    dnmf::io::read_idx(missing);
    FAIL() << "no error";
  } catch (const dnmf::IoError& error) {
    EXPECT_EQ(std::string(error.what()), missing + ": no such file");
  }
  try {
    dnmf::io::read_idx(directory_);
    FAIL() << "no error";
  } catch (const dnmf::IoError& error) {
    EXPECT_EQ(std::string(error.what()), directory_ + ": is a directory");
  }
}

}  // namespace
