#pragma once
// Error bounds for the tests' floating-point comparisons: every tolerance in the tests comes from
// one of these, or is exact, or is a documented modelling threshold.
//
// Rounding (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., 2002). With u the
// unit roundoff and γ_n = n u / (1 - n u) (Lemma 3.1):
//   - a sum of n terms, in any order, is off by at most γ_{n-1} Σ|x_i| (§4.2);
//   - an inner product of length n by at most γ_n Σ|x_i y_i| (§3.1), so an entry of a matrix
//     product with inner dimension n by at most γ_n (|A| |B|)_ij (§3.5), with or without FMA.
// Two computations of one quantity are then within the sum of their bounds. All the NMF data
// is nonnegative, so |A| |B| = A B and those bounds are relative to the entries themselves.
//
// Where that worst case would be too loose for the test to fail on a real bug (a float product
// over thousands of rows), the probabilistic model of Higham & Mary ("A New Approach to
// Probabilistic Rounding Error Analysis", SIAM J. Sci. Comput. 41(5), 2019) replaces it:
// rounding errors independent and of mean zero, a sum of many of them stays within λ times the
// root of the sum of their squared bounds, except with probability 2 exp(-λ² / 2)
// (probabilistic_product_error).
//
// Fixed-iteration runs (1 rank against 4, single against double, the solver against the naive
// loops, T iterations each). Each product of one iteration carries a relative rounding error of
// at most ρ (the bounds above; the products with A, of inner dimension m or n, dominate the
// k x k work), which by backward error analysis (§3.5) is an exact product with A perturbed by
// ρ relatively; and a perturbation of A, present in every iteration, or of the start moves the
// result of T iterations by however much the iteration amplifies it, which no a priori bound
// gives for NMF (nonconvex, nonunique). The tests measure it: they run the reference again with
// A and the start perturbed entrywise by a relative kProbe in a pseudo-random direction
// (perturbed), and take amplification = (relative change of the result) / kProbe. Two runs
// then differ by about amplification × ρ; the tolerance is kSafety times that
// (iterated_tolerance), kSafety standing for the rounding's direction differing from the
// probe's (both are random-like; ρ is the rounding's worst case, above its typical size by
// about the root of the inner dimension). A result that is one number (a relative error) is
// probed in kScalarProbes directions, the largest response kept: one direction can be nearly
// orthogonal to its gradient. The same model serves computations that are sensitive in ways no
// simple bound captures: NNDSVD from an SVD (ρ its backward error), training runs.

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>

