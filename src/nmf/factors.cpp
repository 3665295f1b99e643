#include "dnmf/nmf/factors.hpp"

#include <cmath>

#include "dnmf/core/random.hpp"

namespace dnmf::nmf {

template <class Scalar>
InputStatistics input_statistics(const LocalBlockT<Scalar>& block, mpi::Communicator& comm) {
  double values[3] = {block.sum(), block.squared_norm(), static_cast<double>(block.rows())};
  comm.allreduce_sum(values, 3);
  InputStatistics statistics;
  statistics.sum = values[0];
  statistics.squared_norm = values[1];
  statistics.rows = static_cast<std::int64_t>(values[2]);
  statistics.cols = block.cols();
  return statistics;
}

template <class Scalar>
FactorsT<Scalar> random_factors(Index rank, Index local_rows, std::int64_t row_begin, Index cols,
                                double mean, std::uint64_t seed) {
  const double scale = std::sqrt(std::max(mean, 0.0) / static_cast<double>(rank));
  FactorsT<Scalar> factors{MatrixT<Scalar>(rank, local_rows), MatrixT<Scalar>(rank, cols)};
  for (Index i = 0; i < local_rows; ++i)
    for (Index j = 0; j < rank; ++j)
      factors.Wt(j, i) =
          static_cast<Scalar>(scale * counter_half_normal(seed, RandomStream::W,
                                                          static_cast<std::uint64_t>(row_begin + i),
                                                          static_cast<std::uint64_t>(j)));
  for (Index j = 0; j < rank; ++j)
    for (Index c = 0; c < cols; ++c)
      factors.H(j, c) = static_cast<Scalar>(
          scale * counter_half_normal(seed, RandomStream::H, static_cast<std::uint64_t>(j),
                                      static_cast<std::uint64_t>(c)));
  return factors;
}

#define DNMF_INSTANTIATE_FACTORS(Scalar)                                                      \
  template InputStatistics input_statistics<Scalar>(const LocalBlockT<Scalar>&,               \
                                                    mpi::Communicator&);                      \
  template FactorsT<Scalar> random_factors<Scalar>(Index, Index, std::int64_t, Index, double, \
                                                   std::uint64_t);
DNMF_INSTANTIATE_FACTORS(float)
DNMF_INSTANTIATE_FACTORS(double)
#undef DNMF_INSTANTIATE_FACTORS

}  // namespace dnmf::nmf
