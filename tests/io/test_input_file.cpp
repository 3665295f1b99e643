// io/input_file at any rank count, on files written here with the HDF5 C API: opening (a
// missing file, a directory, a file that is not HDF5: one IoError on every rank), the listing of
// datasets with shape, type and kind, dataset() and only_matrix() with their errors, column
// blocks, whole matrices, arrays and ranges against the values written, root and object
// attributes as text, strings and numbers, is_group, and the helpers that name a dataset, a
// shape and the bytes of a block.

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/partition.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using dnmf::Index;
using dnmf::mpi::BlockPartition;
using dnmf::mpi::Communicator;

constexpr hsize_t kRows = 5, kCols = 6;
double matrix_at(hsize_t i, hsize_t j) { return static_cast<double>(10 * i + j) + 0.5; }

/// HDF5 objects of a file being written by rank 0, closed at the end.
class Writer {
 public:
  explicit Writer(const std::string& path)
      : file_(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) {
    links_ = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(links_, 1);
  }
  ~Writer() {
    H5Pclose(links_);
    H5Fclose(file_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void group(const std::string& path) {
    H5Gclose(H5Gcreate2(file_, path.c_str(), links_, H5P_DEFAULT, H5P_DEFAULT));
  }
  /// A dataset of `dims` (none: a scalar) in `file_type` from doubles.
  void dataset(const std::string& path, hid_t file_type, const std::vector<double>& values,
               const std::vector<hsize_t>& dims) {
    const hid_t space = dims.empty()
                            ? H5Screate(H5S_SCALAR)
                            : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t set =
        H5Dcreate2(file_, path.c_str(), file_type, space, links_, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    H5Dclose(set);
    H5Sclose(space);
  }
  void text_dataset(const std::string& path) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 4);
    const hsize_t dims[1] = {2};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t set =
        H5Dcreate2(file_, path.c_str(), type, space, links_, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, "abcdefgh");
    H5Dclose(set);
    H5Sclose(space);
    H5Tclose(type);
  }
  void text_attribute(const std::string& object, const std::string& name, const std::string& value,
                      bool variable_length) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, variable_length ? H5T_VARIABLE : value.size());
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate_by_name(file_, object.c_str(), name.c_str(), type, space,
                                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char* pointer = value.c_str();
    H5Awrite(attribute, type, variable_length ? static_cast<const void*>(&pointer) : pointer);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
  }
  /// A number attribute of `values` (one: a scalar) stored as `file_type`, given as memory_type.
  void number_attribute(const std::string& object, const std::string& name, hid_t file_type,
                        hid_t memory_type, const void* values, hsize_t count) {
    const hid_t space = count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr);
    const hid_t attribute = H5Acreate_by_name(file_, object.c_str(), name.c_str(), file_type, space,
                                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, memory_type, values);
    H5Aclose(attribute);
    H5Sclose(space);
  }

 private:
  hid_t file_;
  hid_t links_;
};

constexpr std::int64_t kSeed = 1234567890123;  // 13 digits, exact in int64 and double
constexpr std::uint64_t kBeyondDouble = (std::uint64_t{1} << 60) + 1;

void write_contents(Writer& w) {
  std::vector<double> matrix;
  for (hsize_t i = 0; i < kRows; ++i)
    for (hsize_t j = 0; j < kCols; ++j) matrix.push_back(matrix_at(i, j));
  w.dataset("/m", H5T_IEEE_F64LE, matrix, {kRows, kCols});
  w.dataset("/grp/v", H5T_STD_U8LE, {9, 8, 7, 6, 5, 4, 3}, {7});
  w.dataset("/grp/sub/cube", H5T_STD_I16BE, std::vector<double>(24, -3), {2, 3, 4});
  w.dataset("/scalar", H5T_IEEE_F32LE, {2.5}, {});
  w.text_dataset("/names");
  w.group("/empty");
  w.text_attribute("/", "title", "a test file", true);
  w.text_attribute("/", "fixed", "abc", false);
  const double pi = 3.25;
  w.number_attribute("/", "pi", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &pi, 1);
  w.number_attribute("/", "seed", H5T_STD_I64LE, H5T_NATIVE_INT64, &kSeed, 1);
  w.number_attribute("/", "huge", H5T_STD_U64LE, H5T_NATIVE_UINT64, &kBeyondDouble, 1);
  const std::int64_t negative = -42;
  w.number_attribute("/", "negative", H5T_STD_I32LE, H5T_NATIVE_INT64, &negative, 1);
  const std::int32_t list[3] = {1, 2, 3};
  w.number_attribute("/", "list", H5T_STD_I32LE, H5T_NATIVE_INT32, list, 3);
  w.text_attribute("/grp", "kind", "group attribute", true);
  const double dims[2] = {7, 1};
  w.number_attribute("/grp", "dims", H5T_IEEE_F32LE, H5T_NATIVE_DOUBLE, dims, 2);
}

