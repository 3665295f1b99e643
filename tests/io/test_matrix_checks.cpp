// io/matrix_checks at any rank count: a dataset's shape and type refused with its name; the
// first NaN/Inf or negative entry over all ranks (dense and sparse, in float and double) named
// by its global row and column on every rank, NaN before a negative one wherever they are.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/matrix_checks.hpp"
#include "dnmf/mpi/communicator.hpp"

namespace {

using dnmf::Index;
using dnmf::io::DatasetInfo;
using dnmf::mpi::Communicator;

std::string shape_message(const DatasetInfo& info) {
  try {
    dnmf::io::require_2d_numeric(info, "a.h5");
  } catch (const dnmf::InputError& error) {
    return error.what();
  }
  return "no error";
}

TEST(MatrixChecks, ShapeAndTypeRefusedWithTheDatasetsName) {
  EXPECT_EQ(shape_message({"/X", {3, 4}, "float64", true}), "no error");
  EXPECT_EQ(shape_message({"/X", {12}, "float64", true}),
            "a.h5:/X: expected a 2-D matrix, found 1-D (12)");
  EXPECT_EQ(shape_message({"/X", {3, 4}, "string", false}),
            "a.h5:/X: element type string is not numeric");
  EXPECT_EQ(shape_message({"/X", {0, 4}, "uint8", true}), "a.h5:/X: the matrix is empty (0x4)");
}

/// Rows [3 rank, 3 rank + 3) of a 5-column matrix of ones on each rank, with `bad` written at
/// global (row, column) where that row is this rank's.
template <class Scalar>
dnmf::RowMatrixT<Scalar> block_with(Communicator& comm, Index row, Index column, Scalar bad) {
  dnmf::RowMatrixT<Scalar> block = dnmf::RowMatrixT<Scalar>::Ones(3, 5);
  const Index begin = 3 * comm.rank();
  if (row >= begin && row < begin + 3) block(row - begin, column) = bad;
  return block;
}

template <class Values>
std::string entries_message(const Values& values, Communicator& comm) {
  try {
    dnmf::io::check_nonnegative_finite(values, 3 * comm.rank(), "a.h5:/X", comm);
  } catch (const dnmf::InputError& error) {
    return error.what();
  }
  return "no error";
}

template <class Scalar>
class MatrixEntries : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(MatrixEntries, Scalars);

TYPED_TEST(MatrixEntries, TheFirstBadEntryOverAllRanksIsNamedOnEach) {
  using Scalar = TypeParam;
  Communicator comm = Communicator::world();
  const Index last_row = 3 * comm.size() - 1;
  EXPECT_EQ(entries_message(block_with<Scalar>(comm, 0, 0, Scalar(1)), comm), "no error");
  // The last rank's last row: every rank names it.
  const std::string nan = entries_message(
      block_with<Scalar>(comm, last_row, 4, std::numeric_limits<Scalar>::quiet_NaN()), comm);
  EXPECT_EQ(nan.rfind("a.h5:/X: NaN or Inf at row " + std::to_string(last_row) +
                          ", column 4 (counting from 0)",
                      0),
            0u)
      << nan;
  EXPECT_EQ(entries_message(block_with<Scalar>(comm, last_row, 1, Scalar(-2)), comm),
            "a.h5:/X: negative value at row " + std::to_string(last_row) +
                ", column 1 (counting from 0); NMF needs a nonnegative matrix");
  // A negative entry on rank 0 and an infinite one on the last rank: NaN/Inf is named first.
  auto both = block_with<Scalar>(comm, 0, 2, Scalar(-1));
  if (comm.rank() == comm.size() - 1) both(2, 3) = std::numeric_limits<Scalar>::infinity();
  EXPECT_EQ(entries_message(both, comm)
                .rfind("a.h5:/X: NaN or Inf at row " + std::to_string(last_row) + ", column 3", 0),
            0u);
  // Only float's message suggests reading in double.
  constexpr bool is_float = std::is_same_v<Scalar, float>;
  EXPECT_EQ(nan.find("--precision double") != std::string::npos, is_float);
}

TYPED_TEST(MatrixEntries, SparseStoredEntriesAreChecked) {
  using Scalar = TypeParam;
  Communicator comm = Communicator::world();
  const Index last_row = 3 * comm.size() - 1;
  const auto sparse = [&](Scalar bad) {
    dnmf::SparseRowMatrixT<Scalar> block =
        block_with<Scalar>(comm, last_row, 2, bad).sparseView(Scalar(0), Scalar(0));
    block.makeCompressed();
    return block;
  };
  EXPECT_EQ(entries_message(sparse(Scalar(0.5)), comm), "no error");
  EXPECT_EQ(entries_message(sparse(Scalar(-0.5)), comm),
            "a.h5:/X: negative value at row " + std::to_string(last_row) +
                ", column 2 (counting from 0); NMF needs a nonnegative matrix");
}

}  // namespace
