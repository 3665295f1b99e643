// Putting held-out entries back (LocalBlockT::put_back_entries through put_back_held_out), as dnmf
// sweep does between replicates, at any rank count: for dense and sparse blocks (the sparse one
// with stored zeros among its entries), missing entries and held-out sets of several seeds, the
// block after take_out_unobserved and put_back_held_out equals the original bitwise except at
// the missing entries, which stay 0; and a second seed's take-out sees the same block as a
// fresh start would.

#include <gtest/gtest.h>

#include <random>

#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/input_matrix.hpp"

namespace {

using dnmf::Index;
using dnmf::RowMatrix;
using dnmf::mpi::Communicator;

constexpr Index kRows = 19;
constexpr Index kCols = 13;

RowMatrix values_with_zeros() {
  std::mt19937_64 engine(5);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  RowMatrix A(kRows, kCols);
  for (Index i = 0; i < kRows; ++i)
    for (Index j = 0; j < kCols; ++j) A(i, j) = uniform(engine) < 0.3 ? 0.0 : uniform(engine);
  return A;
}

/// The block's values as a dense matrix (a sparse block's stored zeros read as 0).
RowMatrix dense_values(const dnmf::nmf::LocalBlock& block) {
  if (const auto* dense = dynamic_cast<const dnmf::nmf::DenseBlock*>(&block)) {
    return dense->values();
  }
  return RowMatrix(dynamic_cast<const dnmf::nmf::SparseBlock&>(block).values());
}

TEST(HeldOutPutBack, RestoresTheBlockButItsMissingEntries) {
  Communicator world = Communicator::world();
  const dnmf::mpi::BlockPartition rows(kRows, world.size());
  const Index begin = rows.begin(world.rank());
  const Index count = rows.size(world.rank());
  const RowMatrix mine = values_with_zeros().middleRows(begin, count);
  for (const bool sparse : {false, true}) {
    dnmf::nmf::InputMatrix input;
    input.rows = kRows;
    input.cols = kCols;
    input.row_begin = begin;
    input.row_count = count;
    if (sparse) {
      // Every entry stored, zeros too: the pattern must survive.
      dnmf::SparseRowMatrix stored = RowMatrix::Ones(count, kCols).sparseView();
      stored.makeCompressed();
      for (Index e = 0; e < stored.nonZeros(); ++e) stored.valuePtr()[e] = mine.data()[e];
      input.block = std::make_unique<dnmf::nmf::SparseBlock>(stored);
    } else {
      input.block = std::make_unique<dnmf::nmf::DenseBlock>(mine);
    }
    // Missing: every entry whose column is the row's global index mod kCols.
    dnmf::nmf::EntryList missing;
    RowMatrix expected = mine;
    for (Index i = 0; i < count; ++i) {
      const Index column = (begin + i) % kCols;
      missing.add_row({column});
      expected(i, column) = 0;
    }
    for (const std::uint64_t seed : {1u, 2u, 3u}) {
      const dnmf::nmf::EntryMask mask = dnmf::nmf::take_out_unobserved(
          *input.block, begin, missing, dnmf::nmf::HeldOutSet(0.3, seed), world);
      ASSERT_GT(mask.test_entries, 0);
      if (mask.test_values.nonZeros() > 0) {
        EXPECT_NE(dense_values(*input.block), expected) << "entries were taken out";
      }
      dnmf::nmf::put_back_held_out(input, mask);
      EXPECT_EQ(dense_values(*input.block), expected)
          << (sparse ? "sparse" : "dense") << ", seed " << seed;
    }
    if (sparse) {
      const auto& values = dynamic_cast<const dnmf::nmf::SparseBlock&>(*input.block).values();
      EXPECT_EQ(values.nonZeros(), count * kCols) << "the pattern is kept";
    }
  }
}

}  // namespace