class InputFileTest : public testing::Test {
 protected:
  void SetUp() override {
    directory_ = testing_support::scratch_directory(world_);
    path_ = directory_ + "/contents.h5";
    if (world_.is_root()) {
      Writer writer(path_);
      write_contents(writer);
    }
    world_.barrier();
  }
  void TearDown() override {
    world_.barrier();
    if (world_.is_root()) fs::remove_all(directory_);
  }

  /// The message of the InputError `read` raises, or a note that none came.
  template <class Read>
  static std::string input_error(Read read) {
    try {
      read();
    } catch (const dnmf::InputError& error) {
      return error.what();
    }
    return "no InputError";
  }

  Communicator world_ = Communicator::world();
  std::string directory_;
  std::string path_;
};

TEST_F(InputFileTest, AFileThatCannotBeOpenedIsOneIoErrorOnEveryRank) {
  const std::string text = directory_ + "/notes.txt";
  if (world_.is_root()) std::ofstream(text) << "not HDF5\n";
  world_.barrier();
  const std::pair<std::string, std::string> cases[] = {
      {directory_ + "/missing.h5", directory_ + "/missing.h5: no such file"},
      {directory_, directory_ + ": is a directory"},
      {text, text + ": not an HDF5 file (or not readable)"}};
  for (const auto& [path, message] : cases) {
    try {
      const dnmf::io::InputFile file(path, world_);
      ADD_FAILURE() << path << ": no error";
    } catch (const dnmf::IoError& error) {
      EXPECT_EQ(std::string(error.what()), message);
      EXPECT_TRUE(error.on_all_ranks());
    }
  }
}

TEST_F(InputFileTest, EveryDatasetIsListedWithShapeTypeAndKind) {
  const dnmf::io::InputFile file(path_, world_);
  EXPECT_EQ(file.path(), path_);
  struct Row {
    std::string path;
    std::vector<std::uint64_t> shape;
    std::string type;
    bool numeric;
  };
  const Row expected[] = {{"/grp/sub/cube", {2, 3, 4}, "int16", true},
                          {"/grp/v", {7}, "uint8", true},
                          {"/m", {kRows, kCols}, "float64", true},
                          {"/names", {2}, "string", false},
                          {"/scalar", {}, "float32", true}};
  const std::vector<dnmf::io::DatasetInfo> listed = file.datasets();
  ASSERT_EQ(listed.size(), std::size(expected));
  for (std::size_t i = 0; i < listed.size(); ++i) {
    EXPECT_EQ(listed[i].path, expected[i].path);
    EXPECT_EQ(listed[i].shape, expected[i].shape) << expected[i].path;
    EXPECT_EQ(listed[i].type, expected[i].type) << expected[i].path;
    EXPECT_EQ(listed[i].numeric, expected[i].numeric) << expected[i].path;
  }
}

TEST_F(InputFileTest, ADatasetIsFoundByItsPathAndAnythingElseIsNamed) {
  const dnmf::io::InputFile file(path_, world_);
  EXPECT_EQ(file.dataset("grp/v").path, "/grp/v") << "a relative path is from the root";
  EXPECT_EQ(file.dataset("/grp/sub/cube").shape, (std::vector<std::uint64_t>{2, 3, 4}));
  EXPECT_EQ(input_error([&] { file.dataset("/grp"); }),
            path_ + ":/grp: not a dataset (a group or other object)");
  EXPECT_EQ(input_error([&] { file.dataset("/"); }),
            path_ + ":/: not a dataset (a group or other object)");
  EXPECT_EQ(input_error([&] { file.dataset("/grp/none"); }), path_ + ":/grp/none: no such dataset");
  EXPECT_EQ(input_error([&] { file.dataset("/no/such/group"); }),
            path_ + ":/no/such/group: no such dataset");
}

TEST_F(InputFileTest, OnlyMatrixIsTheOneTwoDimensionalNumericDataset) {
  const dnmf::io::InputFile file(path_, world_);
  EXPECT_EQ(file.only_matrix().path, "/m");
  const std::string several = directory_ + "/several.h5", none = directory_ + "/none.h5",
                    empty = directory_ + "/empty.h5";
  if (world_.is_root()) {
    {
      Writer w(several);
      w.dataset("/b", H5T_STD_I32LE, {1, 2, 3, 4}, {2, 2});
      w.dataset("/a/c", H5T_IEEE_F32LE, {1, 2}, {1, 2});
    }
    {
      Writer w(none);
      w.dataset("/v", H5T_IEEE_F64LE, {1, 2, 3}, {3});
      w.text_dataset("/t");
    }
    { Writer w(empty); }
  }
  world_.barrier();
  EXPECT_EQ(input_error([&] { dnmf::io::InputFile(several, world_).only_matrix(); }),
            several + ": several 2-D numeric datasets, choose one with --dataset: /a/c /b");
  EXPECT_EQ(input_error([&] { dnmf::io::InputFile(none, world_).only_matrix(); }),
            none + ": no 2-D numeric dataset in the file; it holds: /t (2 string) /v (3 float64)");
  EXPECT_EQ(input_error([&] { dnmf::io::InputFile(empty, world_).only_matrix(); }),
            empty + ": no 2-D numeric dataset in the file; it holds: nothing");
}

