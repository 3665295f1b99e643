#pragma once
// Runs the library's solver on one process (MPI_COMM_SELF) in the textbook layout, so tests can
// compare it with the naive reference.

#include "dnmf/nmf/solver.hpp"

namespace testing_support {

struct Run {
  dnmf::Matrix W;  ///< m x k
  dnmf::Matrix H;  ///< k x n
  dnmf::nmf::SolveResult result;
};

/// Exactly `iterations` iterations (the stopping window is longer than the run).
inline Run run_serial(const dnmf::Matrix& A, const dnmf::Matrix& W0, const dnmf::Matrix& H0,
                      dnmf::nmf::Algorithm algorithm, int iterations) {
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const dnmf::nmf::DenseBlock block{dnmf::RowMatrix(A)};
  dnmf::nmf::SolverOptions options;
  options.algorithm = algorithm;
  options.rank = W0.cols();
  options.stop.max_iterations = iterations;
  options.stop.window = iterations + 1;
  dnmf::nmf::Factors factors{W0.transpose(), H0};
  const dnmf::nmf::InputStatistics statistics = dnmf::nmf::input_statistics(block, self);
  Run run;
  run.result = dnmf::nmf::solve(block, factors, options, statistics, self);
  run.W = factors.Wt.transpose();
  run.H = factors.H;
  return run;
}

inline double relative_difference(const dnmf::Matrix& X, const dnmf::Matrix& Y) {
  return (X - Y).norm() / std::max(Y.norm(), 1e-300);
}

}  // namespace testing_support
