#pragma once
// NNDSVD initialisation (Boutsidis & Gallopoulos 2008, "SVD based initialization: A head start
// for nonnegative matrix factorization", Pattern Recognition 41(4)) computed as scikit-learn's
// _initialize_nmf does, from the distributed truncated SVD of A (nmf/truncated_svd.hpp): a
// sparse A stays sparse, and every rank count gives the same factors to rounding.

#include <cstdint>

#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/factors.hpp"
#include "dnmf/nmf/local_block.hpp"

namespace dnmf::nmf {

/// What the entries NNDSVD leaves at zero become.
enum class NndsvdFill {
  Zeros,        ///< nndsvd: kept (sparse factors)
  Mean,         ///< nndsvda: mean(A)
  SmallRandom,  ///< nndsvdar: mean(A) / 100 |N(0,1)|, a function of (seed, factor, global index)
};

/// Collective. For each of the k leading singular triplets (s_j, u_j, v_j) of A: the first gives
/// W[:, 0] = sqrt(s_0) |u_0|, H[0, :] = sqrt(s_0) |v_0|; each other one its positive or negative
/// part, whichever has the larger ||u±|| ||v±||, scaled to sqrt(s_j ||u±|| ||v±||). Entries
/// below 1e-6 become 0 (scikit-learn's absolute threshold), then `fill` replaces the zeros.
/// `seed` draws the SVD's test matrix and nndsvdar's fill values. Computed in double and rounded
/// to Scalar (float or double, A's precision).
template <class Scalar>
FactorsT<Scalar> nndsvd_factors(const LocalBlockT<Scalar>& A, std::int64_t row_begin,
                                const InputStatistics& statistics, Index k, NndsvdFill fill,
                                std::uint64_t seed, mpi::Communicator& comm);

}  // namespace dnmf::nmf
