// Reading the matrix to factorize at every rank count: a dense dataset and a CSR group written
// here with the serial HDF5 API give each rank exactly its rows (also transposed, also as
// float); bad content (NaN, a negative value, a wrong shape or rank) is an InputError naming
// the file and dataset on every rank.

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/matrix_checks.hpp"
#include "dnmf/io/matrix_rows.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/partition.hpp"
#include "scratch_directory.hpp"

namespace {

using dnmf::Index;
using dnmf::RowMatrix;
using testing_support::scratch_directory;

constexpr Index kRows = 11;
constexpr Index kCols = 6;

/// Every third entry zero, the others distinct: a sparse pattern with identifiable values.
RowMatrix test_matrix() {
  RowMatrix A(kRows, kCols);
  for (Index i = 0; i < kRows; ++i)
    for (Index j = 0; j < kCols; ++j) A(i, j) = (i * kCols + j) % 3 == 0 ? 0.0 : 0.5 * (i + 2 * j);
  return A;
}

void write_dataset(hid_t location, const char* name, hid_t memory_type, int rank,
                   const hsize_t* dims, const void* values) {
  const hid_t space = H5Screate_simple(rank, dims, nullptr);
  const hid_t dataset =
      H5Dcreate2(location, name, memory_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  H5Dclose(dataset);
  H5Sclose(space);
}

/// Rank 0 writes `A` as the 2-D dataset /A and as the CSR group /csr (data, indices, indptr and
/// a shape attribute), with the serial HDF5 API.
void write_file(const std::string& path, const RowMatrix& A) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[2] = {static_cast<hsize_t>(A.rows()), static_cast<hsize_t>(A.cols())};
  write_dataset(file, "/A", H5T_NATIVE_DOUBLE, 2, dims, A.data());
  std::vector<double> data;
  std::vector<std::int64_t> indices;
  std::vector<std::int64_t> indptr{0};
  for (Index i = 0; i < A.rows(); ++i) {
    for (Index j = 0; j < A.cols(); ++j) {
      if (A(i, j) == 0) continue;
      data.push_back(A(i, j));
      indices.push_back(j);
    }
    indptr.push_back(static_cast<std::int64_t>(data.size()));
  }
  const hid_t group = H5Gcreate2(file, "/csr", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t nnz = data.size();
  const hsize_t pointers = indptr.size();
  write_dataset(group, "data", H5T_NATIVE_DOUBLE, 1, &nnz, data.data());
  write_dataset(group, "indices", H5T_NATIVE_INT64, 1, &nnz, indices.data());
  write_dataset(group, "indptr", H5T_NATIVE_INT64, 1, &pointers, indptr.data());
  const std::int64_t shape[2] = {A.rows(), A.cols()};
  const hsize_t two = 2;
  const hid_t space = H5Screate_simple(1, &two, nullptr);
  const hid_t attribute =
      H5Acreate2(group, "shape", H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attribute, H5T_NATIVE_INT64, shape);
  H5Aclose(attribute);
  H5Sclose(space);
  H5Gclose(group);
  H5Fclose(file);
}

/// `A` in a fresh file of the shared scratch directory, written by rank 0 before any rank reads.
std::string written(dnmf::mpi::Communicator& comm, const RowMatrix& A, const std::string& name) {
  const std::string path = scratch_directory(comm) + "/" + name;
  if (comm.is_root()) write_file(path, A);
  comm.barrier();
  return path;
}

template <class Scalar>
RowMatrix dense_of(const dnmf::io::MatrixRowsT<Scalar>& read) {
  if (const auto* dense = std::get_if<dnmf::RowMatrixT<Scalar>>(&read.values)) {
    return dense->template cast<double>();
  }
  const dnmf::RowMatrixT<Scalar> densified =
      std::get<dnmf::SparseRowMatrixT<Scalar>>(read.values).toDense();
  return densified.template cast<double>();
}

/// The rows of `expected` this rank holds, as read_matrix_rows partitions them.
void expect_rows(const RowMatrix& expected, const dnmf::io::MatrixSource& read,
                 const RowMatrix& rows, dnmf::mpi::Communicator& comm) {
  const dnmf::mpi::BlockPartition partition(expected.rows(), comm.size());
  EXPECT_EQ(read.rows, expected.rows());
  EXPECT_EQ(read.cols, expected.cols());
  EXPECT_EQ(read.row_begin, partition.begin(comm.rank()));
  EXPECT_EQ(read.row_count, partition.size(comm.rank()));
  ASSERT_EQ(rows.rows(), read.row_count);
  ASSERT_EQ(rows.cols(), expected.cols());
  EXPECT_EQ(rows, expected.middleRows(read.row_begin, read.row_count));
}

TEST(MatrixRows, DenseAndSparseGiveEachRankItsRows) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const RowMatrix A = test_matrix();
  const std::string path = written(world, A, "a.h5");
  for (const bool transpose : {false, true}) {
    SCOPED_TRACE(transpose ? "transposed" : "as stored");
    const RowMatrix expected = transpose ? RowMatrix(A.transpose()) : A;
    const auto dense = dnmf::io::read_matrix_rows<double>(path, "/A", transpose, world);
    EXPECT_EQ(dense.kind, "dense float64");
    EXPECT_EQ(dense.dataset, "/A");
    EXPECT_EQ(dense.transposed, transpose);
    EXPECT_TRUE(std::holds_alternative<RowMatrix>(dense.values));
    expect_rows(expected, dense, dense_of(dense), world);
    const auto sparse = dnmf::io::read_matrix_rows<double>(path, "csr", transpose, world);
    EXPECT_EQ(sparse.dataset, "/csr");
    EXPECT_TRUE(std::holds_alternative<dnmf::SparseRowMatrix>(sparse.values));
    expect_rows(expected, sparse, dense_of(sparse), world);
    // The values are halves of small integers: exact in float too.
    const auto single = dnmf::io::read_matrix_rows<float>(path, "/csr", transpose, world);
    expect_rows(expected, single, dense_of(single), world);
  }
}

/// Every rank throws an InputError whose message holds each of `parts`.
template <class Read>
void expect_input_error(Read&& read, const std::vector<std::string>& parts) {
  try {
    read();
    ADD_FAILURE() << "no error";
  } catch (const dnmf::InputError& error) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(error.what()).find(part), std::string::npos) << error.what();
  }
}

