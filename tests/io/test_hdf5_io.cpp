// HDF5 round trips under MPI: every numeric element type (plain, chunked and gzip-compressed)
// read back in row blocks on each rank; row sets (scattered, sparse, contiguous) read back;
// parallel writes read back; an uncommitted output leaves nothing behind.

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/partition.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using dnmf::Index;

constexpr hsize_t kRows = 13;
constexpr hsize_t kCols = 7;

double value_at(hsize_t i, hsize_t j) { return static_cast<double>((i * kCols + j) % 100); }

using testing_support::scratch_directory;

struct TypeCase {
  const char* name;
  hid_t file_type;
};

/// Rank 0 writes the test matrix with the serial HDF5 API in the given type and layout.
void write_typed(const std::string& path, hid_t file_type, bool chunked_gzip) {
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[2] = {kRows, kCols};
  hid_t space = H5Screate_simple(2, dims, nullptr);
  hid_t create = H5Pcreate(H5P_DATASET_CREATE);
  if (chunked_gzip) {
    const hsize_t chunk[2] = {4, kCols};
    H5Pset_chunk(create, 2, chunk);
    H5Pset_deflate(create, 6);
  }
  hid_t dataset = H5Dcreate2(
      file, "/group/matrix", file_type, space,
      [] {
        hid_t l = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(l, 1);
        return l;
      }(),
      create, H5P_DEFAULT);
  std::vector<double> values(kRows * kCols);
  for (hsize_t i = 0; i < kRows; ++i)
    for (hsize_t j = 0; j < kCols; ++j) values[i * kCols + j] = value_at(i, j);
  H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(dataset);
  H5Pclose(create);
  H5Sclose(space);
  H5Fclose(file);
}

TEST(Hdf5Input, EveryNumericTypeReadsBackInRowBlocks) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const std::string directory = scratch_directory(world);
  const TypeCase types[] = {{"int8", H5T_STD_I8LE},      {"uint8", H5T_STD_U8LE},
                            {"int16", H5T_STD_I16LE},    {"uint16", H5T_STD_U16BE},
                            {"int32", H5T_STD_I32LE},    {"uint32", H5T_STD_U32LE},
                            {"int64", H5T_STD_I64BE},    {"uint64", H5T_STD_U64LE},
                            {"float32", H5T_IEEE_F32LE}, {"float64", H5T_IEEE_F64BE}};
  const dnmf::mpi::BlockPartition partition(kRows, world.size());
  for (const TypeCase& type : types) {
    for (const bool compressed : {false, true}) {
      const std::string path = directory + "/" + type.name + (compressed ? "-gzip" : "") + ".h5";
      if (world.is_root()) write_typed(path, type.file_type, compressed);
      world.barrier();
      const dnmf::io::InputFile file(path, world);
      const dnmf::io::DatasetInfo info = file.only_matrix();
      EXPECT_EQ(info.path, "/group/matrix");
      EXPECT_EQ(info.type, type.name);
      ASSERT_EQ(info.shape, (std::vector<std::uint64_t>{kRows, kCols}));
      const auto begin = partition.begin(world.rank());
      const auto block = file.read_rows(info, begin, partition.size(world.rank()));
      ASSERT_EQ(block.rows(), partition.size(world.rank()));
      for (Index i = 0; i < block.rows(); ++i)
        for (Index j = 0; j < block.cols(); ++j)
          EXPECT_EQ(block(i, j), value_at(static_cast<hsize_t>(begin + i), static_cast<hsize_t>(j)))
              << type.name << (compressed ? " gzip" : "") << " at " << begin + i << "," << j;
    }
  }
  world.barrier();
  if (world.is_root()) fs::remove_all(directory);
}

