#pragma once
// Runs the library's solver on one process (MPI_COMM_SELF) in the textbook layout, so tests can
// compare it with the naive reference, in double or in single precision.

#include "dnmf/nmf/solver.hpp"

namespace testing_support {

/// The precisions the engine is instantiated for, for typed tests.
using Precisions = ::testing::Types<double, float>;

/// X rounded to Scalar and back: the data a Scalar run actually sees, for the naive reference.
template <class Scalar>
dnmf::Matrix rounded(const dnmf::Matrix& X) {
  return X.cast<Scalar>().template cast<double>();
}

struct Run {
  dnmf::Matrix W;  ///< m x k
  dnmf::Matrix H;  ///< k x n
  dnmf::nmf::SolveResult result;
};

/// Exactly `iterations` iterations (the stopping window is longer than the run), with A, W0 and
/// H0 rounded to Scalar.
template <class Scalar = double>
Run run_serial(const dnmf::Matrix& A, const dnmf::Matrix& W0, const dnmf::Matrix& H0,
               dnmf::nmf::Algorithm algorithm, int iterations) {
  dnmf::mpi::Communicator self = dnmf::mpi::Communicator::self();
  const dnmf::nmf::DenseBlockT<Scalar> block{dnmf::RowMatrixT<Scalar>(A.cast<Scalar>())};
  dnmf::nmf::SolverOptions options;
  options.algorithm = algorithm;
  options.rank = W0.cols();
  options.stop.max_iterations = iterations;
  options.stop.window = iterations + 1;
  dnmf::nmf::FactorsT<Scalar> factors{W0.transpose().cast<Scalar>(), H0.cast<Scalar>()};
  const dnmf::nmf::InputStatistics statistics = dnmf::nmf::input_statistics(block, self);
  Run run;
  run.result = dnmf::nmf::solve(block, factors, options, statistics, self);
  run.W = factors.Wt.transpose().template cast<double>();
  run.H = factors.H.template cast<double>();
  return run;
}

inline double relative_difference(const dnmf::Matrix& X, const dnmf::Matrix& Y) {
  return (X - Y).norm() / std::max(Y.norm(), 1e-300);
}

}  // namespace testing_support
