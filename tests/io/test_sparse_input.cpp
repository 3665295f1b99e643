// io/sparse_input at any rank count: sparse groups written here with the HDF5 C API in each
// layout dnmf reads (AnnData csr_matrix and csc_matrix, legacy h5sparse, 10x Genomics, generic
// CSR with a shape dataset or attribute; integer and float widths of every kind) are found with
// their format and shape, and every block of rows of A and of Aᵀ, read in float and double, is
// the block of the dense matrix the file was made from; a CSC matrix of more stored values than
// one streamed chunk; a malformed group is an InputError naming the file and dataset.

#include <gtest/gtest.h>
#include <hdf5.h>

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/sparse_input.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/partition.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using dnmf::mpi::BlockPartition;
using dnmf::mpi::Communicator;

constexpr std::int64_t kRows = 11;
constexpr std::int64_t kCols = 7;

/// The dense matrix every file stores: about 40% nonzero, row 2 and the last column empty.
double entry(std::int64_t i, std::int64_t j, std::int64_t cols = kCols) {
  if (i == 2 || j == cols - 1) return 0;
  return (i * 7 + j * 13) % 5 < 2 ? static_cast<double>(1 + (i * 3 + j) % 9) : 0;
}

struct Compressed {
  std::vector<std::int64_t> indptr, indices;
  std::vector<double> data;
};

/// rows x cols of entry() compressed by rows (CSR) or by columns (CSC), in index order.
Compressed compress(std::int64_t rows, std::int64_t cols, bool by_rows) {
  Compressed c;
  const std::int64_t major = by_rows ? rows : cols, minor = by_rows ? cols : rows;
  c.indptr.push_back(0);
  for (std::int64_t a = 0; a < major; ++a) {
    for (std::int64_t b = 0; b < minor; ++b) {
      const double v = by_rows ? entry(a, b, cols) : entry(b, a, cols);
      if (v == 0) continue;
      c.indices.push_back(b);
      c.data.push_back(v);
    }
    c.indptr.push_back(static_cast<std::int64_t>(c.data.size()));
  }
  return c;
}

/// HDF5 objects of a file being written, closed at the end.
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

  /// A dataset of `dims` in `file_type` from values held as `memory_type`.
  void dataset(const std::string& path, hid_t file_type, hid_t memory_type, const void* values,
               std::vector<hsize_t> dims) {
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t set =
        H5Dcreate2(file_, path.c_str(), file_type, space, links_, H5P_DEFAULT, H5P_DEFAULT);
    if (dims.empty() || dims[0] > 0)
      H5Dwrite(set, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    H5Dclose(set);
    H5Sclose(space);
  }
  void integers(const std::string& path, hid_t file_type, const std::vector<std::int64_t>& values) {
    dataset(path, file_type, H5T_NATIVE_INT64, values.data(), {values.size()});
  }
  void doubles(const std::string& path, hid_t file_type, const std::vector<double>& values) {
    dataset(path, file_type, H5T_NATIVE_DOUBLE, values.data(), {values.size()});
  }
  /// data, indices and indptr of `c` in the given file types.
  void compressed(const std::string& group, const Compressed& c, hid_t data_type, hid_t index_type,
                  hid_t pointer_type) {
    doubles(group + "/data", data_type, c.data);
    integers(group + "/indices", index_type, c.indices);
    integers(group + "/indptr", pointer_type, c.indptr);
  }

  void text_attribute(const std::string& object, const std::string& name, const std::string& value,
                      bool variable_length) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, variable_length ? H5T_VARIABLE : value.size());
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate_by_name(file_, object.c_str(), name.c_str(), type, space,
                                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char* pointer = value.c_str();
    H5Awrite(attribute, type, variable_length ? static_cast<const void*>(&pointer) : pointer);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
  }
  void integer_attribute(const std::string& object, const std::string& name,
                         const std::vector<std::int64_t>& values) {
    const hsize_t dims[1] = {values.size()};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t attribute = H5Acreate_by_name(file_, object.c_str(), name.c_str(), H5T_STD_I64LE,
                                              space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, H5T_NATIVE_INT64, values.data());
    H5Aclose(attribute);
    H5Sclose(space);
  }

 private:
  hid_t file_;
  hid_t links_;
};

