#pragma once
// What a factorization computes and when it stops: one value, validated before any work.

#include <cstdint>
#include <string>

#include "dnmf/core/matrix.hpp"
#include "dnmf/core/named_values.hpp"

namespace dnmf::nmf {

enum class Algorithm { Mu, Hals, Bpp };
inline constexpr NamedValue<Algorithm> kAlgorithmNames[] = {
    {Algorithm::Mu, "mu"}, {Algorithm::Hals, "hals"}, {Algorithm::Bpp, "bpp"}};

std::string to_string(Algorithm algorithm);
/// "mu", "hals" or "bpp"; throws UsageError otherwise.
Algorithm parse_algorithm(const std::string& name);

/// What the factorization minimises: ½||A - WH||_F^2, or the generalized Kullback-Leibler
/// divergence D(A || WH) = Σ A log(A / WH) - A + WH (multiplicative updates only).
enum class Loss { Frobenius, KullbackLeibler };
inline constexpr NamedValue<Loss> kLossNames[] = {{Loss::Frobenius, "frobenius"},
                                                  {Loss::KullbackLeibler, "kl"}};

std::string to_string(Loss loss);
/// "frobenius" or "kl"; throws UsageError otherwise.
Loss parse_loss(const std::string& name);

/// The floating-point type of A, W, H and the products with A: float halves the memory and
/// about doubles the speed of the dense products; the objective and the stopping rule are
/// computed in double either way (see "Precision" in solver.hpp).
enum class Precision { Single, Double };
inline constexpr NamedValue<Precision> kPrecisionNames[] = {{Precision::Single, "single"},
                                                            {Precision::Double, "double"}};

std::string to_string(Precision precision);
/// "single" or "double"; throws UsageError otherwise.
Precision parse_precision(const std::string& name);

/// Penalties on one factor X, added to the loss: l1 ||X||_1 + (l2 / 2) ||X||_F^2. They enter
/// the update as G + l2 I (the Gram term) and B - l1 (the right-hand side); scikit-learn's
/// alpha_W, l1_ratio correspond to l1 = alpha_W l1_ratio n, l2 = alpha_W (1 - l1_ratio) n for W
/// (and alpha_H ... m for H), A being m x n.
struct Penalty {
  double l1 = 0;
  double l2 = 0;
};

struct StopRule {
  int max_iterations = 200;
  /// Stop when the relative error improved by less than `tolerance`, relatively, over the last
  /// `window` iterations: (e[t-window] - e[t]) / e[t-window] < tolerance. Scale-invariant.
  /// 0 never stops the run (only max_iterations, the time limit, a signal or an exact fit do).
  double tolerance = 1e-4;
  int window = 10;
  /// Watch the test error instead of the relative error (`--stop-on test`): stop when the error
  /// on the held-out entries stops improving.
  bool watch_test_error = false;
  /// Seconds of iterations in this run (a resumed run gets a new allowance); 0 means no limit.
  /// Checked at iteration boundaries.
  double time_limit = 0;
};

struct SolverOptions {
  Algorithm algorithm = Algorithm::Hals;
  Index rank = 0;  ///< k, the inner dimension
  Loss loss = Loss::Frobenius;
  Penalty w_penalty;
  Penalty h_penalty;
  StopRule stop;
};

/// Throws UsageError naming the option if a value is out of range for an m x n input.
void validate(const SolverOptions& options, std::int64_t rows, std::int64_t cols);

}  // namespace dnmf::nmf
