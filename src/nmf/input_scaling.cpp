#include "dnmf/nmf/input_scaling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dnmf::nmf {
namespace {

/// p: the loss is homogeneous of degree p in (A, W H) together.
int loss_degree(Loss loss) { return loss == Loss::Frobenius ? 2 : 1; }

/// The penalty of a factor scaled by 2^factor_exponent: l1 has degree 1, l2 degree 2.
Penalty scaled_penalty(const Penalty& penalty, Loss loss, int exponent, int factor_exponent) {
  const int loss_exponent = loss_degree(loss) * exponent;
  return {std::ldexp(penalty.l1, loss_exponent - factor_exponent),
          std::ldexp(penalty.l2, loss_exponent - 2 * factor_exponent)};
}

}  // namespace

Penalty InputScaling::w_penalty(const Penalty& penalty, Loss loss) const {
  return scaled_penalty(penalty, loss, exponent, w_exponent);
}

Penalty InputScaling::h_penalty(const Penalty& penalty, Loss loss) const {
  return scaled_penalty(penalty, loss, exponent, h_exponent);
}

SolverOptions InputScaling::solver_options(const SolverOptions& options) const {
  SolverOptions scaled = options;
  scaled.w_penalty = w_penalty(options.w_penalty, options.loss);
  scaled.h_penalty = h_penalty(options.h_penalty, options.loss);
  return scaled;
}

int InputScaling::objective_exponent(Loss loss) const { return -loss_degree(loss) * exponent; }

template <class Scalar>
InputScaling normalize_input(LocalBlockT<Scalar>& block, ScaledFactors factors,
                             mpi::Communicator& comm) {
  InputScaling scaling;
  scaling.largest_entry = comm.max(block.largest_entry());
  if (scaling.largest_entry == 0) return scaling;
  // ilogb(x) = floor(log2 x), also for subnormal x: x 2^-ilogb(x) lies in [1, 2), and in
  // [0.5, 1) with the exponent one less, which makes it even.
  const int exponent = -std::ilogb(scaling.largest_entry);
  scaling.exponent = exponent % 2 == 0 ? exponent : exponent - 1;
  scaling.w_exponent = factors == ScaledFactors::Both ? scaling.exponent / 2 : scaling.exponent;
  scaling.h_exponent = scaling.exponent - scaling.w_exponent;
  block.scale_by_power_of_two(scaling.exponent);
  return scaling;
}

template <class Scalar>
void scale_by_power_of_two(Scalar* values, Index count, int exponent) {
  // Steps of at most the largest normal power of two, so that every factor is exact.
  constexpr int kLargestStep = std::numeric_limits<Scalar>::max_exponent - 1;
  constexpr int kSmallestStep = std::numeric_limits<Scalar>::min_exponent - 1;
  while (exponent != 0) {
    const int step = std::clamp(exponent, kSmallestStep, kLargestStep);
    const Scalar factor = std::ldexp(Scalar(1), step);
    for (Index i = 0; i < count; ++i) values[i] *= factor;
    exponent -= step;
  }
}

#define DNMF_INSTANTIATE_INPUT_SCALING(Scalar)                                       \
  template InputScaling normalize_input<Scalar>(LocalBlockT<Scalar>&, ScaledFactors, \
                                                mpi::Communicator&);                 \
  template void scale_by_power_of_two<Scalar>(Scalar*, Index, int);
DNMF_INSTANTIATE_INPUT_SCALING(float)
DNMF_INSTANTIATE_INPUT_SCALING(double)
#undef DNMF_INSTANTIATE_INPUT_SCALING

}  // namespace dnmf::nmf