/// Rank 0 writes the file, every rank waits for it.
template <class Write>
void written_by_root(Communicator& comm, const std::string& path, Write write) {
  if (comm.is_root()) {
    Writer writer(path);
    write(writer);
  }
  comm.barrier();
}

/// The file of every layout, each holding A = entry() (kRows x kCols).
void write_layouts(Writer& w) {
  const Compressed csr = compress(kRows, kCols, true);
  const Compressed csc = compress(kRows, kCols, false);
  // AnnData: X as csr_matrix (variable-length strings, as anndata writes them), a layer as
  // csc_matrix (fixed-length), raw/X in the legacy h5sparse form.
  w.compressed("/X", csr, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I64LE);
  w.text_attribute("/X", "encoding-type", "csr_matrix", true);
  w.text_attribute("/X", "encoding-version", "0.1.0", true);
  w.integer_attribute("/X", "shape", {kRows, kCols});
  w.compressed("/layers/counts", csc, H5T_STD_I32BE, H5T_STD_U16LE, H5T_STD_U32LE);
  w.text_attribute("/layers/counts", "encoding-type", "csc_matrix", false);
  w.integer_attribute("/layers/counts", "shape", {kRows, kCols});
  w.compressed("/raw/X", csr, H5T_IEEE_F64BE, H5T_STD_I64BE, H5T_STD_I32LE);
  w.text_attribute("/raw/X", "h5sparse_format", "csr", true);
  w.integer_attribute("/raw/X", "h5sparse_shape", {kRows, kCols});
  // 10x Genomics: features x barcodes stored by barcode, that is CSR of barcodes x features.
  w.compressed("/tenx/matrix", csr, H5T_STD_I32LE, H5T_STD_I64LE, H5T_STD_I64LE);
  w.integers("/tenx/matrix/barcodes", H5T_STD_I64LE, std::vector<std::int64_t>(kRows, 7));
  w.integers("/tenx/matrix/shape", H5T_STD_I32LE, {kCols, kRows});
  // Generic CSR groups: a shape dataset, a shape attribute.
  w.compressed("/generic/with_dataset", csr, H5T_IEEE_F64LE, H5T_STD_U8LE, H5T_STD_U64LE);
  w.integers("/generic/with_dataset/shape", H5T_STD_U32LE, {kRows, kCols});
  w.compressed("/generic/with_attribute", csr, H5T_IEEE_F32BE, H5T_STD_I16LE, H5T_STD_I16LE);
  w.integer_attribute("/generic/with_attribute", "shape", {kRows, kCols});
}

struct Expected {
  const char* group;
  const char* format;
  bool compressed_rows;
};
constexpr Expected kLayouts[] = {
    {"/X", "AnnData csr_matrix", true},
    {"/generic/with_attribute", "generic CSR group", true},
    {"/generic/with_dataset", "generic CSR group", true},
    {"/layers/counts", "AnnData csc_matrix", false},
    {"/raw/X", "AnnData (legacy h5sparse) csr", true},
    {"/tenx/matrix", "10x Genomics (barcodes x features)", true},
};

class SparseInputTest : public testing::Test {
 protected:
  void SetUp() override { directory_ = testing_support::scratch_directory(world_); }
  void TearDown() override {
    world_.barrier();
    if (world_.is_root()) fs::remove_all(directory_);
  }

  Communicator world_ = Communicator::world();
  std::string directory_;
};

