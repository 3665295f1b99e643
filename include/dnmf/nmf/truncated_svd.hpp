#pragma once
// The k leading singular triplets of A, rows spread over the ranks, by randomized subspace
// iteration (Halko, Martinsson & Tropp 2011, "Finding structure with randomness", Alg. 4.4):
// sketch the range of A with a Gaussian test matrix, refine it by power iterations, then take
// the exact SVD of the small projection QᵀA. A is only touched through LocalBlock's two
// products, so a sparse block is never densified.
//
// Every rank computes the same replicated parts (the test matrix, the small Gram and SVD
// problems) from allreduced data, so the result equals the one-process result to rounding.

#include <cstdint>

#include "dnmf/core/matrix.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/local_block.hpp"

namespace dnmf::nmf {

/// A ≈ U diag(singular_values) Vᵀ, in the solver's layout (one vector per row), in double
/// whatever A's precision.
struct TruncatedSvd {
  Matrix Ut;               ///< k x m_local: this rank's rows of U, transposed
  Vector singular_values;  ///< k, non-increasing; 0 beyond the numerical rank of A
  Matrix Vt;               ///< k x n: replicated on every rank
};

struct SketchOptions {
  Index oversampling = 10;    ///< extra sketch vectors (scikit-learn's n_oversamples)
  int power_iterations = -1;  ///< -1: 7 if k < 0.1 min(m, n), else 4 (scikit-learn's 'auto')
  std::uint64_t seed = 0;     ///< the Gaussian test matrix, a function of (seed, entry) only
};

/// Collective. `rows` is the global row count m. Each singular pair's sign is fixed so that the
/// entry of largest magnitude of v (the first such) is positive: V is replicated, so the choice
/// needs no communication and does not depend on the rank count. Beyond the rank the sketch
/// finds (an all-zero or exactly low-rank A) singular values and vectors are 0, never NaN.
/// Instantiated for float and double blocks; the products with A run in A's precision.
template <class Scalar>
TruncatedSvd truncated_svd(const LocalBlockT<Scalar>& A, std::int64_t rows, Index k,
                           const SketchOptions& options, mpi::Communicator& comm);

}  // namespace dnmf::nmf
