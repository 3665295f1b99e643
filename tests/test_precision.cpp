// Single against double precision, at any rank count. From the same data and the same start,
// the relative errors agree to 1e-4 after a fixed number of iterations (dense and CSR blocks;
// MU, HALS, BPP with the Frobenius loss and MU with KL), and single's objective history never
// increases where double's does not. The sums that decide the objective are in double: a float
// block's statistics equal those of a double block holding the same values, and the recorded
// (Gram-trick) error of a float run equals a direct double evaluation of its factors.

#include <gtest/gtest.h>

#include <cmath>

#include "dnmf/mpi/partition.hpp"
#include "naive_nmf.hpp"
#include "solver_fixture.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::Algorithm;
using dnmf::nmf::Loss;

/// A 203 x 87 matrix with about half its entries zero.
Matrix half_sparse() {
  Matrix A = naive::random_matrix(203, 87, 17);
  return (A.array() < 0.5).select(0.0, A);
}

template <class Scalar>
struct Fit {
  dnmf::nmf::FactorsT<Scalar> factors;
  dnmf::nmf::SolveResult result;
  std::unique_ptr<dnmf::nmf::LocalBlockT<Scalar>> block;
  dnmf::nmf::InputStatistics statistics;
};

/// This rank's rows of A, rounded to Scalar, as a dense or a CSR block, solved on MPI_COMM_WORLD
/// from random_factors<Scalar> (the double start rounded).
template <class Scalar>
Fit<Scalar> fit(const Matrix& A, bool sparse, const dnmf::nmf::SolverOptions& options) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const dnmf::mpi::BlockPartition rows(A.rows(), world.size());
  const Index begin = rows.begin(world.rank());
  const dnmf::RowMatrixT<Scalar> mine = A.middleRows(begin, rows.size(world.rank())).cast<Scalar>();
  Fit<Scalar> out;
  if (sparse) {
    out.block = std::make_unique<dnmf::nmf::SparseBlockT<Scalar>>(mine.sparseView());
  } else {
    out.block = std::make_unique<dnmf::nmf::DenseBlockT<Scalar>>(mine);
  }
  out.statistics = dnmf::nmf::input_statistics(*out.block, world);
  out.factors = dnmf::nmf::random_factors<Scalar>(options.rank, out.block->rows(), begin, A.cols(),
                                                  out.statistics.mean(), 3);
  out.result = dnmf::nmf::solve(*out.block, out.factors, options, out.statistics, world);
  return out;
}

dnmf::nmf::SolverOptions fixed_iterations(Algorithm algorithm, Loss loss, int iterations) {
  dnmf::nmf::SolverOptions options;
  options.algorithm = algorithm;
  options.loss = loss;
  options.rank = 6;
  options.stop.max_iterations = iterations;
  options.stop.window = iterations + 1;
  return options;
}

TEST(Precision, SingleAgreesWithDoubleAndDescendsWhereDoubleDoes) {
  const Matrix A = half_sparse();
  for (const bool sparse : {false, true}) {
    for (const auto& [algorithm, loss] :
         {std::pair{Algorithm::Mu, Loss::Frobenius}, std::pair{Algorithm::Hals, Loss::Frobenius},
          std::pair{Algorithm::Bpp, Loss::Frobenius},
          std::pair{Algorithm::Mu, Loss::KullbackLeibler}}) {
      const auto options = fixed_iterations(algorithm, loss, 30);
      const auto in_double = fit<double>(A, sparse, options);
      const auto in_single = fit<float>(A, sparse, options);
      const std::string what =
          to_string(algorithm) + " " + to_string(loss) + (sparse ? " CSR" : " dense");
      const double reference = in_double.result.relative_error;
      EXPECT_NEAR(in_single.result.relative_error, reference, 1e-4 * reference) << what;
      const auto& single_history = in_single.result.history;
      const auto& double_history = in_double.result.history;
      ASSERT_EQ(single_history.size(), double_history.size()) << what;
      EXPECT_NEAR(single_history.back().relative_error, double_history.back().relative_error,
                  1e-4 * double_history.back().relative_error)
          << what;
      if (algorithm == Algorithm::Bpp) continue;  // ANLS: not monotone in general
      for (std::size_t t = 1; t < double_history.size(); ++t) {
        if (double_history[t].objective > double_history[t - 1].objective) continue;
        EXPECT_LE(single_history[t].objective, single_history[t - 1].objective)
            << what << " iteration " << single_history[t].iteration;
      }
    }
  }
}

TEST(Precision, ObjectiveSumsAreInDouble) {
  // Large enough that float sums would be off by more than 1e-6 relatively.
  const Matrix A = testing_support::rounded<float>(naive::random_matrix(1500, 400, 23));
  for (const bool sparse : {false, true}) {
    const auto options = fixed_iterations(Algorithm::Hals, Loss::Frobenius, 5);
    const auto in_single = fit<float>(A, sparse, options);
    const auto in_double = fit<double>(A, sparse, options);  // the same values, held in double
    const std::string what = sparse ? "CSR" : "dense";
    EXPECT_NEAR(in_single.statistics.sum, in_double.statistics.sum,
                1e-13 * in_double.statistics.sum)
        << what;
    EXPECT_NEAR(in_single.statistics.squared_norm, in_double.statistics.squared_norm,
                1e-13 * in_double.statistics.squared_norm)
        << what;

    // The float run's factors, evaluated directly in double.
    dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
    const dnmf::nmf::Factors factors{in_single.factors.Wt.cast<double>(),
                                     in_single.factors.H.cast<double>()};
    const double direct =
        dnmf::nmf::relative_error(*in_double.block, factors, in_double.statistics, world);
    EXPECT_NEAR(in_single.result.history.back().relative_error, direct, 1e-6 * direct) << what;
    EXPECT_NEAR(in_single.result.relative_error, direct, 1e-7 * direct) << what;
  }
}

}  // namespace