TEST(MatrixRows, BadValuesAreNamedOnEveryRank) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  RowMatrix A = test_matrix();
  A(kRows - 2, 4) = std::nan("");
  A(kRows - 1, 1) = -1;  // after the NaN: NaN is named first
  const std::string nan_path = written(world, A, "nan.h5");
  for (const char* dataset : {"/A", "/csr"}) {
    expect_input_error([&] { dnmf::io::read_matrix_rows<double>(nan_path, dataset, false, world); },
                       {nan_path + ":" + dataset, "NaN or Inf at row 9, column 4"});
  }
  A(kRows - 2, 4) = 1;
  const std::string negative_path = written(world, A, "negative.h5");
  for (const char* dataset : {"/A", "/csr"}) {
    expect_input_error(
        [&] { dnmf::io::read_matrix_rows<double>(negative_path, dataset, false, world); },
        {negative_path + ":" + dataset, "negative value at row 10, column 1"});
  }
  // Transposed, the negative entry is at row 1, column 10 of Aᵀ.
  expect_input_error([&] { dnmf::io::read_matrix_rows<double>(negative_path, "/A", true, world); },
                     {negative_path + ":/A", "negative value at row 1, column 10"});
}

TEST(MatrixRows, WrongShapeOrRankIsNamed) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const std::string path = written(world, test_matrix(), "shape.h5");
  const dnmf::io::InputFile file(path, world);
  expect_input_error(
      [&] {
        dnmf::mpi::agree(world, [&] { dnmf::io::require_matrix(file, "/A", kRows, kCols + 1); });
      },
      {path + ":/A", "expected shape 11x7, found 11x6"});
  expect_input_error([&] { dnmf::io::read_matrix_rows<double>(path, "/csr/indptr", false, world); },
                     {path + ":/csr/indptr", "expected a 2-D matrix, found 1-D"});
  expect_input_error([&] { dnmf::io::read_matrix_rows<double>(path, "/missing", false, world); },
                     {path + ":/missing"});
}

}  // namespace
