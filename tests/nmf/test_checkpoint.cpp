// Stopping on a signal and resuming: a signal raised on one rank stops every rank after the same
// iteration and hands the checkpoint hook the state; resuming from that state gives bitwise the
// factors and history of an uninterrupted run with the same rank count. Periodic checkpoints
// come every N iterations.

#include <gtest/gtest.h>

#include <csignal>

#include "dnmf/core/stop_request.hpp"
#include "dnmf/mpi/partition.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::Algorithm;

struct Problem {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  Matrix A = naive::random_matrix(41, 17, 3);
  dnmf::mpi::BlockPartition rows{41, world.size()};
  dnmf::nmf::DenseBlock block{
      dnmf::RowMatrix(A.middleRows(rows.begin(world.rank()), rows.size(world.rank())))};
  dnmf::nmf::InputStatistics statistics = dnmf::nmf::input_statistics(block, world);

  dnmf::nmf::Factors start() const {
    return dnmf::nmf::random_factors(4, rows.size(world.rank()), rows.begin(world.rank()), 17,
                                     statistics.mean(), 2);
  }
  /// With penalties on W the per-iteration allreduce carries two more values (Σ W, ||W||²).
  dnmf::nmf::SolverOptions options(Algorithm algorithm, bool w_penalised) const {
    dnmf::nmf::SolverOptions o;
    o.algorithm = algorithm;
    if (w_penalised) o.w_penalty = {0.001, 0.01};
    o.rank = 4;
    o.stop.max_iterations = 25;
    o.stop.tolerance = 1e-5;  // the stopping window's history must survive the resume
    return o;
  }
};

TEST(Checkpoint, SignalOnOneRankStopsAllAndResumesBitwise) {
  dnmf::install_stop_handlers();
  Problem setup;
  for (const auto& [algorithm, w_penalised] : {std::pair{Algorithm::Mu, false},
                                               {Algorithm::Hals, false},
                                               {Algorithm::Bpp, false},
                                               {Algorithm::Mu, true},
                                               {Algorithm::Hals, true},
                                               {Algorithm::Bpp, true}}) {
    SCOPED_TRACE(to_string(algorithm) + (w_penalised ? " with penalties on W" : ""));
    dnmf::nmf::Factors uninterrupted = setup.start();
    const auto expected =
        dnmf::nmf::solve(setup.block, uninterrupted, setup.options(algorithm, w_penalised),
                         setup.statistics, setup.world);

    dnmf::nmf::Factors factors = setup.start();
    dnmf::nmf::Factors saved;
    dnmf::nmf::SolveResult saved_run;
    int checkpoints = 0;
    dnmf::nmf::SolverHooks hooks;
    const int signalling_rank = setup.world.size() - 1;
    hooks.progress = [&](const dnmf::nmf::IterationRecord& record) {
      if (record.iteration == 9 && setup.world.rank() == signalling_rank) std::raise(SIGUSR1);
    };
    hooks.checkpoint = [&](const dnmf::nmf::Factors& current, const dnmf::nmf::SolveResult& run) {
      saved = current;
      saved_run = run;
      ++checkpoints;
    };
    const auto stopped =
        dnmf::nmf::solve(setup.block, factors, setup.options(algorithm, w_penalised),
                         setup.statistics, setup.world, {}, hooks);
    dnmf::clear_stop_signal();
    EXPECT_EQ(stopped.reason, dnmf::nmf::StopReason::Signal);
    // Raised after iteration 9's allreduce, seen in iteration 10's: every rank stops after 10.
    EXPECT_EQ(stopped.iterations, 10);
    EXPECT_EQ(checkpoints, 1);
    ASSERT_EQ(saved_run.iterations, 10);

    const auto resumed = dnmf::nmf::solve(setup.block, saved, setup.options(algorithm, w_penalised),
                                          setup.statistics, setup.world, saved_run);
    EXPECT_EQ(resumed.iterations, expected.iterations);
    EXPECT_EQ(resumed.reason, expected.reason);
    EXPECT_TRUE(saved.Wt == uninterrupted.Wt) << "W not bitwise equal";
    EXPECT_TRUE(saved.H == uninterrupted.H) << "H not bitwise equal";
    ASSERT_EQ(resumed.history.size(), expected.history.size());
    for (std::size_t t = 0; t < expected.history.size(); ++t) {
      EXPECT_EQ(resumed.history[t].relative_error, expected.history[t].relative_error);
    }
  }
}

TEST(Checkpoint, PeriodicCheckpoints) {
  Problem setup;
  dnmf::nmf::Factors factors = setup.start();
  std::vector<int> at;
  dnmf::nmf::SolverHooks hooks;
  hooks.checkpoint_every = 7;
  hooks.checkpoint = [&](const dnmf::nmf::Factors&, const dnmf::nmf::SolveResult& run) {
    at.push_back(run.iterations);
  };
  auto options = setup.options(Algorithm::Hals, false);
  options.stop.tolerance = 0;
  options.stop.window = 100;
  dnmf::nmf::solve(setup.block, factors, options, setup.statistics, setup.world, {}, hooks);
  EXPECT_EQ(at, (std::vector<int>{7, 14, 21}));
}

}  // namespace