TEST_F(InputFileTest, ColumnBlocksAndWholeMatricesAreTheValuesWritten) {
  const dnmf::io::InputFile file(path_, world_);
  const dnmf::io::DatasetInfo info = file.dataset("/m");
  const BlockPartition columns(kCols, world_.size());
  const auto begin = columns.begin(world_.rank()), count = columns.size(world_.rank());
  const dnmf::RowMatrix block = file.read_columns(info, begin, count);
  const dnmf::RowMatrixT<float> single = file.read_columns<float>(info, begin, count);
  ASSERT_EQ(block.rows(), static_cast<Index>(kRows));
  ASSERT_EQ(block.cols(), count);
  ASSERT_EQ(single.cols(), count);
  for (Index i = 0; i < block.rows(); ++i) {
    for (Index j = 0; j < count; ++j) {
      const double expected = matrix_at(static_cast<hsize_t>(i), static_cast<hsize_t>(begin + j));
      EXPECT_EQ(block(i, j), expected);
      EXPECT_EQ(single(i, j), static_cast<float>(expected));
    }
  }
  const dnmf::RowMatrixT<float> all = file.read_all<float>(info);
  ASSERT_EQ(all.rows(), static_cast<Index>(kRows));
  ASSERT_EQ(all.cols(), static_cast<Index>(kCols));
  for (Index i = 0; i < all.rows(); ++i)
    for (Index j = 0; j < all.cols(); ++j)
      EXPECT_EQ(all(i, j),
                static_cast<float>(matrix_at(static_cast<hsize_t>(i), static_cast<hsize_t>(j))));
}

TEST_F(InputFileTest, ArraysAndRangesAreTheValuesWrittenInAnyElementType) {
  const dnmf::io::InputFile file(path_, world_);
  const dnmf::io::DatasetInfo v = file.dataset("/grp/v");
  EXPECT_EQ(file.read_array<std::uint8_t>(v), (std::vector<std::uint8_t>{9, 8, 7, 6, 5, 4, 3}));
  EXPECT_EQ(file.read_array<double>(v), (std::vector<double>{9, 8, 7, 6, 5, 4, 3}));
  EXPECT_EQ(file.read_array<std::int64_t>(file.dataset("/grp/sub/cube")),
            std::vector<std::int64_t>(24, -3));
  EXPECT_EQ(file.read_array<float>(file.dataset("/scalar")), std::vector<float>{2.5f});
  // Each rank its own range; a range of nothing writes nothing.
  const std::int64_t begin = world_.rank() % 4, count = 7 - begin - world_.rank() % 3;
  std::vector<std::int64_t> range(static_cast<std::size_t>(count) + 1, -1);
  file.read_range(v, begin, count, range.data());
  for (std::int64_t i = 0; i < count; ++i)
    EXPECT_EQ(range[static_cast<std::size_t>(i)], 9 - begin - i);
  EXPECT_EQ(range.back(), -1);
  double untouched = -1;
  file.read_range(v, 7, 0, &untouched);
  EXPECT_EQ(untouched, -1);
  EXPECT_THROW(file.read_range(v, 5, 3, range.data()), dnmf::IoError) << "past the end";
}

TEST_F(InputFileTest, RootAttributesAsStringsAndNumbers) {
  const dnmf::io::InputFile file(path_, world_);
  EXPECT_EQ(file.string_attribute("title"), "a test file");
  EXPECT_EQ(file.string_attribute("fixed"), "abc");
  EXPECT_EQ(file.number_attribute("pi"), 3.25);
  EXPECT_EQ(file.number_attribute("negative"), -42.0);
  EXPECT_EQ(file.integer_attribute("seed"), kSeed);
  EXPECT_EQ(file.integer_attribute("negative"), -42);
  EXPECT_EQ(input_error([&] { file.string_attribute("absent"); }),
            path_ + ": no attribute absent (expected a string)");
  EXPECT_EQ(input_error([&] { file.number_attribute("absent"); }),
            path_ + ": no attribute absent (expected a number)");
  EXPECT_EQ(input_error([&] { file.string_attribute("pi"); }),
            path_ + ": attribute pi is not a string");
  EXPECT_EQ(input_error([&] { file.number_attribute("title"); }),
            path_ + ": attribute title is not a number");
  EXPECT_EQ(input_error([&] { file.integer_attribute("fixed"); }),
            path_ + ": attribute fixed is not a number");
  EXPECT_EQ(input_error([&] { file.number_attribute("list"); }),
            path_ + ": attribute list is not a single number");
  EXPECT_EQ(input_error([&] { file.integer_attribute("list"); }),
            path_ + ": attribute list is not a single integer");
}

