// Single against double precision, at any rank count. From the same data and the same start,
// the relative errors agree after a fixed number of iterations to the float rounding of one
// iteration times the run's measured amplification (dense and CSR blocks; MU, HALS, BPP with the
// Frobenius loss and MU with KL), and single's objective history never increases where
// double's does not. The sums that decide the objective are in double: a float
// block's statistics equal those of a double block holding the same values, and the recorded
// (Gram-trick) error of a float run equals a direct double evaluation of its factors.

#include <gtest/gtest.h>

#include <cmath>

#include "dnmf/mpi/partition.hpp"
#include "error_bounds.hpp"
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
/// from random_factors<Scalar> (the double start rounded). A probe (seed > 0) perturbs A and
/// the start (error_bounds::perturbed).
template <class Scalar>
Fit<Scalar> fit(const Matrix& A, bool sparse, const dnmf::nmf::SolverOptions& options,
                std::uint64_t probe = 0) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  const dnmf::mpi::BlockPartition rows(A.rows(), world.size());
  const Index begin = rows.begin(world.rank());
  const Matrix input = probe > 0 ? error_bounds::perturbed(A, probe) : A;
  const dnmf::RowMatrixT<Scalar> mine =
      input.middleRows(begin, rows.size(world.rank())).cast<Scalar>();
  Fit<Scalar> out;
  if (sparse) {
    out.block = std::make_unique<dnmf::nmf::SparseBlockT<Scalar>>(mine.sparseView());
  } else {
    out.block = std::make_unique<dnmf::nmf::DenseBlockT<Scalar>>(mine);
  }
  out.statistics = dnmf::nmf::input_statistics(*out.block, world);
  out.factors = dnmf::nmf::random_factors<Scalar>(options.rank, out.block->rows(), begin, A.cols(),
                                                  out.statistics.mean(), 3);
  if (probe > 0) {
    out.factors.Wt = error_bounds::perturbed(out.factors.Wt, probe + 1);
    out.factors.H = error_bounds::perturbed(out.factors.H, probe + 2);
  }
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
      const auto& single_history = in_single.result.history;
      const auto& double_history = in_double.result.history;
      ASSERT_EQ(single_history.size(), double_history.size()) << what;
      // The float run sees A and the start rounded to float (u) and rounds every iteration's
      // products in float; the double run's rounding is 2^29 times smaller.
      double final_amplification = 0;
      double recorded_amplification = 0;
      for (int probe = 1; probe <= error_bounds::kScalarProbes; ++probe) {
        const auto probed = fit<double>(A, sparse, options, 10 * probe);
        final_amplification = std::max(final_amplification,
                                       error_bounds::amplification(in_double.result.relative_error,
                                                                   probed.result.relative_error));
        recorded_amplification =
            std::max(recorded_amplification,
                     error_bounds::amplification(double_history.back().relative_error,
                                                 probed.result.history.back().relative_error));
      }
      const double rounding =
          error_bounds::unit_roundoff<float>() +
          error_bounds::iteration_rounding<float>(A.rows(), A.cols(), options.rank,
                                                  dnmf::mpi::Communicator::world().size());
      const double reference = in_double.result.relative_error;
      EXPECT_NEAR(in_single.result.relative_error, reference,
                  error_bounds::iterated_tolerance(final_amplification, rounding) * reference)
          << what << ", amplification " << final_amplification;
      EXPECT_NEAR(single_history.back().relative_error, double_history.back().relative_error,
                  error_bounds::iterated_tolerance(recorded_amplification, rounding) *
                      double_history.back().relative_error)
          << what << ", amplification " << recorded_amplification;
      if (algorithm == Algorithm::Bpp) continue;  // ANLS: not monotone in general
      // "Does not increase" up to the rounding of single's recorded objectives (worst case from
      // the history alone: the Gram trick with float WᵀA, or the KL sums with float W H).
      const double m = static_cast<double>(A.rows());
      const double n = static_cast<double>(A.cols());
      const double k = static_cast<double>(options.rank);
      const double ranks = dnmf::mpi::Communicator::world().size();
      const auto& statistics = in_single.statistics;
      const auto noise = [&](const dnmf::nmf::IterationRecord& record) {
        if (loss == Loss::KullbackLeibler) {
          return error_bounds::kl_objective_error<float>(record.objective, statistics.sum, m, n, k);
        }
        const auto sums =
            error_bounds::history_sums(statistics.squared_norm, record.relative_error, m * n);
        return record.objective *
               error_bounds::gram_trick_fit_bound(
                   sums, m, n, k, ranks, error_bounds::gamma<float>(m + ranks) * sums.correlation);
      };
      for (std::size_t t = 1; t < double_history.size(); ++t) {
        if (double_history[t].objective > double_history[t - 1].objective) continue;
        EXPECT_LE(single_history[t].objective, single_history[t - 1].objective +
                                                   noise(single_history[t]) +
                                                   noise(single_history[t - 1]))
            << what << " iteration " << single_history[t].iteration;
      }
    }
  }
}

