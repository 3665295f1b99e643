// mpi::agree at any rank count: a step that fails on some ranks makes every rank throw the
// error of the lowest failing rank, of the same kind and with the same message; a step that
// fails nowhere returns on every rank; a non-dnmf exception becomes an internal error.

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "dnmf/core/error.hpp"
#include "dnmf/mpi/agree.hpp"

namespace {

using dnmf::mpi::Communicator;

/// Runs agree with `step` and returns what every rank caught: kind and message, or "none".
std::string outcome(Communicator& comm, const std::function<void()>& step) {
  try {
    dnmf::mpi::agree(comm, step);
  } catch (const dnmf::Error& error) {
    return std::to_string(static_cast<int>(error.kind())) + ":" + error.what();
  }
  return "none";
}

TEST(Agree, NoFailureReturnsEverywhereAndRunsTheStepOnce) {
  Communicator world = Communicator::world();
  int runs = 0;
  EXPECT_EQ(outcome(world, [&] { ++runs; }), "none");
  EXPECT_EQ(runs, 1);
}

TEST(Agree, TheLastRanksFailureReachesEveryRank) {
  Communicator world = Communicator::world();
  const int last = world.size() - 1;
  const std::string caught = outcome(world, [&] {
    if (world.rank() == last)
      throw dnmf::InputError("f.h5:/A: bad on rank " + std::to_string(last));
  });
  EXPECT_EQ(caught, std::to_string(static_cast<int>(dnmf::ErrorKind::Input)) +
                        ":f.h5:/A: bad on rank " + std::to_string(last));
}

TEST(Agree, TheLowestFailingRankWins) {
  Communicator world = Communicator::world();
  // Every rank but 0 fails, each with its own message and kind; rank 1's error is the one.
  const std::string caught = outcome(world, [&] {
    if (world.rank() == 0) return;
    if (world.rank() % 2 == 1) throw dnmf::UsageError("usage from " + std::to_string(world.rank()));
    throw dnmf::IoError("io from " + std::to_string(world.rank()));
  });
  if (world.size() == 1) {
    EXPECT_EQ(caught, "none");
  } else {
    EXPECT_EQ(caught, std::to_string(static_cast<int>(dnmf::ErrorKind::Usage)) + ":usage from 1");
  }
}

TEST(Agree, AnyOtherExceptionIsAnInternalErrorEverywhere) {
  Communicator world = Communicator::world();
  const std::string caught = outcome(world, [&] {
    if (world.rank() == 0) throw std::runtime_error("boom");
  });
  EXPECT_EQ(caught, std::to_string(static_cast<int>(dnmf::ErrorKind::Internal)) + ":boom");
}

TEST(Agree, LaterCollectivesStillMatchAfterAFailure) {
  // Nobody is left inside agree: a collective after the failure completes on every rank.
  Communicator world = Communicator::world();
  outcome(world, [&] {
    if (world.rank() == 0) throw dnmf::InputError("x");
  });
  EXPECT_EQ(world.sum(1.0), static_cast<double>(world.size()));
}

TEST(Agreed, ReturnsEachRanksOwnValueEvenWithoutADefaultConstructor) {
  Communicator world = Communicator::world();
  struct Rank {
    explicit Rank(int rank) : value(rank) {}
    int value;
  };
  const Rank mine = dnmf::mpi::agreed(world, [&] { return Rank(world.rank()); });
  EXPECT_EQ(mine.value, world.rank());
  // Move-only results are moved out, not copied.
  const auto owned = dnmf::mpi::agreed(world, [] { return std::make_unique<int>(7); });
  EXPECT_EQ(*owned, 7);
}

TEST(Agreed, AFailureOnOneRankThrowsOnEveryRankAndReturnsNothing) {
  Communicator world = Communicator::world();
  const int last = world.size() - 1;
  try {
    dnmf::mpi::agreed(world, [&] {
      if (world.rank() == last) throw dnmf::InputError("f.h5:/A: bad");
      return 1;
    });
    ADD_FAILURE() << "agreed returned on rank " << world.rank();
  } catch (const dnmf::InputError& error) {
    EXPECT_STREQ(error.what(), "f.h5:/A: bad");
  }
}

}  // namespace