TEST_F(InputFileTest, EveryRootAttributeIsRenderedAsText) {
  const dnmf::io::InputFile file(path_, world_);
  const std::vector<dnmf::io::AttributeText> attributes = file.attributes();
  const std::pair<const char*, std::string> expected[] = {
      {"fixed", "abc"},        {"huge", std::to_string(kBeyondDouble)},
      {"list", "1, 2, 3"},     {"negative", "-42"},
      {"pi", "3.25"},          {"seed", std::to_string(kSeed)},
      {"title", "a test file"}};
  ASSERT_EQ(attributes.size(), std::size(expected));
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    EXPECT_EQ(attributes[i].name, expected[i].first);
    EXPECT_EQ(attributes[i].value, expected[i].second) << expected[i].first;
  }
}

TEST_F(InputFileTest, GroupsAndTheAttributesOfAnyObject) {
  const dnmf::io::InputFile file(path_, world_);
  for (const char* group : {"/", "/grp", "/grp/sub", "/empty"})
    EXPECT_TRUE(file.is_group(group)) << group;
  for (const char* other : {"/m", "/grp/v", "/none", "/none/deeper"})
    EXPECT_FALSE(file.is_group(other)) << other;
  EXPECT_EQ(file.object_string_attribute("/grp", "kind"),
            std::optional<std::string>("group attribute"));
  EXPECT_EQ(file.object_string_attribute("/", "title"), std::optional<std::string>("a test file"));
  EXPECT_EQ(file.object_number_attribute("/grp", "dims"),
            std::optional<std::vector<double>>(std::vector<double>{7, 1}));
  EXPECT_EQ(file.object_number_attribute("/", "pi"),
            std::optional<std::vector<double>>(std::vector<double>{3.25}));
  // Of the other kind, missing, or on a missing object: nothing.
  EXPECT_FALSE(file.object_string_attribute("/grp", "dims").has_value());
  EXPECT_FALSE(file.object_number_attribute("/grp", "kind").has_value());
  EXPECT_FALSE(file.object_string_attribute("/grp", "absent").has_value());
  EXPECT_FALSE(file.object_number_attribute("/m", "absent").has_value());
  EXPECT_FALSE(file.object_string_attribute("/none/deeper", "kind").has_value());
}

TEST(InputFileHelpers, NamesOfDatasetsShapesAndBlocks) {
  EXPECT_EQ(dnmf::io::where("f.h5", "/a/b"), "f.h5:/a/b");
  EXPECT_EQ(dnmf::io::shape_text({}), "a scalar");
  EXPECT_EQ(dnmf::io::shape_text({7}), "7");
  EXPECT_EQ(dnmf::io::shape_text({3, 4, 5}), "3x4x5");
  EXPECT_EQ(dnmf::io::bytes_for("f.h5:/a", {3, 4}, 8), 96u);
  EXPECT_EQ(dnmf::io::bytes_for("f.h5:/a", {3, 0, 4}, 8), 0u);
  EXPECT_EQ(dnmf::io::bytes_for("f.h5:/a", {}, 4), 4u) << "a scalar is one value";
  try {
    dnmf::io::bytes_for("f.h5:/a", {std::uint64_t{1} << 32, std::uint64_t{1} << 32}, 2);
    FAIL() << "no error";
  } catch (const dnmf::InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              "f.h5:/a: cannot allocate 36893488147419103232 bytes for its 4294967296x4294967296 "
              "block (2 bytes a value)");
  }
  EXPECT_EQ(std::string(dnmf::io::allocation_failure("g.h5:/x", {10, 3}, 1).what()),
            "g.h5:/x: cannot allocate 30 bytes for its 10x3 block (1 byte a value)");
  // An allocation that fails is the same error.
  try {
    dnmf::io::allocate_for("g.h5:/x", {1000, 1000}, 8, [] { throw std::bad_alloc(); });
    FAIL() << "no error";
  } catch (const dnmf::InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              "g.h5:/x: cannot allocate 8000000 bytes for its 1000x1000 block (8 bytes a value)");
  }
  bool ran = false;
  dnmf::io::allocate_for("g.h5:/x", {2}, 8, [&] { ran = true; });
  EXPECT_TRUE(ran);
}

}  // namespace