/// `block` holds rows [begin, begin + count) of A (or Aᵀ), in column order within each row.
template <class Scalar>
void expect_block(const dnmf::SparseRowMatrixT<Scalar>& block, bool transpose, std::int64_t begin,
                  std::int64_t count, std::int64_t rows, std::int64_t cols,
                  const std::string& label) {
  ASSERT_EQ(block.rows(), count) << label;
  ASSERT_EQ(block.cols(), transpose ? rows : cols) << label;
  ASSERT_TRUE(block.isCompressed()) << label;
  std::int64_t nonzeros = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    for (std::int64_t j = 0; j < block.cols(); ++j) {
      const double expected = transpose ? entry(j, begin + i, cols) : entry(begin + i, j, cols);
      if (expected != 0) ++nonzeros;
    }
    int previous = -1;
    for (typename dnmf::SparseRowMatrixT<Scalar>::InnerIterator it(block, static_cast<int>(i)); it;
         ++it) {
      EXPECT_GT(it.col(), previous) << label << ": row " << begin + i << " out of column order";
      previous = it.col();
      const double expected =
          transpose ? entry(it.col(), begin + i, cols) : entry(begin + i, it.col(), cols);
      EXPECT_EQ(static_cast<double>(it.value()), expected)
          << label << " at " << begin + i << "," << it.col();
    }
  }
  EXPECT_EQ(block.nonZeros(), nonzeros) << label;
}

TEST_F(SparseInputTest, EveryLayoutIsFoundWithItsFormatAndShape) {
  const std::string path = directory_ + "/layouts.h5ad";
  written_by_root(world_, path, write_layouts);
  const dnmf::io::InputFile file(path, world_);
  const std::vector<dnmf::io::SparseLayout> groups = dnmf::io::find_sparse_groups(file);
  ASSERT_EQ(groups.size(), std::size(kLayouts));
  for (std::size_t g = 0; g < groups.size(); ++g) {
    EXPECT_EQ(groups[g].group, kLayouts[g].group);
    EXPECT_EQ(groups[g].format, kLayouts[g].format) << kLayouts[g].group;
    EXPECT_EQ(groups[g].compressed_rows, kLayouts[g].compressed_rows) << kLayouts[g].group;
    EXPECT_EQ(groups[g].rows, kRows) << kLayouts[g].group;
    EXPECT_EQ(groups[g].cols, kCols) << kLayouts[g].group;
    EXPECT_EQ(groups[g].indptr.path, std::string(kLayouts[g].group) + "/indptr");
    EXPECT_EQ(groups[g].data.path, std::string(kLayouts[g].group) + "/data");
  }
  // A path without its leading slash names the same group.
  const auto relative = dnmf::io::find_sparse(file, "layers/counts");
  ASSERT_TRUE(relative.has_value());
  EXPECT_EQ(relative->group, "/layers/counts");
  EXPECT_EQ(relative->format, "AnnData csc_matrix");
  // Not a sparse group: the root, a dataset, a missing path, a group of other datasets.
  EXPECT_FALSE(dnmf::io::find_sparse(file, "/").has_value());
  EXPECT_FALSE(dnmf::io::find_sparse(file, "/X/data").has_value());
  EXPECT_FALSE(dnmf::io::find_sparse(file, "/nothing/here").has_value());
  EXPECT_FALSE(dnmf::io::find_sparse(file, "/layers").has_value());
}

TEST_F(SparseInputTest, EveryBlockOfRowsOfAAndOfItsTransposeIsTheDenseBlock) {
  const std::string path = directory_ + "/layouts.h5ad";
  written_by_root(world_, path, write_layouts);
  const dnmf::io::InputFile file(path, world_);
  const std::vector<dnmf::io::SparseLayout> groups = dnmf::io::find_sparse_groups(file);
  ASSERT_EQ(groups.size(), std::size(kLayouts));
  // The blocks of partitions into 1..5 parts (empty ones among them), shared out over the
  // ranks; the partition of this run's rank count is read by every rank.
  int job = 0;
  for (const dnmf::io::SparseLayout& layout : groups) {
    for (const bool transpose : {false, true}) {
      const std::int64_t rows = transpose ? kCols : kRows;
      for (const int parts : {1, 2, 3, 4, 5, world_.size()}) {
        const BlockPartition partition(rows, parts);
        for (int part = 0; part < parts; ++part) {
          const bool own_partition = parts == world_.size() && part == world_.rank();
          if (!own_partition && job++ % world_.size() != world_.rank()) continue;
          const std::string label = layout.group + (transpose ? " transposed" : "") + ", part " +
                                    std::to_string(part) + " of " + std::to_string(parts);
          const auto begin = partition.begin(part), count = partition.size(part);
          expect_block(dnmf::io::read_sparse_rows<double>(file, layout, transpose, begin, count),
                       transpose, begin, count, kRows, kCols, label + " (double)");
          expect_block(dnmf::io::read_sparse_rows<float>(file, layout, transpose, begin, count),
                       transpose, begin, count, kRows, kCols, label + " (float)");
        }
      }
    }
  }
}

