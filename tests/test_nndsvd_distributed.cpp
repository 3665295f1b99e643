// NNDSVD at any rank count equals the one-process NNDSVD: each rank computes it from its row
// block (dense and CSR) on MPI_COMM_WORLD and from the whole matrix on MPI_COMM_SELF, and
// compares its rows of W and all of H. Row counts are not divisible by 2, 3 or 4, and one case
// has fewer rows than ranks.

#include <gtest/gtest.h>

#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/nndsvd.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::NndsvdFill;
using testing_support::relative_difference;

constexpr double kTolerance = 1e-10;

void expect_rank_invariant(const Matrix& A, Index k) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const dnmf::nmf::DenseBlock whole{dnmf::RowMatrix(A)};
  const auto whole_statistics = dnmf::nmf::input_statistics(whole, self);

  const dnmf::mpi::BlockPartition partition(A.rows(), world.size());
  const Index begin = partition.begin(world.rank());
  const Index count = partition.size(world.rank());
  const dnmf::RowMatrix rows = A.middleRows(begin, count);
  const dnmf::nmf::DenseBlock dense{rows};
  const dnmf::nmf::SparseBlock sparse{rows.sparseView()};
  const auto statistics = dnmf::nmf::input_statistics(dense, world);

  for (const NndsvdFill fill : {NndsvdFill::Zeros, NndsvdFill::Mean, NndsvdFill::SmallRandom}) {
    const auto reference = dnmf::nmf::nndsvd_factors(whole, 0, whole_statistics, k, fill, 4, self);
    const Matrix expected_Wt = reference.Wt.middleCols(begin, count);
    for (const dnmf::nmf::LocalBlock* block :
         {static_cast<const dnmf::nmf::LocalBlock*>(&dense),
          static_cast<const dnmf::nmf::LocalBlock*>(&sparse)}) {
      const auto factors = dnmf::nmf::nndsvd_factors(*block, begin, statistics, k, fill, 4, world);
      const char* storage = block == &dense ? "dense" : "sparse";
      ASSERT_EQ(factors.Wt.rows(), k);
      ASSERT_EQ(factors.Wt.cols(), count);
      if (count > 0) {
        EXPECT_LT(relative_difference(factors.Wt, expected_Wt), kTolerance)
            << storage << " fill " << static_cast<int>(fill) << " W rows " << begin << ".."
            << begin + count;
      }
      EXPECT_LT(relative_difference(factors.H, reference.H), kTolerance)
          << storage << " fill " << static_cast<int>(fill) << " H";
    }
  }
}

TEST(NndsvdDistributed, SameFactorsAsOneProcess) {
  // Full rank, sketch (k + 10) smaller than min(m, n): the power iterations matter.
  expect_rank_invariant(naive::random_matrix(37, 23, 7), 3);
}

TEST(NndsvdDistributed, SparseInputSameFactorsAsOneProcess) {
  Matrix A = naive::random_matrix(41, 29, 8);
  A = (A.array() < 0.7).select(0.0, A);  // about 70% zeros
  expect_rank_invariant(A, 5);
}

TEST(NndsvdDistributed, RanksWithoutRows) {
  expect_rank_invariant(naive::random_matrix(3, 11, 9), 2);
}

}  // namespace
