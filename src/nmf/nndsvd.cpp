#include "dnmf/nmf/nndsvd.hpp"

#include <cmath>

#include "dnmf/core/random.hpp"
#include "dnmf/nmf/truncated_svd.hpp"

namespace dnmf::nmf {
namespace {

// scikit-learn's eps in _initialize_nmf: smaller entries of W and H are set to zero.
constexpr double kZeroBelow = 1e-6;

/// Sets entries below kZeroBelow to 0, then the zeros to `fill`'s values. `value(j, index)`
/// draws nndsvdar's value for component j at global index `index` of the factor.
template <class Draw>
void truncate_and_fill(Matrix& factor, NndsvdFill fill, double mean, const Draw& value) {
  for (Index index = 0; index < factor.cols(); ++index) {
    for (Index j = 0; j < factor.rows(); ++j) {
      double& entry = factor(j, index);
      if (entry >= kZeroBelow) continue;
      switch (fill) {
        case NndsvdFill::Zeros: entry = 0; break;
        case NndsvdFill::Mean: entry = mean; break;
        case NndsvdFill::SmallRandom: entry = mean / 100 * value(j, index); break;
      }
    }
  }
}

}  // namespace

template <class Scalar>
FactorsT<Scalar> nndsvd_factors(const LocalBlockT<Scalar>& A, std::int64_t row_begin,
                                const InputStatistics& statistics, Index k, NndsvdFill fill,
                                std::uint64_t seed, mpi::Communicator& comm) {
  SketchOptions sketch;
  sketch.seed = seed;
  const TruncatedSvd svd = truncated_svd(A, statistics.rows, k, sketch, comm);
  const Matrix& Ut = svd.Ut;
  const Matrix& Vt = svd.Vt;

  // ||u_j+||², ||u_j-||²: U's rows are spread over the ranks, so one allreduce sums them.
  Matrix u_part_norms(2, k);
  u_part_norms.row(0) = Ut.cwiseMax(0.0).rowwise().squaredNorm().transpose();
  u_part_norms.row(1) = Ut.cwiseMin(0.0).rowwise().squaredNorm().transpose();
  comm.allreduce_sum(u_part_norms.data(), u_part_norms.size());
  u_part_norms = u_part_norms.cwiseSqrt();

  Matrix Wt = Matrix::Zero(k, A.rows());
  Matrix H = Matrix::Zero(k, A.cols());
  // The leading singular vectors of a nonnegative matrix are nonnegative (Perron-Frobenius).
  const double s0 = std::sqrt(svd.singular_values(0));
  Wt.row(0) = s0 * Ut.row(0).cwiseAbs();
  H.row(0) = s0 * Vt.row(0).cwiseAbs();
  for (Index j = 1; j < k; ++j) {
    const double u_positive = u_part_norms(0, j);
    const double u_negative = u_part_norms(1, j);
    const double v_positive = Vt.row(j).cwiseMax(0.0).norm();
    const double v_negative = Vt.row(j).cwiseMin(0.0).norm();
    const double positive = u_positive * v_positive;
    const double negative = u_negative * v_negative;
    const double scale = std::sqrt(svd.singular_values(j) * std::max(positive, negative));
    if (positive > negative) {
      Wt.row(j) = scale / u_positive * Ut.row(j).cwiseMax(0.0);
      H.row(j) = scale / v_positive * Vt.row(j).cwiseMax(0.0);
    } else if (negative > 0) {
      Wt.row(j) = -scale / u_negative * Ut.row(j).cwiseMin(0.0);
      H.row(j) = -scale / v_negative * Vt.row(j).cwiseMin(0.0);
    }
    // else both parts vanish (a zero singular triplet beyond A's rank): the component stays 0.
  }

  const double mean = statistics.mean();
  truncate_and_fill(Wt, fill, mean, [&](Index j, Index row) {
    return counter_half_normal(seed, RandomStream::W, static_cast<std::uint64_t>(row_begin + row),
                               static_cast<std::uint64_t>(j));
  });
  truncate_and_fill(H, fill, mean, [&](Index j, Index col) {
    return counter_half_normal(seed, RandomStream::H, static_cast<std::uint64_t>(j),
                               static_cast<std::uint64_t>(col));
  });
  return {Wt.cast<Scalar>(), H.cast<Scalar>()};
}

template FactorsT<float> nndsvd_factors(const LocalBlockT<float>&, std::int64_t,
                                        const InputStatistics&, Index, NndsvdFill, std::uint64_t,
                                        mpi::Communicator&);
template FactorsT<double> nndsvd_factors(const LocalBlockT<double>&, std::int64_t,
                                         const InputStatistics&, Index, NndsvdFill, std::uint64_t,
                                         mpi::Communicator&);

}  // namespace dnmf::nmf