TEST(Precision, ObjectiveSumsAreInDouble) {
  // N = 600000 entries. Σ A and ||A||² of float values are sums of exact double terms, each
  // within γ_{N-1} Σ|x| of the exact sum in any order and over any ranks (Higham §4.2): the two
  // blocks agree to 2 γ_N = 1.3e-10. Summed in float they would be off by more than
  // u = 6e-8 even pairwise, and by about sqrt(N) u = 5e-5 in a running sum.
  const Matrix A = testing_support::rounded<float>(naive::random_matrix(1500, 400, 23));
  const double N = static_cast<double>(A.size());
  const auto options = fixed_iterations(Algorithm::Hals, Loss::Frobenius, 5);
  const double k = static_cast<double>(options.rank);
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  for (const bool sparse : {false, true}) {
    const auto in_single = fit<float>(A, sparse, options);
    const auto in_double = fit<double>(A, sparse, options);  // the same values, held in double
    const std::string what = sparse ? "CSR" : "dense";
    const double sums = 2 * error_bounds::gamma<double>(N);
    EXPECT_NEAR(in_single.statistics.sum, in_double.statistics.sum, sums * in_double.statistics.sum)
        << what;
    EXPECT_NEAR(in_single.statistics.squared_norm, in_double.statistics.squared_norm,
                sums * in_double.statistics.squared_norm)
        << what;

    // The float run's factors, evaluated directly in double.
    const dnmf::nmf::Factors factors{in_single.factors.Wt.cast<double>(),
                                     in_single.factors.H.cast<double>()};
    const double direct =
        dnmf::nmf::relative_error(*in_double.block, factors, in_double.statistics, world);
    const dnmf::mpi::BlockPartition rows(A.rows(), world.size());
    const Matrix mine = A.middleRows(rows.begin(world.rank()), rows.size(world.rank()));
    error_bounds::ResidualSums terms =
        error_bounds::residual_sums(mine, factors.Wt.transpose() * factors.H);
    world.allreduce_sum(&terms.entries, error_bounds::ResidualSums::kCount);
    Matrix WtA = factors.Wt * mine;
    world.allreduce_sum(WtA.data(), WtA.size());
    const double m = static_cast<double>(A.rows());
    const double n = static_cast<double>(A.cols());
    const double N_A = terms.entries;
    const double direct_bound = error_bounds::relative_error_bound(
        error_bounds::direct_fit_bound<double>(terms, n, k), N_A);
    // The recorded error: the Gram trick, with the entries of WᵀA from a float product over the
    // m rows (and the ranks' reduction). Its worst case, γ_m <WᵀA, H>, is 3e-4 in e here and
    // would let a wrong or stale term of that size pass; the probabilistic bound is 1e-6. (A
    // float sum of <WᵀA, H> would move e by only about 8e-7 at this size: the sums whose float
    // rounding would swamp the history, ||A||² and Σ A, are the ones checked above.)
    const double recorded_bound = error_bounds::relative_error_bound(
        error_bounds::gram_trick_fit_bound(
            terms, m, n, k, world.size(),
            error_bounds::probabilistic_product_error<float>(WtA, factors.H, m + world.size())),
        N_A);
    EXPECT_NEAR(in_single.result.history.back().relative_error, direct,
                (recorded_bound + direct_bound) * direct)
        << what;
    // The final error, directly from the float block: W H in float.
    EXPECT_NEAR(in_single.result.relative_error, direct,
                (error_bounds::relative_error_bound(
                     error_bounds::direct_fit_bound<float>(terms, n, k), N_A) +
                 direct_bound) *
                    direct)
        << what;
  }
}

}  // namespace
