// io/hdf5_util at any rank count: the names describe_type gives each HDF5 type class and width,
// which types count as numeric, the native and file types of each C++ element type, the
// selections select_block makes (a block read back is the block of the dataset, an empty block
// selects nothing), the POSIX file access, require_success_everywhere raising one IoError on
// every rank when any rank failed, and silence_hdf5_errors.

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/hdf5_util.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using dnmf::io::Handle;
using dnmf::mpi::Communicator;

Handle type_handle(hid_t id) { return Handle(id, H5Tclose); }

TEST(Hdf5Util, NumbersAreDescribedByClassSignAndWidth) {
  const std::pair<hid_t, const char*> numbers[] = {
      {H5T_STD_I8LE, "int8"},      {H5T_STD_U8BE, "uint8"},        {H5T_STD_I16BE, "int16"},
      {H5T_STD_U16LE, "uint16"},   {H5T_STD_I32LE, "int32"},       {H5T_STD_U32BE, "uint32"},
      {H5T_STD_I64BE, "int64"},    {H5T_STD_U64LE, "uint64"},      {H5T_IEEE_F32BE, "float32"},
      {H5T_IEEE_F64LE, "float64"}, {H5T_NATIVE_DOUBLE, "float64"}, {H5T_NATIVE_UINT8, "uint8"}};
  for (const auto& [type, name] : numbers) {
    EXPECT_EQ(dnmf::io::describe_type(type), name);
    EXPECT_TRUE(dnmf::io::is_numeric_type(type)) << name;
  }
}

TEST(Hdf5Util, OtherClassesAreNamedAndAreNotNumeric) {
  const Handle text = type_handle(H5Tcopy(H5T_C_S1));
  H5Tset_size(text.get(), 12);
  const Handle variable = type_handle(H5Tcopy(H5T_C_S1));
  H5Tset_size(variable.get(), H5T_VARIABLE);
  const Handle compound = type_handle(H5Tcreate(H5T_COMPOUND, 8));
  H5Tinsert(compound.get(), "x", 0, H5T_NATIVE_DOUBLE);
  const Handle enumeration = type_handle(H5Tenum_create(H5T_NATIVE_INT));
  int zero = 0;
  H5Tenum_insert(enumeration.get(), "zero", &zero);
  const hsize_t three[1] = {3};
  const Handle array = type_handle(H5Tarray_create2(H5T_NATIVE_FLOAT, 1, three));
  const Handle opaque = type_handle(H5Tcreate(H5T_OPAQUE, 4));
  const Handle sequence = type_handle(H5Tvlen_create(H5T_NATIVE_INT));
  const std::pair<hid_t, const char*> others[] = {{text.get(), "string"},
                                                  {variable.get(), "string"},
                                                  {compound.get(), "compound"},
                                                  {enumeration.get(), "enum"},
                                                  {array.get(), "array"},
                                                  {H5T_STD_B8LE, "bitfield"},
                                                  {opaque.get(), "opaque"},
                                                  {H5T_STD_REF_OBJ, "reference"},
                                                  {sequence.get(), "variable-length"}};
  for (const auto& [type, name] : others) {
    EXPECT_EQ(dnmf::io::describe_type(type), name);
    EXPECT_FALSE(dnmf::io::is_numeric_type(type)) << name;
  }
}

TEST(Hdf5Util, ABooleanEnumIsNumeric) {
  // numpy's bool as h5py writes it: an int8 enum FALSE = 0, TRUE = 1.
  const Handle boolean = type_handle(H5Tenum_create(H5T_NATIVE_INT8));
  const std::int8_t no = 0, yes = 1, two = 2;
  H5Tenum_insert(boolean.get(), "FALSE", &no);
  H5Tenum_insert(boolean.get(), "TRUE", &yes);
  EXPECT_EQ(dnmf::io::describe_type(boolean.get()), "bool");
  EXPECT_TRUE(dnmf::io::is_numeric_type(boolean.get()));
  const Handle other = type_handle(H5Tenum_create(H5T_NATIVE_INT8));
  H5Tenum_insert(other.get(), "FALSE", &no);
  H5Tenum_insert(other.get(), "MAYBE", &two);
  EXPECT_EQ(dnmf::io::describe_type(other.get()), "enum");
  EXPECT_FALSE(dnmf::io::is_numeric_type(other.get()));
}

template <class T>
void expect_types(hid_t native, hid_t file_class_type, std::size_t bytes) {
  EXPECT_GT(H5Tequal(dnmf::io::native_type<T>(), native), 0);
  const hid_t file = dnmf::io::file_type<T>();
  EXPECT_GT(H5Tequal(file, file_class_type), 0);
  EXPECT_EQ(H5Tget_size(file), bytes);
  EXPECT_EQ(H5Tget_size(dnmf::io::native_type<T>()), sizeof(T));
  if (bytes > 1) {
    EXPECT_EQ(H5Tget_order(file), H5T_ORDER_LE);
  }
}

TEST(Hdf5Util, EachElementTypeHasItsNativeAndLittleEndianFileType) {
  expect_types<float>(H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 4);
  expect_types<double>(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 8);
  expect_types<std::int64_t>(H5T_NATIVE_INT64, H5T_STD_I64LE, 8);
  expect_types<std::uint8_t>(H5T_NATIVE_UINT8, H5T_STD_U8LE, 1);
  EXPECT_EQ(H5Tget_sign(dnmf::io::file_type<std::uint8_t>()), H5T_SGN_NONE);
  EXPECT_EQ(H5Tget_sign(dnmf::io::file_type<std::int64_t>()), H5T_SGN_2);
}

