#pragma once
// The power of two the solvers multiply A by, so that its largest entry lies in [0.5, 2).
//
// NMF is scale-invariant: if W H fits A, then (c W) H fits c A. What A's scale does reach are
// the absolute constants (the 1e-16 guards against division by zero, NNDSVD's and BPP's zero
// tolerances) and the range of the objective and the Grams: data near 1e-150 fell under the
// guards (MU returned W H = 0), data near 1e200 overflowed ||A||², float32 data near 1e30 its
// Grams, and subnormal-only data summed to zero. Scaled into [0.5, 2) every finite nonnegative A
// is a well-behaved problem. A power of two changes no significand, so the factors of 2^s A
// (s even) are exactly 2^(s/2) times those of A (as long as nothing under- or overflows), and
// every reported value is given back in A's units.
//
// With c = 2^exponent the solvers factorize c A, with W' = 2^w_exponent W and H' =
// 2^h_exponent H, the two exponents adding up to `exponent`. A factorization splits it evenly
// (the exponent is even for that): W and H stay in range when W H does (a fit of data near 1e308
// has W and H near 1e154, of subnormal data near 1e-160, where the whole scale on W would
// overflow or lose its bits), and the starts scale as the algorithms define them for c A, the
// random one and NNDSVD's both by sqrt(c), so the factors in A's units are the unscaled
// algorithm's. Codes against a fixed basis put the whole scale on W.
// The loss scales by c^p, p = 2 for ½||A - WH||² and 1 for the KL divergence; to keep the whole
// objective c^p times the original, a penalty of degree q (1 for l1, 2 for l2) on a factor scaled
// by 2^f is multiplied by 2^(p exponent - q f). The relative error does not change.

#include "dnmf/core/matrix.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/local_block.hpp"
#include "dnmf/nmf/options.hpp"

namespace dnmf::nmf {

/// Which factors the scale goes to: both (a factorization), or W alone (H is a fixed basis).
enum class ScaledFactors { Both, CodesOnly };

struct InputScaling {
  int exponent = 0;          ///< the solvers factorize 2^exponent A; even
  int w_exponent = 0;        ///< with W' = 2^w_exponent W
  int h_exponent = 0;        ///< and H' = 2^h_exponent H
  double largest_entry = 0;  ///< of A, before scaling: 0 when every entry is zero

  /// The penalties of the scaled problem, for W and for H.
  Penalty w_penalty(const Penalty& penalty, Loss loss) const;
  Penalty h_penalty(const Penalty& penalty, Loss loss) const;
  /// `options` with both penalties scaled.
  SolverOptions solver_options(const SolverOptions& options) const;
  /// The objective in A's units is the scaled problem's times 2^objective_exponent(loss).
  int objective_exponent(Loss loss) const;
};

/// Collective: finds the exponent from the largest entry over all ranks and scales `block` by
/// it (nothing when every entry is zero: the caller refuses that input).
template <class Scalar>
InputScaling normalize_input(LocalBlockT<Scalar>& block, ScaledFactors factors,
                             mpi::Communicator& comm);

/// values[i] *= 2^exponent, exactly unless a value under- or overflows; in steps when 2^exponent
/// itself is not a normal Scalar (scaling subnormal data up).
template <class Scalar>
void scale_by_power_of_two(Scalar* values, Index count, int exponent);

template <class Scalar>
void scale_by_power_of_two(MatrixT<Scalar>& values, int exponent) {
  scale_by_power_of_two(values.data(), values.size(), exponent);
}

}  // namespace dnmf::nmf