namespace error_bounds {

/// u = ε / 2: 2^-53 for double, 2^-24 for float.
template <class Scalar>
constexpr double unit_roundoff() {
  return static_cast<double>(std::numeric_limits<Scalar>::epsilon()) / 2;
}

/// γ_n = n u / (1 - n u) (Higham, Lemma 3.1).
template <class Scalar>
double gamma(double n) {
  const double nu = n * unit_roundoff<Scalar>();
  if (nu >= 1) throw std::invalid_argument("gamma: n u >= 1, no bound");
  return nu / (1 - nu);
}

/// λ of the probabilistic bounds: one fails with probability at most 2 exp(-λ² / 2) = 3e-8.
constexpr double kLambda = 6;

/// The relative size of the probe perturbation: large against the double rounding it must
/// stand out from (u × amplification), small enough for the response to be linear.
constexpr double kProbe = 1e-6;

/// How far two runs may be from each other beyond amplification × rounding (see above).
constexpr double kSafety = 10;

/// Directions probed for a result that is a single number.
constexpr int kScalarProbes = 3;

/// X with every entry multiplied by 1 + kProbe r, r uniform in [-1, 1] from a stream fixed by
/// `seed` (entries in column-major order).
template <class Derived>
typename Derived::PlainObject perturbed(const Eigen::MatrixBase<Derived>& X, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> direction(-1.0, 1.0);
  typename Derived::PlainObject out = X;
  for (Eigen::Index j = 0; j < out.cols(); ++j)
    for (Eigen::Index i = 0; i < out.rows(); ++i) out(i, j) *= 1 + kProbe * direction(engine);
  return out;
}

/// The relative change of a result per unit of relative perturbation of the inputs:
/// ||probed - reference|| / (kProbe ||reference||).
template <class A, class B>
double amplification(const Eigen::MatrixBase<A>& reference, const Eigen::MatrixBase<B>& probed) {
  const double scale = reference.template cast<double>().norm();
  if (scale == 0) throw std::invalid_argument("amplification: zero reference");
  return (probed.template cast<double>() - reference.template cast<double>()).norm() /
         (kProbe * scale);
}

inline double amplification(double reference, double probed) {
  if (reference == 0) throw std::invalid_argument("amplification: zero reference");
  return std::abs(probed - reference) / (kProbe * std::abs(reference));
}

/// The relative tolerance between two fixed-iteration runs whose products carry relative
/// rounding errors of at most `rounding` in all (the two runs' together), for a result whose
/// measured amplification is `amplification`. At least `rounding` itself: the last iteration's
/// rounding is not damped by any later one.
inline double iterated_tolerance(double amplification, double rounding) {
  return kSafety * std::max(1.0, amplification) * rounding;
}

/// The relative rounding of one iteration of an NMF run on an m x n matrix at rank k, per entry
/// of the iterates (see above): a product with A (inner dimension at most max(m, n), plus the
/// `ranks` - 1 additions of a reduction over ranks), then the k x k update or the KL ratio
/// A ⊘ (W H) (k + 3 roundings).
/// BPP's k x k Cholesky solves add their forward error, `condition` γ_{3k+1} (Higham Thm 10.4),
/// for the condition number of the Grams it factors (condition_number; 0 for MU and HALS).
template <class Scalar>
double iteration_rounding(double m, double n, double k, double ranks = 1, double condition = 0) {
  return gamma<Scalar>(std::max(m, n) + ranks + k + 3) + condition * gamma<double>(3 * k + 1);
}

/// cond(G) of a symmetric positive definite G (a Gram matrix BPP factors: H Hᵀ or WᵀW).
inline double condition_number(const Eigen::MatrixXd& G) {
  const Eigen::VectorXd values = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(G).eigenvalues();
  return values.maxCoeff() / values.minCoeff();
}

/// The normwise backward error of a dense SVD of an m x n matrix: the exact SVD of A + E with
/// ||E||_F ≤ γ_{mn} ||A||_F (orthogonal transformations, Higham Thm 19.4 and §19.3, with their
/// small constant taken as 1).
template <class Scalar>
double svd_backward_error(double m, double n) {
  return gamma<Scalar>(m * n);
}

/// The same for the randomized truncated SVD (nmf/truncated_svd) with l sketch vectors, when
/// the sketch holds A's range (A's rank or min(m, n) at most l; otherwise add what the power
/// iterations leave, (σ_{l+1} / σ_k)^{2q+1} σ_1): its last passes are the products with A, in
/// A's precision (Qᵀ A and the Gram of Q over m rows, A Z over n columns), and in double the
/// l x l Gram eigendecomposition (γ_{l²}), the l x n SVD of Qᵀ A (γ_{ln}) and Q's transform (γ_l).
/// Between two runs of the same sketch (other rank counts, storage or precision) it is the
/// rounding of those passes, whatever the sketch leaves out.
template <class Scalar>
double sketch_backward_error(double m, double n, double l) {
  return gamma<Scalar>(2 * m + n) + gamma<double>(l * l + l * n + l);
}

/// Sums over the entries a of A and p of P = W H that bound the rounding of evaluating
/// ||A - W H||_F (direct_fit_bound, gram_trick_fit_bound). Sums over row blocks add up: a rank
/// adds its rows and allreduces the kCount contiguous doubles from &entries.
struct ResidualSums {
  static constexpr int kCount = 6;
  double entries = 0;      ///< N, the number of entries
  double data = 0;         ///< Σ a² = ||A||²
  double product = 0;      ///< Σ p² = ||W H||² = <WᵀW, H Hᵀ>
  double correlation = 0;  ///< Σ a p = <WᵀA, H>
  double residual = 0;     ///< Σ (a - p)² = ||A - W H||²
  double cross = 0;        ///< Σ |a - p| (a + p)
};
static_assert(sizeof(ResidualSums) == ResidualSums::kCount * sizeof(double));

/// The sums of a block of A and the same block of P = W H, both exact (in double).
template <class DA, class DP>
ResidualSums residual_sums(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DP>& P) {
  const Eigen::ArrayXXd a = A.template cast<double>().array();
  const Eigen::ArrayXXd p = P.template cast<double>().array();
  ResidualSums s;
  s.entries = static_cast<double>(a.size());
  s.data = a.square().sum();
  s.product = p.square().sum();
  s.correlation = (a * p).sum();
  s.residual = (a - p).square().sum();
  s.cross = ((a - p).abs() * (a + p)).sum();
  return s;
}

/// The library's thresholds that the bounds depend on, as src/ sets them: BPP accepts a
/// gradient within kBppGradientTolerance |b| of zero (kGradientTolerance, nmf/bpp.cpp); the
/// sparse residual forms a row through H Hᵀ only while the unstored entries hold at least
/// kKeptShare of its ||w H||² (nmf/local_block.cpp).
constexpr double kBppGradientTolerance = 1e-12;
constexpr double kKeptShare = 1e-6;

/// Bound on the relative error of a computed ||A - W H||²_F ("fit") evaluated directly, for A of
/// n columns at rank k: W H formed in ProductScalar (|Δp| ≤ γ_k p), the differences, squares and
/// sums in double, row by row or, for a sparse pattern, as
/// Σ_stored (a - p)² + (w H Hᵀ wᵀ - Σ_stored p²) (LocalBlockT::residual_squared_norm). With
/// r = a - p: |Σ r̂² - Σ r²| ≤ 2 γ_k Σ|r| p + γ_k² Σ p² (the products), plus
/// 2 γ_{n+2k+2} Σ|r| (a + p) (the subtractions), plus the Gram form's cancellation,
/// 2 γ_{n+2k+2} ||w H||² for a row that takes it, which is at most Σ p² and, by the kKeptShare
/// rule (the unstored entries' share is part of the row's residual), at most
/// Σ r² / kKeptShare; plus γ_N Σ r² (the sum).
template <class ProductScalar>
double direct_fit_bound(const ResidualSums& s, double n, double k) {
  const double product = gamma<ProductScalar>(k);
  const double rest = gamma<double>(n + 2 * k + 2);
  const double gram_form = std::min(s.product, s.residual / kKeptShare);
  const double fit_error = 2 * product * s.cross + product * product * s.product +
                           2 * rest * (s.cross + gram_form) + gamma<double>(s.entries) * s.residual;
  return fit_error / s.residual;
}

/// Bound on ||x̂ - x|| for a least-squares solution x = argmin ||a - F x|| (F with k columns and
/// `rows` rows, G = Fᵀ F) computed by a backward-stable method, normal equations or QR, on the
/// same set of columns: each is the exact solution for data perturbed by ε = γ_rows + k γ_{3k+1}
/// (forming Fᵀ F and Fᵀ a, factoring; Higham §20.4, Thm 10.4), which moves it by at most
/// cond(G) ε (||x|| + ||a|| / ||F||) (first order, Higham Thm 20.1 with cond(F)² = cond(G)),
/// and a subset of the columns is no worse conditioned (interlacing). BPP's acceptance of a
/// gradient within kBppGradientTolerance |Fᵀ a| of zero adds that ||Fᵀ a|| / λ_min(G).
inline double least_squares_error(const Eigen::MatrixXd& G, double rows, double x_norm,
                                  double a_norm, double rhs_norm) {
  const Eigen::VectorXd values = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(G).eigenvalues();
  const double k = static_cast<double>(G.rows());
  const double epsilon = gamma<double>(rows) + k * gamma<double>(3 * k + 1);
  const double f_norm = std::sqrt(values.maxCoeff());
  return values.maxCoeff() / values.minCoeff() * epsilon * (x_norm + a_norm / f_norm) +
         kBppGradientTolerance * rhs_norm / values.minCoeff();
}

/// Bound on the relative error of the fit from the Gram trick, ||A||² - 2 <WᵀA, H> + <WᵀW, H Hᵀ>
/// (the solver's history), for A of m x n at rank k over `ranks` ranks, when the entries of WᵀA
/// as the product computes them put at most `loss_error` into <WᵀA, H> (worst case
/// γ_{m+ranks} <WᵀA, H>, or probabilistic_product_error). In double: ||A||² (γ_N), the sum of
/// <WᵀA, H> over kn terms, the Grams (inner dimensions m + ranks and n) and <WᵀW, H Hᵀ> (k²
/// terms), and the two subtractions. Each term is bounded by its own magnitude: the
/// cancellation down to ||A - WH||², which divides them, is the Gram trick's weakness.
inline double gram_trick_fit_bound(const ResidualSums& s, double m, double n, double k,
                                   double ranks, double loss_error) {
  const double u = unit_roundoff<double>();
  const double grams = gamma<double>(m + ranks) + gamma<double>(n) + gamma<double>(k * k);
  const double fit_error = gamma<double>(s.entries) * s.data +
                           2 * (loss_error + gamma<double>(k * n) * s.correlation) +
                           grams * s.product + 2 * u * (s.data + 2 * s.correlation + s.product);
  return fit_error / s.residual;
}

/// The bound on e = sqrt(fit / ||A||²) for a fit within `fit_bound` relatively, ||A||² summed
/// over N entries (γ_{N+1}): the square root halves the quotient's relative error, and it and
/// the division add 2u.
inline double relative_error_bound(double fit_bound, double entries) {
  return 0.5 * (fit_bound + gamma<double>(entries + 1)) + 2 * unit_roundoff<double>();
}

/// Upper bounds on the sums a recorded relative error e implies, for checks that see only the
/// history: ||W H|| ≤ ||A|| + ||A - W H|| = (1 + e) ||A||, so Σ a p ≤ (1 + e) ||A||²,
/// Σ p² ≤ (1 + e)² ||A||² and Σ|a - p| (a + p) ≤ e (2 + e) ||A||² (Cauchy-Schwarz).
inline ResidualSums history_sums(double squared_norm, double relative_error, double entries) {
  const double e = relative_error;
  ResidualSums s;
  s.entries = entries;
  s.data = squared_norm;
  s.correlation = (1 + e) * squared_norm;
  s.product = (1 + e) * (1 + e) * squared_norm;
  s.residual = e * e * squared_norm;
  s.cross = e * (2 + e) * squared_norm;
  return s;
}

/// How much ||A - W H||² can change when every entry of the nonnegative W and H moves by at
/// most `rounding` relatively: then |ΔP| ≤ (2ρ + ρ²) P, and ||A - P - ΔP||² - ||A - P||² is at
/// most 2 Σ|a - p| |Δp| + Σ Δp². A monotone iteration (MU) computed with its iterates within
/// ρ of the exact step from the computed ones may rise by this much an iteration. (HALS's exact
/// coordinate minimisation makes its rise second order in ρ, inside the same allowance.)
inline double factor_rounding_fit_change(const ResidualSums& s, double rounding) {
  const double moved = 2 * rounding + rounding * rounding;
  return 2 * moved * s.cross + moved * moved * s.product;
}

/// The KL counterpart of factor_rounding_fit_change: with W H moved by |Δp| ≤ (2ρ + ρ²) p,
/// D(A || W H) = Σ a log(a / p) - a + p moves by at most Σ |1 - a / p| |Δp| plus the second-order
/// Σ a (Δp / p)² (the log's curvature, for Δp ≤ p / 2), that is by
/// (2ρ + ρ²) (Σ p + Σ a) + (2ρ + ρ²)² Σ a, with Σ p ≤ Σ a after a Lee-Seung step (below).
inline double kl_factor_rounding_change(double sum, double rounding) {
  const double moved = 2 * rounding + rounding * rounding;
  return 2 * moved * sum + moved * moved * sum;
}

/// Bound on the rounding of a recorded generalized KL objective
/// D + penalties = Σ_{a>0} a log(a / p) - Σ a + <colsums(W), rowsums(H)> + penalties, for A of
/// m x n (N entries) at rank k with W H formed in ProductScalar, after a Lee-Seung step: it
/// leaves Σ p = Σ a without penalties (Lee & Seung 2001) and less with them, so Σ p ≤ Σ a.
/// Each term a log(a / p) lies within d + |a - p| of 0 (d = a log(a / p) - a + p ≥ 0), so
/// Σ |a log(a / p)| ≤ D + 2 Σ a ≤ objective + 2 Σ a. The terms: p (γ_k relatively) moves
/// a log(a / p) by γ_{k+1} a; the log, the product and the sum over N terms γ_{N+2} of
/// Σ|a log(a / p)|; Σ a (γ_N); the column and row sums and their dot product
/// (γ_m + γ_n + γ_k of Σ p); the penalties (γ_{mk+2} of themselves, at most the objective); and
/// the three additions (3u of their magnitudes).
template <class ProductScalar>
double kl_objective_error(double objective, double sum, double m, double n, double k) {
  const double u = unit_roundoff<double>();
  const double entries = m * n;
  const double logs = objective + 2 * sum;
  return gamma<ProductScalar>(k + 1) * sum + gamma<double>(entries + 2) * logs +
         gamma<double>(entries) * sum +
         (gamma<double>(m) + gamma<double>(n) + gamma<double>(k)) * sum +
         gamma<double>(m * k + 2) * objective + 3 * u * (logs + 2 * sum + objective);
}

/// The probabilistic bound on the error that a Scalar product C = X Y of inner dimension `inner`
/// puts into <C, Z> = Σ C_ij Z_ij, for nonnegative X, Y, Z: each of the `inner` roundings of
/// C_ij changes it by at most u C_ij (partial sums of nonnegative terms are at most the total),
/// so <C, Z> moves by a sum of inner × (entries of C) terms bounded by u C_ij Z_ij. With the
/// rounding errors independent and of mean zero (Higham & Mary's model), the Azuma-Hoeffding
/// inequality their analysis rests on bounds the sum by λ u sqrt(inner) ||C ∘ Z||_F, except with
/// probability 2 exp(-λ² / 2), where the worst case is γ_inner <C, Z>: the errors of distinct
/// entries average out as well as those within one.
template <class Scalar, class DC, class DZ>
double probabilistic_product_error(const Eigen::MatrixBase<DC>& C, const Eigen::MatrixBase<DZ>& Z,
                                   double inner) {
  const double norm =
      (C.template cast<double>().array() * Z.template cast<double>().array()).matrix().norm();
  return kLambda * unit_roundoff<Scalar>() * std::sqrt(inner) * norm;
}

}  // namespace error_bounds