TEST(Hdf5Util, TheFileAccessIsPosixWithBestEffortLocking) {
  const Handle access = dnmf::io::posix_file_access();
  ASSERT_TRUE(access.valid());
  EXPECT_EQ(H5Pget_driver(access.get()), H5FD_SEC2);
  hbool_t use_locking = false, ignore_when_disabled = false;
  ASSERT_GE(H5Pget_file_locking(access.get(), &use_locking, &ignore_when_disabled), 0);
  EXPECT_TRUE(use_locking);
  EXPECT_TRUE(ignore_when_disabled);
}

TEST(Hdf5Util, ABlockSelectionReadsTheBlockOfTheDataset) {
  Communicator world = Communicator::world();
  const std::string directory = testing_support::scratch_directory(world);
  const std::string path = directory + "/grid.h5";
  constexpr hsize_t kRows = 6, kCols = 5;
  const auto at = [](hsize_t i, hsize_t j) { return static_cast<double>(10 * i + j); };
  if (world.is_root()) {
    std::vector<double> values;
    for (hsize_t i = 0; i < kRows; ++i)
      for (hsize_t j = 0; j < kCols; ++j) values.push_back(at(i, j));
    const Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    const hsize_t dims[2] = {kRows, kCols};
    const Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
    const Handle set(H5Dcreate2(file.get(), "/grid", H5T_IEEE_F64LE, space.get(), H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT),
                     H5Dclose);
    H5Dwrite(set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  }
  world.barrier();
  {
    const Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, dnmf::io::posix_file_access().get()),
                      H5Fclose);
    ASSERT_TRUE(file.valid());
    const Handle set(H5Dopen2(file.get(), "/grid", H5P_DEFAULT), H5Dclose);
    // Each rank its own block: rows [r % 4, r % 4 + 2), columns [1, 4).
    const hsize_t row = static_cast<hsize_t>(world.rank() % 4);
    const Handle file_space(H5Dget_space(set.get()), H5Sclose);
    const Handle memory =
        dnmf::io::select_block(file_space.get(), {row, 1}, std::vector<hsize_t>{2, 3});
    EXPECT_EQ(H5Sget_select_npoints(file_space.get()), 6);
    EXPECT_EQ(H5Sget_simple_extent_npoints(memory.get()), 6);
    EXPECT_EQ(H5Sget_simple_extent_ndims(memory.get()), 1);
    hsize_t low[2], high[2];
    ASSERT_GE(H5Sget_select_bounds(file_space.get(), low, high), 0);
    EXPECT_EQ(low[0], row);
    EXPECT_EQ(high[0], row + 1);
    EXPECT_EQ(low[1], 1u);
    EXPECT_EQ(high[1], 3u);
    std::vector<double> block(6, -1);
    ASSERT_GE(H5Dread(set.get(), H5T_NATIVE_DOUBLE, memory.get(), file_space.get(), H5P_DEFAULT,
                      block.data()),
              0);
    for (hsize_t i = 0; i < 2; ++i)
      for (hsize_t j = 0; j < 3; ++j) EXPECT_EQ(block[i * 3 + j], at(row + i, 1 + j));
    // An empty block selects nothing, in the file and in memory, and reads nothing.
    const Handle empty_space(H5Dget_space(set.get()), H5Sclose);
    const Handle empty = dnmf::io::select_block(empty_space.get(), {kRows, 0}, {0, kCols});
    EXPECT_EQ(H5Sget_select_npoints(empty_space.get()), 0);
    EXPECT_EQ(H5Sget_select_npoints(empty.get()), 0);
    double untouched = -1;
    EXPECT_GE(H5Dread(set.get(), H5T_NATIVE_DOUBLE, empty.get(), empty_space.get(), H5P_DEFAULT,
                      &untouched),
              0);
    EXPECT_EQ(untouched, -1);
  }
  world.barrier();
  if (world.is_root()) fs::remove_all(directory);
}

TEST(Hdf5Util, SuccessEverywhereReturnsOnEveryRank) {
  Communicator world = Communicator::world();
  EXPECT_NO_THROW(dnmf::io::require_success_everywhere(0, world, "never"));
  EXPECT_NO_THROW(dnmf::io::require_success_everywhere(world.rank(), world, "never"));
}

TEST(Hdf5Util, AFailureOnOneRankIsOneIoErrorOnEveryRank) {
  Communicator world = Communicator::world();
  for (int failing = 0; failing < world.size(); ++failing) {
    const herr_t status = world.rank() == failing ? -1 : 0;
    try {
      dnmf::io::require_success_everywhere(status, world, "out.h5: closing failed");
      FAIL() << "no error with rank " << failing << " failing";
    } catch (const dnmf::IoError& error) {
      EXPECT_EQ(std::string(error.what()), "out.h5: closing failed");
      EXPECT_TRUE(error.on_all_ranks());
    }
  }
  // The ranks still meet in the next collective.
  EXPECT_EQ(world.sum(1), world.size());
}

TEST(Hdf5Util, SilencedHdf5PrintsNoErrorStack) {
  dnmf::io::silence_hdf5_errors();
  H5E_auto2_t function = nullptr;
  void* data = nullptr;
  ASSERT_GE(H5Eget_auto2(H5E_DEFAULT, &function, &data), 0);
  EXPECT_EQ(function, nullptr);
  // A failing call now only returns its error.
  testing::internal::CaptureStderr();
  EXPECT_LT(H5Fopen("/nonexistent-dir/none.h5", H5F_ACC_RDONLY, H5P_DEFAULT), 0);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