TEST_F(SparseInputTest, ACscMatrixOfMoreThanOneChunkIsReadByRows) {
  // 1.15 million stored values: the rows of a CSC file are gathered over two streamed chunks.
  constexpr std::int64_t kTallRows = 48, kWideCols = 60000;
  const std::string path = directory_ + "/wide.h5ad";
  written_by_root(world_, path, [&](Writer& w) {
    const Compressed csc = compress(kTallRows, kWideCols, false);
    ASSERT_GT(csc.data.size(), std::size_t{1} << 20);
    w.compressed("/X", csc, H5T_IEEE_F32LE, H5T_STD_I32LE, H5T_STD_I64LE);
    w.text_attribute("/X", "encoding-type", "csc_matrix", true);
    w.integer_attribute("/X", "shape", {kTallRows, kWideCols});
  });
  const dnmf::io::InputFile file(path, world_);
  const auto layout = dnmf::io::find_sparse(file, "/X");
  ASSERT_TRUE(layout.has_value());
  const BlockPartition partition(kTallRows, world_.size());
  const auto begin = partition.begin(world_.rank()), count = partition.size(world_.rank());
  expect_block(dnmf::io::read_sparse_rows<double>(file, *layout, false, begin, count), false, begin,
               count, kTallRows, kWideCols, "rows of the CSC file");
}

/// A valid 4 x 3 CSR group at `group` with `change` applied to its parts before writing.
struct Parts {
  std::vector<std::int64_t> indptr = {0, 2, 2, 3, 5};
  std::vector<std::int64_t> indices = {0, 2, 1, 0, 2};
  std::vector<double> data = {1, 2, 3, 4, 5};
  std::vector<std::int64_t> shape = {4, 3};
};

template <class Change>
void write_group(Writer& w, const std::string& group, Change change) {
  Parts p;
  change(p);
  w.doubles(group + "/data", H5T_IEEE_F64LE, p.data);
  w.integers(group + "/indices", H5T_STD_I64LE, p.indices);
  w.integers(group + "/indptr", H5T_STD_I64LE, p.indptr);
  if (!p.shape.empty()) w.integer_attribute(group, "shape", p.shape);
}

