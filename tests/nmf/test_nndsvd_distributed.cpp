// NNDSVD at any rank count equals the one-process NNDSVD: each rank computes it from its row
// block (dense and CSR) on MPI_COMM_WORLD and from the whole matrix on MPI_COMM_SELF, and
// compares its rows of W and all of H. Row counts are not divisible by 2, 3 or 4, and one case
// has fewer rows than ranks.

#include <gtest/gtest.h>

#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/nndsvd.hpp"
#include "error_bounds.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::NndsvdFill;
using testing_support::relative_difference;

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

  // The same algorithm with its sums in a rank-dependent order: both runs' SVD backward error,
  // times the one-process run's amplification, measured from A perturbed.
  const double m = static_cast<double>(A.rows()), n = static_cast<double>(A.cols());
  const double sketch = std::min<double>(static_cast<double>(k) + 10, std::min(m, n));
  const double rounding =
      2 * error_bounds::sketch_backward_error<double>(m + world.size(), n, sketch);
  const dnmf::nmf::DenseBlock probed_block{dnmf::RowMatrix(error_bounds::perturbed(A, 1))};
  const auto probed_statistics = dnmf::nmf::input_statistics(probed_block, self);
  for (const NndsvdFill fill : {NndsvdFill::Zeros, NndsvdFill::Mean, NndsvdFill::SmallRandom}) {
    const auto reference = dnmf::nmf::nndsvd_factors(whole, 0, whole_statistics, k, fill, 4, self);
    const auto probed =
        dnmf::nmf::nndsvd_factors(probed_block, 0, probed_statistics, k, fill, 4, self);
    const double w_tolerance = error_bounds::iterated_tolerance(
        error_bounds::amplification(reference.Wt, probed.Wt), rounding);
    const double h_tolerance = error_bounds::iterated_tolerance(
        error_bounds::amplification(reference.H, probed.H), rounding);
    const Matrix expected_Wt = reference.Wt.middleCols(begin, count);
    for (const dnmf::nmf::LocalBlock* block :
         {static_cast<const dnmf::nmf::LocalBlock*>(&dense),
          static_cast<const dnmf::nmf::LocalBlock*>(&sparse)}) {
      const auto factors = dnmf::nmf::nndsvd_factors(*block, begin, statistics, k, fill, 4, world);
      const char* storage = block == &dense ? "dense" : "sparse";
      ASSERT_EQ(factors.Wt.rows(), k);
      ASSERT_EQ(factors.Wt.cols(), count);
      if (count > 0) {
        // This rank's rows only: a part of W may differ by up to all of W's difference.
        EXPECT_LT((factors.Wt - expected_Wt).norm(), w_tolerance * reference.Wt.norm())
            << storage << " fill " << static_cast<int>(fill) << " W rows " << begin << ".."
            << begin + count;
      }
      EXPECT_LT(relative_difference(factors.H, reference.H), h_tolerance)
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
