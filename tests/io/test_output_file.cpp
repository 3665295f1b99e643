// io/output_file at any rank count, read back with the HDF5 C API: rows written by every rank
// (more ranks than rows included) in float64 and float32, replicated matrices, vectors and
// arrays of each element type and rank (scalars and empty ones included), root attributes of
// each kind; the hidden temporary file beside the target until commit and nothing else after;
// a directory that does not exist is one IoError on every rank.

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/partition.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using dnmf::Index;
using dnmf::mpi::BlockPartition;
using dnmf::mpi::Communicator;

double at(std::int64_t i, std::int64_t j) { return static_cast<double>(100 * i + j) + 0.25; }

/// A dataset of a written file as HDF5 itself reads it: its file type, shape and values.
template <class T>
struct Stored {
  bool same_type = false;
  std::vector<hsize_t> shape;
  std::vector<T> values;
};

template <class T>
Stored<T> stored(const std::string& path, const std::string& name, hid_t expected_type,
                 hid_t memory_type) {
  Stored<T> result;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(file, 0) << path;
  if (file < 0) return result;
  const hid_t set = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  EXPECT_GE(set, 0) << name;
  if (set >= 0) {
    const hid_t type = H5Dget_type(set);
    result.same_type = H5Tequal(type, expected_type) > 0;
    H5Tclose(type);
    const hid_t space = H5Dget_space(set);
    result.shape.resize(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, result.shape.data(), nullptr);
    result.values.resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    if (!result.values.empty())
      H5Dread(set, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, result.values.data());
    H5Sclose(space);
    H5Dclose(set);
  }
  H5Fclose(file);
  return result;
}

class OutputFileTest : public testing::Test {
 protected:
  void SetUp() override { directory_ = testing_support::scratch_directory(world_); }
  void TearDown() override {
    world_.barrier();
    if (world_.is_root()) fs::remove_all(directory_);
  }

  Communicator world_ = Communicator::world();
  std::string directory_;
};