TEST_F(SparseInputTest, AMalformedGroupIsAnInputErrorNamingTheDataset) {
  const std::string path = directory_ + "/bad.h5";
  written_by_root(world_, path, [](Writer& w) {
    write_group(w, "/start", [](Parts& p) { p.indptr = {1, 2, 2, 3, 5}; });
    write_group(w, "/monotone", [](Parts& p) { p.indptr = {0, 2, 1, 3, 5}; });
    write_group(w, "/end", [](Parts& p) { p.indptr = {0, 2, 2, 3, 4}; });
    write_group(w, "/beyond", [](Parts& p) { p.indptr = {0, 2, 2, 3, 6}; });
    write_group(w, "/index", [](Parts& p) { p.indices = {0, 2, 1, 3, 2}; });
    write_group(w, "/negative_index", [](Parts& p) { p.indices = {0, 2, -1, 0, 2}; });
    write_group(w, "/count", [](Parts& p) { p.indices = {0, 2, 1, 0}; });
    write_group(w, "/length", [](Parts& p) { p.indptr = {0, 2, 3, 5}; });
    write_group(w, "/csc_index", [](Parts& p) { p.shape = {2, 4}; });
    w.text_attribute("/csc_index", "encoding-type", "csc_matrix", true);
    // Float positions, a 2-D data set.
    w.doubles("/float/data", H5T_IEEE_F64LE, {1, 2});
    w.doubles("/float/indices", H5T_IEEE_F32LE, {0, 1});
    w.integers("/float/indptr", H5T_STD_I32LE, {0, 1, 2});
    w.integer_attribute("/float", "shape", {2, 2});
    const double grid[6] = {1, 2, 3, 4, 5, 6};
    w.dataset("/two_d/data", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, grid, {2, 3});
    w.integers("/two_d/indices", H5T_STD_I32LE, {0, 1, 2, 0, 1, 2});
    w.integers("/two_d/indptr", H5T_STD_I32LE, {0, 3, 6});
    w.integer_attribute("/two_d", "shape", {2, 3});
  });
  const dnmf::io::InputFile file(path, world_);
  const auto problem = [&](const std::string& group, bool transpose = false) -> std::string {
    const auto layout = dnmf::io::find_sparse(file, group);
    if (!layout) return "not found";
    try {
      const std::int64_t rows = transpose ? layout->cols : layout->rows;
      dnmf::io::read_sparse_rows<double>(file, *layout, transpose, 0, rows);
    } catch (const dnmf::InputError& error) {
      return error.what();
    }
    return "no error";
  };
  const std::string at = path + ":";
  EXPECT_EQ(problem("/start"), at + "/start/indptr: indptr must start at 0, found 1");
  EXPECT_EQ(problem("/start", true), at + "/start/indptr: indptr must start at 0, found 1");
  EXPECT_EQ(problem("/monotone"), at + "/monotone/indptr: indptr is not monotone at position 2");
  EXPECT_EQ(problem("/end"),
            at + "/end/indptr: indptr does not match the 5 stored values (it reaches 4)");
  EXPECT_EQ(problem("/beyond", true),
            at + "/beyond/indptr: indptr does not match the 5 stored values (it reaches 6)");
  EXPECT_EQ(problem("/index"), at + "/index/indices: index 3 at position 3 is out of range [0, 3)");
  EXPECT_EQ(problem("/index", true),
            at + "/index/indices: index 3 at position 3 is out of range [0, 3)");
  EXPECT_EQ(problem("/negative_index"),
            at + "/negative_index/indices: index -1 at position 2 is out of range [0, 3)");
  EXPECT_EQ(problem("/count"), at + "/count/indices: holds 4 indices for 5 values");
  EXPECT_EQ(problem("/length"), at + "/length/indptr: has 4 entries, but the shape 4x3 needs 5");
  // CSC of 2 x 4: indptr runs over 4 columns, but the row indices reach 2.
  EXPECT_EQ(problem("/csc_index"),
            at + "/csc_index/indices: index 2 at position 1 is out of range [0, 2)");
  EXPECT_EQ(problem("/float"), at + "/float/indices: expected integer positions, found float32");
  EXPECT_EQ(problem("/two_d"),
            at + "/two_d/data: expected a 1-D numeric dataset, found 2x3 float64");
}

TEST_F(SparseInputTest, AGroupWithoutATwoEntryShapeIsAnInputErrorNamingIt) {
  const std::string path = directory_ + "/shapeless.h5";
  written_by_root(world_, path, [](Writer& w) {
    write_group(w, "/none", [](Parts& p) { p.shape.clear(); });
    write_group(w, "/three", [](Parts& p) { p.shape = {4, 3, 1}; });
    write_group(w, "/negative", [](Parts& p) { p.shape = {-4, 3}; });
    write_group(w, "/legacy", [](Parts& p) { p.shape.clear(); });
    w.text_attribute("/legacy", "h5sparse_format", "csr", false);
  });
  const dnmf::io::InputFile file(path, world_);
  for (const char* group : {"/none", "/three", "/negative"}) {
    try {
      dnmf::io::find_sparse(file, group);
      ADD_FAILURE() << group << ": no error";
    } catch (const dnmf::InputError& error) {
      EXPECT_EQ(std::string(error.what()),
                path + ":" + group +
                    ": sparse matrix group without a 2-entry shape (shape attribute or shape "
                    "dataset)");
    }
  }
  try {
    dnmf::io::find_sparse(file, "/legacy");
    ADD_FAILURE() << "no error";
  } catch (const dnmf::InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              path +
                  ":/legacy: sparse matrix group without a 2-entry shape (h5sparse_shape "
                  "attribute or shape dataset)");
  }
}

}  // namespace