TEST(Hdf5Input, RowSetsReadBackScatteredDenseAndContiguous) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const std::string directory = scratch_directory(world);
  // Dense scattered rows (read as one block, the wanted rows copied out), rows far apart (read
  // one by one), a run of consecutive rows, and each rank a different set; the bad sets below
  // go through the kept-open dataset.
  const std::vector<std::vector<std::int64_t>> sets = {
      {0, 2, 3, 5, 12}, {1, 12}, {4, 5, 6, 7, 8, 9}, {world.rank() % 13}, {0, 9, 10, 11}};
  // A scattered block is read in the file's type and its rows converted after: file types
  // narrower and wider than the values read, and of the other byte order.
  const TypeCase types[] = {
      {"uint8", H5T_STD_U8LE}, {"float64", H5T_IEEE_F64BE}, {"int16", H5T_STD_I16BE}};
  const auto expect_rows = [&](const dnmf::io::InputFile& file, const dnmf::io::DatasetInfo& info,
                               const std::string& label, auto zero) {
    for (const std::vector<std::int64_t>& rows : sets) {
      std::vector<decltype(zero)> values(rows.size() * kCols, -1);
      file.read_row_set(info, rows, values.data());
      for (std::size_t i = 0; i < rows.size(); ++i)
        for (hsize_t j = 0; j < kCols; ++j)
          EXPECT_EQ(values[i * kCols + j], value_at(static_cast<hsize_t>(rows[i]), j))
              << label << " into " << sizeof(zero) << "-byte values, row " << rows[i] << ", column "
              << j;
    }
  };
  for (const TypeCase& type : types) {
    for (const bool compressed : {false, true}) {
      const std::string path = directory + "/" + type.name + (compressed ? "-gzip.h5" : ".h5");
      if (world.is_root()) write_typed(path, type.file_type, compressed);
      world.barrier();
      const dnmf::io::InputFile file(path, world);
      const dnmf::io::DatasetInfo info = file.dataset("/group/matrix");
      // Each set twice: read afresh, then again through the dataset kept open with its chunks
      // cached (keep_open, after the first pass), as a training run reads every epoch.
      for (const bool kept_open : {false, true}) {
        if (kept_open) file.keep_open(info, 1 << 20);
        const std::string label =
            std::string(type.name) + (compressed ? " gzip" : "") + (kept_open ? ", kept open" : "");
        expect_rows(file, info, label, 0.0f);
        expect_rows(file, info, label, 0.0);
      }
      if (type.file_type != H5T_STD_U8LE) continue;
      float sink[2 * kCols];
      EXPECT_THROW(file.read_row_set(info, {3, 2}, sink), dnmf::InputError);
      EXPECT_THROW(file.read_row_set(info, {2, 2}, sink), dnmf::InputError);
      EXPECT_THROW(file.read_row_set(info, {5, 13}, sink), dnmf::InputError);
      EXPECT_THROW(file.read_row_set(info, {-1}, sink), dnmf::InputError);
    }
  }
  world.barrier();
  if (world.is_root()) fs::remove_all(directory);
}