TEST_F(OutputFileTest, EveryRanksRowsLandInPlaceInDoubleAndFloat) {
  const std::string target = directory_ + "/rows.h5";
  // 3 rows leave a rank without rows at 4 ranks; 17 rows split unevenly.
  for (const std::int64_t rows : {3, 17}) {
    constexpr std::int64_t kCols = 5;
    const BlockPartition partition(rows, world_.size());
    const auto begin = partition.begin(world_.rank()), count = partition.size(world_.rank());
    std::vector<double> mine;
    std::vector<float> single;
    for (std::int64_t i = begin; i < begin + count; ++i) {
      for (std::int64_t j = 0; j < kCols; ++j) {
        mine.push_back(at(i, j));
        single.push_back(static_cast<float>(at(i, j)));
      }
    }
    {
      dnmf::io::OutputFile out(target, world_, dnmf::io::IfExists::Replace);
      out.write_rows("/double", rows, kCols, mine.data(), begin, count);
      out.write_rows("/nested/group/single", rows, kCols, single.data(), begin, count);
      out.commit();
    }
    if (world_.is_root()) {
      const auto d = stored<double>(target, "/double", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
      const auto f =
          stored<float>(target, "/nested/group/single", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
      EXPECT_TRUE(d.same_type);
      EXPECT_TRUE(f.same_type);
      const std::vector<hsize_t> shape = {static_cast<hsize_t>(rows), kCols};
      EXPECT_EQ(d.shape, shape);
      EXPECT_EQ(f.shape, shape);
      ASSERT_EQ(d.values.size(), static_cast<std::size_t>(rows * kCols));
      ASSERT_EQ(f.values.size(), d.values.size());
      for (std::int64_t i = 0; i < rows; ++i) {
        for (std::int64_t j = 0; j < kCols; ++j) {
          const auto k = static_cast<std::size_t>(i * kCols + j);
          EXPECT_EQ(d.values[k], at(i, j)) << rows << " rows, at " << i << "," << j;
          EXPECT_EQ(f.values[k], static_cast<float>(at(i, j)));
        }
      }
    }
    world_.barrier();
  }
}

TEST_F(OutputFileTest, ReplicatedMatricesVectorsAndArraysAreRank0sCopy) {
  const std::string target = directory_ + "/arrays.h5";
  // Every rank holds the same values except where noted: rank 0's copy is what is written.
  dnmf::RowMatrixT<float> matrix(2, 3);
  matrix << 1, 2, 3, 4, 5, 6;
  const std::vector<std::uint8_t> bytes = {0, 1, 127, 128, 255, 7, 8, 9, 10, 11, 12, 13};
  const std::vector<std::int64_t> integers = {-(std::int64_t{1} << 62), -1, 0,
                                              (std::int64_t{1} << 62) + 1};
  const std::vector<double> cube = [&] {
    std::vector<double> v;
    for (int i = 0; i < 24; ++i) v.push_back(0.5 * i + (world_.is_root() ? 0 : 1000));
    return v;
  }();
  const double scalar = 2.75;
  {
    dnmf::io::OutputFile out(target, world_);
    out.write_matrix("/matrix", matrix);
    out.write_vector("/vector", {3.0, 1.0, 4.0, 1.0, 5.0});
    out.write_vector("/empty_vector", {});
    out.write_array("/images", {3, 2, 2}, bytes.data());
    out.write_array("/integers", {4}, integers.data());
    out.write_array("/cube", {2, 3, 4}, cube.data());
    out.write_array("/none", {0, 4}, cube.data());
    out.write_array("/scalar", {}, &scalar);
    out.commit();
  }
  if (world_.is_root()) {
    const auto m = stored<float>(target, "/matrix", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT);
    EXPECT_TRUE(m.same_type);
    EXPECT_EQ(m.shape, (std::vector<hsize_t>{2, 3}));
    EXPECT_EQ(m.values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
    const auto v = stored<double>(target, "/vector", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    EXPECT_TRUE(v.same_type);
    EXPECT_EQ(v.values, (std::vector<double>{3, 1, 4, 1, 5}));
    const auto e = stored<double>(target, "/empty_vector", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    EXPECT_EQ(e.shape, std::vector<hsize_t>{0});
    const auto b = stored<std::uint8_t>(target, "/images", H5T_STD_U8LE, H5T_NATIVE_UINT8);
    EXPECT_TRUE(b.same_type);
    EXPECT_EQ(b.shape, (std::vector<hsize_t>{3, 2, 2}));
    EXPECT_EQ(b.values, bytes);
    const auto n = stored<std::int64_t>(target, "/integers", H5T_STD_I64LE, H5T_NATIVE_INT64);
    EXPECT_TRUE(n.same_type);
    EXPECT_EQ(n.values, integers);
    const auto c = stored<double>(target, "/cube", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    EXPECT_EQ(c.shape, (std::vector<hsize_t>{2, 3, 4}));
    EXPECT_EQ(c.values, cube);
    const auto z = stored<double>(target, "/none", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    EXPECT_EQ(z.shape, (std::vector<hsize_t>{0, 4}));
    const auto s = stored<double>(target, "/scalar", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
    EXPECT_TRUE(s.shape.empty()) << "a scalar dataset";
    EXPECT_EQ(s.values, std::vector<double>{scalar});
  }
}

TEST_F(OutputFileTest, RootAttributesOfEachKind) {
  const std::string target = directory_ + "/attributes.h5";
  {
    dnmf::io::OutputFile out(target, world_);
    out.set_attribute("text", std::string("naïve – UTF-8"));
    out.set_attribute("empty", std::string());
    out.set_attribute("number", -0.125);
    out.set_attribute("count", std::int64_t{1} << 60);
    out.commit();
  }
  if (world_.is_root()) {
    const hid_t file = H5Fopen(target.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    const auto text = [&](const char* name) {
      const hid_t attribute = H5Aopen(file, name, H5P_DEFAULT);
      const hid_t type = H5Aget_type(attribute);
      EXPECT_GT(H5Tis_variable_str(type), 0) << name;
      EXPECT_EQ(H5Tget_cset(type), H5T_CSET_UTF8) << name;
      char* value = nullptr;
      H5Aread(attribute, type, &value);
      const std::string result = value ? value : "(null)";
      H5free_memory(value);
      H5Tclose(type);
      H5Aclose(attribute);
      return result;
    };
    EXPECT_EQ(text("text"), "naïve – UTF-8");
    EXPECT_EQ(text("empty"), "");
    const hid_t number = H5Aopen(file, "number", H5P_DEFAULT);
    const hid_t number_type = H5Aget_type(number);
    EXPECT_GT(H5Tequal(number_type, H5T_IEEE_F64LE), 0);
    double value = 0;
    H5Aread(number, H5T_NATIVE_DOUBLE, &value);
    EXPECT_EQ(value, -0.125);
    H5Tclose(number_type);
    H5Aclose(number);
    const hid_t count = H5Aopen(file, "count", H5P_DEFAULT);
    const hid_t count_type = H5Aget_type(count);
    EXPECT_GT(H5Tequal(count_type, H5T_STD_I64LE), 0);
    std::int64_t integer = 0;
    H5Aread(count, H5T_NATIVE_INT64, &integer);
    EXPECT_EQ(integer, std::int64_t{1} << 60);
    H5Tclose(count_type);
    H5Aclose(count);
    H5Fclose(file);
  }
}

TEST_F(OutputFileTest, AHiddenTemporaryBesideTheTargetUntilCommit) {
  const std::string target = directory_ + "/result.h5";
  std::string pid = std::to_string(getpid());
  world_.broadcast(pid, 0);
  {
    dnmf::io::OutputFile out(target, world_);
    out.write_vector("/v", {1.0});
    world_.barrier();
    std::vector<std::string> names;
    for (const auto& item : fs::directory_iterator(directory_))
      names.push_back(item.path().filename());
    EXPECT_EQ(names, std::vector<std::string>{".result.h5.tmp-" + pid}) << "rank 0's process id";
    world_.barrier();
    out.commit();
  }
  std::vector<std::string> names;
  for (const auto& item : fs::directory_iterator(directory_))
    names.push_back(item.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"result.h5"});
}

TEST_F(OutputFileTest, AMissingDirectoryIsOneIoErrorOnEveryRank) {
  const std::string target = directory_ + "/no/such/dir/out.h5";
  try {
    dnmf::io::OutputFile out(target, world_);
    FAIL() << "no error";
  } catch (const dnmf::IoError& error) {
    EXPECT_EQ(std::string(error.what()), target + ": cannot create the output file");
    EXPECT_TRUE(error.on_all_ranks());
  }
  EXPECT_TRUE(fs::is_empty(directory_));
}

}  // namespace
