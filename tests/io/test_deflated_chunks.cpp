// io/deflated_chunks on datasets written here with the HDF5 C API: which pipelines it takes
// (deflate, shuffle then deflate; not fletcher32, not contiguous, not 2-D), ranges of every kind
// (inside one chunk, across chunks, the partial last chunk, the whole array, batches of many
// chunks, several batches) read at 1, 2 and 3 kernel threads give the bits H5Dread gives, in the
// file's type and converted (int32 to int64 and double, double to float); a range beyond the
// dataset, an unwritten chunk or one stored with its filter skipped is left to H5Dread; a chunk
// that is not deflate data is an IoError naming the dataset.

#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../kernel_threads.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/io/deflated_chunks.hpp"
#include "dnmf/io/hdf5_handle.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "scratch_directory.hpp"

namespace {

using dnmf::io::Handle;

constexpr hsize_t kElements = 12345;  // 13 chunks of 1000, the last partial
constexpr hsize_t kChunk = 1000;

double value_at(hsize_t i) { return std::sin(0.37 * static_cast<double>(i)) * 1e3 + 0.125; }

struct Filters {
  bool shuffle = false;
  bool deflate = true;
  bool fletcher32 = false;
};

/// A 1-D chunked dataset `name` of `file`, in `file_type`, holding `values` (written in `T`).
template <class T>
void write_array(hid_t file, const std::string& name, hid_t file_type, hid_t memory_type,
                 const std::vector<T>& values, Filters filters, hsize_t chunk = kChunk) {
  const hsize_t extent = values.size();
  const Handle space(H5Screate_simple(1, &extent, nullptr), H5Sclose);
  const Handle creation(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_chunk(creation.get(), 1, &chunk);
  if (filters.fletcher32) H5Pset_fletcher32(creation.get());
  if (filters.shuffle) H5Pset_shuffle(creation.get());
  if (filters.deflate) H5Pset_deflate(creation.get(), 4);
  const Handle dataset(H5Dcreate2(file, name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                  creation.get(), H5P_DEFAULT),
                       H5Dclose);
  ASSERT_GE(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
}

class DeflatedChunks : public ::testing::Test {
 protected:
  DeflatedChunks() {
    dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
    path_ = testing_support::scratch_directory(self) + "/arrays.h5";
    file_ = Handle(H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    std::vector<double> doubles(kElements);
    std::vector<std::int32_t> integers(kElements);
    for (hsize_t i = 0; i < kElements; ++i) {
      doubles[i] = value_at(i);
      integers[i] = static_cast<std::int32_t>(value_at(i) * 1e5);
    }
    write_array(file_.get(), "deflated", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, doubles, {});
    write_array(file_.get(), "shuffled", H5T_STD_I32LE, H5T_NATIVE_INT32, integers,
                {true, true, false});
    write_array(file_.get(), "checksummed", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, doubles,
                {false, true, true});
    // 1235 chunks of 10 elements: many chunks in one batch.
    write_array(file_.get(), "small_chunks", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, doubles, {}, 10);
  }

  Handle open(const std::string& name) const {
    return Handle(H5Dopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  }

  /// An empty dataset `name` of `extent` doubles, deflated in chunks of kChunk.
  Handle create_deflated(const std::string& name, hsize_t extent) const {
    const Handle space(H5Screate_simple(1, &extent, nullptr), H5Sclose);
    const Handle creation(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(creation.get(), 1, &kChunk);
    H5Pset_deflate(creation.get(), 4);
    return Handle(H5Dcreate2(file_.get(), name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                             creation.get(), H5P_DEFAULT),
                  H5Dclose);
  }

  /// Elements [begin, begin + count) of `name` as `memory_type` through H5Dread.
  template <class T>
  std::vector<T> read_by_hdf5(const std::string& name, hid_t memory_type, hsize_t begin,
                              hsize_t count) const {
    const Handle dataset = open(name);
    const Handle file_space(H5Dget_space(dataset.get()), H5Sclose);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &begin, nullptr, &count, nullptr);
    const Handle memory_space(H5Screate_simple(1, &count, nullptr), H5Sclose);
    std::vector<T> values(count);
    EXPECT_GE(H5Dread(dataset.get(), memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT,
                      values.data()),
              0);
    return values;
  }

  /// Every kind of range of `name` as `memory_type`, at 1, 2 and 3 threads, against H5Dread.
  template <class T>
  void expect_ranges_as_hdf5(const std::string& name, hid_t memory_type) const {
    const Handle dataset = open(name);
    ASSERT_TRUE(dnmf::io::has_deflated_chunks(dataset.get())) << name;
    const std::pair<hsize_t, hsize_t> ranges[] = {
        {0, kElements}, {5, 1}, {999, 2}, {1000, 1000}, {1500, 4321}, {12000, 345}, {0, 1}};
    for (const int threads : {1, 2, 3}) {
      const dnmf::test::ScopedKernelThreads kernel_threads(threads);
      for (const auto& [begin, count] : ranges) {
        std::vector<T> values(count);
        ASSERT_TRUE(dnmf::io::read_deflated_range(
            dataset.get(), memory_type, static_cast<std::int64_t>(begin),
            static_cast<std::int64_t>(count), values.data(), path_ + ":/" + name));
        EXPECT_TRUE(values == read_by_hdf5<T>(name, memory_type, begin, count))
            << name << " elements " << begin << " + " << count << " at " << threads << " threads";
      }
    }
  }

  std::string path_;
  Handle file_;
};

TEST_F(DeflatedChunks, TakesDeflateAloneOrAfterShuffleOnly) {
  EXPECT_TRUE(dnmf::io::has_deflated_chunks(open("deflated").get()));
  EXPECT_TRUE(dnmf::io::has_deflated_chunks(open("shuffled").get()));
  EXPECT_FALSE(dnmf::io::has_deflated_chunks(open("checksummed").get()));

  const hsize_t shape[2] = {4, 3};
  const Handle plane(H5Screate_simple(2, shape, nullptr), H5Sclose);
  const Handle chunked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_chunk(chunked.get(), 2, shape);
  H5Pset_deflate(chunked.get(), 4);
  const Handle matrix(H5Dcreate2(file_.get(), "matrix", H5T_IEEE_F64LE, plane.get(), H5P_DEFAULT,
                                 chunked.get(), H5P_DEFAULT),
                      H5Dclose);
  EXPECT_FALSE(dnmf::io::has_deflated_chunks(matrix.get())) << "2-D";
  const hsize_t length = 8;
  const Handle line(H5Screate_simple(1, &length, nullptr), H5Sclose);
  const Handle contiguous(H5Dcreate2(file_.get(), "contiguous", H5T_IEEE_F64LE, line.get(),
                                     H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                          H5Dclose);
  EXPECT_FALSE(dnmf::io::has_deflated_chunks(contiguous.get())) << "not chunked";
}

TEST_F(DeflatedChunks, RangesGiveTheBitsOfH5Dread) {
  expect_ranges_as_hdf5<double>("deflated", H5T_NATIVE_DOUBLE);
  expect_ranges_as_hdf5<double>("small_chunks", H5T_NATIVE_DOUBLE);
  expect_ranges_as_hdf5<std::int32_t>("shuffled", H5T_NATIVE_INT32);
}

TEST_F(DeflatedChunks, ConvertsAsH5DreadDoes) {
  expect_ranges_as_hdf5<std::int64_t>("shuffled", H5T_NATIVE_INT64);
  expect_ranges_as_hdf5<double>("shuffled", H5T_NATIVE_DOUBLE);
  expect_ranges_as_hdf5<float>("deflated", H5T_NATIVE_FLOAT);
}

// 9 chunks of 2^20 doubles (8 MiB each) are more than one 64 MiB batch holds: two batches.
TEST_F(DeflatedChunks, ReadsRangesAcrossBatches) {
  constexpr hsize_t kLargeChunk = hsize_t{1} << 20;
  std::vector<double> values(9 * kLargeChunk - 7);
  for (hsize_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i % 1000) * 0.5;
  write_array(file_.get(), "large", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values, {true, true, false},
              kLargeChunk);
  const Handle dataset = open("large");
  const dnmf::test::ScopedKernelThreads kernel_threads(2);
  const std::pair<hsize_t, hsize_t> ranges[] = {{0, values.size()},
                                                {kLargeChunk - 3, 8 * kLargeChunk - 4}};
  for (const auto& [begin, count] : ranges) {
    std::vector<double> read(count);
    ASSERT_TRUE(dnmf::io::read_deflated_range(
        dataset.get(), H5T_NATIVE_DOUBLE, static_cast<std::int64_t>(begin),
        static_cast<std::int64_t>(count), read.data(), "large"));
    EXPECT_TRUE(
        std::equal(read.begin(), read.end(), values.begin() + static_cast<std::ptrdiff_t>(begin)))
        << "elements " << begin << " + " << count;
  }
}

TEST_F(DeflatedChunks, LeavesARangeBeyondTheDatasetToH5Dread) {
  const Handle dataset = open("deflated");
  const dnmf::test::ScopedKernelThreads kernel_threads(2);
  std::vector<double> values(20);
  // The last chunk is stored whole, 655 values of padding after the 12345th.
  EXPECT_FALSE(dnmf::io::read_deflated_range(dataset.get(), H5T_NATIVE_DOUBLE, kElements - 10, 20,
                                             values.data(), "deflated"));
  EXPECT_FALSE(dnmf::io::read_deflated_range(dataset.get(), H5T_NATIVE_DOUBLE, -1, 5, values.data(),
                                             "deflated"));
}

TEST_F(DeflatedChunks, LeavesAnUnwrittenChunkToH5Dread) {
  const hsize_t extent = 5000;
  const Handle dataset = create_deflated("partial", extent);
  const std::vector<double> head(kChunk, 1.5);  // only the first chunk is written
  const Handle file_space(H5Dget_space(dataset.get()), H5Sclose);
  const hsize_t start = 0;
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &kChunk, nullptr);
  const Handle memory_space(H5Screate_simple(1, &kChunk, nullptr), H5Sclose);
  ASSERT_GE(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(),
                     H5P_DEFAULT, head.data()),
            0);
  const dnmf::test::ScopedKernelThreads kernel_threads(2);
  std::vector<double> values(extent);
  EXPECT_TRUE(dnmf::io::read_deflated_range(dataset.get(), H5T_NATIVE_DOUBLE, 0, 1000,
                                            values.data(), "partial"));
  EXPECT_FALSE(dnmf::io::read_deflated_range(dataset.get(), H5T_NATIVE_DOUBLE, 0, 5000,
                                             values.data(), "partial"));
}

TEST_F(DeflatedChunks, LeavesAChunkWithItsFilterSkippedToH5Dread) {
  const hsize_t extent = 2 * kChunk;
  const Handle dataset = create_deflated("skipped", extent);
  const std::vector<double> raw(kChunk, 2.5);
  for (const hsize_t offset : {hsize_t{0}, kChunk}) {
    ASSERT_GE(
        H5Dwrite_chunk(dataset.get(), H5P_DEFAULT, 1, &offset, kChunk * sizeof(double), raw.data()),
        0);  // filter mask 1: deflate skipped, the bytes stored as they are
  }
  const dnmf::test::ScopedKernelThreads kernel_threads(2);
  std::vector<double> values(extent);
  EXPECT_FALSE(dnmf::io::read_deflated_range(dataset.get(), H5T_NATIVE_DOUBLE, 0, 2000,
                                             values.data(), "skipped"));
}

TEST_F(DeflatedChunks, ACorruptChunkIsAnErrorNamingTheDataset) {
  const hsize_t extent = 2 * kChunk;
  const Handle dataset = create_deflated("corrupt", extent);
  const std::vector<unsigned char> garbage(100, 0xab);
  for (const hsize_t offset : {hsize_t{0}, kChunk}) {
    ASSERT_GE(
        H5Dwrite_chunk(dataset.get(), H5P_DEFAULT, 0, &offset, garbage.size(), garbage.data()), 0);
  }
  for (const int threads : {1, 2}) {
    const dnmf::test::ScopedKernelThreads kernel_threads(threads);
    std::vector<double> values(extent);
    try {
      dnmf::io::read_deflated_range(dataset.get(), H5T_NATIVE_DOUBLE, 0, 2000, values.data(),
                                    "file.h5:/corrupt");
      ADD_FAILURE() << "no error at " << threads << " threads";
    } catch (const dnmf::IoError& error) {
      EXPECT_NE(std::string(error.what()).find("file.h5:/corrupt: the chunk at element 0"),
                std::string::npos)
          << error.what();
    }
  }
}

}  // namespace