TEST(Hdf5Output, ParallelRowsAndReplicatedMatrixRoundTrip) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const std::string directory = scratch_directory(world);
  const std::string target = directory + "/out.h5";
  const dnmf::mpi::BlockPartition partition(kRows, world.size());
  const auto begin = partition.begin(world.rank());
  const auto count = partition.size(world.rank());
  dnmf::RowMatrix mine(count, kCols);
  for (Index i = 0; i < count; ++i)
    for (Index j = 0; j < static_cast<Index>(kCols); ++j)
      mine(i, j) = value_at(static_cast<hsize_t>(begin + i), static_cast<hsize_t>(j)) + 0.5;
  dnmf::RowMatrix shared = dnmf::RowMatrix::Constant(2, 3, 4.25);
  {
    dnmf::io::OutputFile out(target, world);
    out.write_rows("/rows", kRows, kCols, mine.data(), begin, count);
    out.write_matrix("/nested/shared", shared);
    out.write_vector("/vector", {1.0, 2.0, 3.0});
    out.set_attribute("text", std::string("hello"));
    out.set_attribute("number", 2.5);
    out.set_attribute("count", std::int64_t{42});
    EXPECT_FALSE(fs::exists(target)) << "nothing under the real name before commit";
    out.commit();
  }
  EXPECT_TRUE(fs::exists(target));
  const dnmf::io::InputFile file(target, world);
  const auto rows = file.read_all(file.dataset("/rows"));
  for (Index i = 0; i < rows.rows(); ++i)
    for (Index j = 0; j < rows.cols(); ++j)
      EXPECT_EQ(rows(i, j), value_at(static_cast<hsize_t>(i), static_cast<hsize_t>(j)) + 0.5);
  EXPECT_EQ(file.read_all(file.dataset("/nested/shared")), shared);
  bool found_text = false;
  for (const auto& attribute : file.attributes()) {
    if (attribute.name == "text") found_text = attribute.value == "hello";
    if (attribute.name == "count") {
      EXPECT_EQ(attribute.value, "42");
    }
  }
  EXPECT_TRUE(found_text);
  world.barrier();
  if (world.is_root()) fs::remove_all(directory);
}

TEST(Hdf5Output, UncommittedOutputLeavesNoFile) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const std::string directory = scratch_directory(world);
  {
    dnmf::io::OutputFile out(directory + "/never.h5", world);
    out.write_vector("/v", {1.0});
  }
  world.barrier();
  EXPECT_TRUE(fs::is_empty(directory)) << "the temporary file must be removed";
  world.barrier();
  if (world.is_root()) fs::remove_all(directory);
}

TEST(Hdf5Input, ABlockTooLargeForMemoryOnOneRankStopsEveryRankWithItsSize) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const std::string directory = scratch_directory(world);
  const std::string path = directory + "/huge.h5";
  constexpr hsize_t kHuge = 10000000;
  if (world.is_root()) {
    // Declared, never written: a tiny file whose 10^7 x 10^7 doubles no machine holds.
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[2] = {kHuge, kHuge}, chunk[2] = {1000, 1000};
    hid_t space = H5Screate_simple(2, dims, nullptr);
    hid_t create = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(create, 2, chunk);
    hid_t dataset = H5Dcreate2(file, "/A", H5T_IEEE_F64LE, space, H5P_DEFAULT, create, H5P_DEFAULT);
    H5Dclose(dataset);
    H5Pclose(create);
    H5Sclose(space);
    H5Fclose(file);
  }
  world.barrier();
  {
    const dnmf::io::InputFile file(path, world);
    const auto info = file.dataset("/A");
    try {
      // Only rank 0 asks for rows: the others, with nothing to allocate, must not be left
      // waiting in the collective read.
      file.read_rows(info, 0, world.is_root() ? static_cast<std::int64_t>(kHuge) : 0);
      FAIL() << "no error";
    } catch (const dnmf::InputError& error) {
      EXPECT_TRUE(error.on_all_ranks());
      EXPECT_EQ(std::string(error.what()),
                path +
                    ":/A: cannot allocate 800000000000000 bytes for its 10000000x10000000 "
                    "block (8 bytes a value)");
    }
  }
  world.barrier();
  if (world.is_root()) fs::remove_all(directory);
}

TEST(Hdf5Input, MissingDatasetNamesFileAndPath) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const std::string directory = scratch_directory(world);
  const std::string path = directory + "/x.h5";
  if (world.is_root()) write_typed(path, H5T_IEEE_F64LE, false);
  world.barrier();
  const dnmf::io::InputFile file(path, world);
  try {
    file.dataset("/nope/deeper");
    FAIL() << "no error";
  } catch (const dnmf::InputError& error) {
    EXPECT_EQ(std::string(error.what()), path + ":/nope/deeper: no such dataset");
  }
  world.barrier();
  if (world.is_root()) fs::remove_all(directory);
}

}  // namespace
