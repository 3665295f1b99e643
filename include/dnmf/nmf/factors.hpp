#pragma once
// The factors of A ≈ W H on one rank, stored one problem per column (see core/matrix.hpp), in
// float or double.

#include <cstdint>

#include "dnmf/core/matrix.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/local_block.hpp"

namespace dnmf::nmf {

template <class Scalar>
struct FactorsT {
  MatrixT<Scalar> Wt;  ///< k x m_local: this rank's rows of W, transposed
  MatrixT<Scalar> H;   ///< k x n: replicated on every rank
};
using Factors = FactorsT<double>;

/// Global sum and squared Frobenius norm of A, from one allreduce, accumulated in double
/// whatever A's Scalar (in float, ||A||² of a large matrix would lose the digits that the
/// Gram-trick objective ||A||² - 2<WᵀA, H> + <WᵀW, HHᵀ> needs after its cancellation).
struct InputStatistics {
  double sum = 0;
  double squared_norm = 0;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  double mean() const { return sum / (static_cast<double>(rows) * static_cast<double>(cols)); }
};
template <class Scalar>
InputStatistics input_statistics(const LocalBlockT<Scalar>& block, mpi::Communicator& comm);

/// Random factors scaled like scikit-learn's: entries |N(0,1)| * sqrt(mean(A) / k). Each entry
/// is a function of (seed, factor, global row, column) only, so every rank count starts alike;
/// in float, the double entries rounded.
template <class Scalar = double>
FactorsT<Scalar> random_factors(Index rank, Index local_rows, std::int64_t row_begin, Index cols,
                                double mean, std::uint64_t seed);

}  // namespace dnmf::nmf
