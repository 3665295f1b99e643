#pragma once
// What a factorization computes and when it stops: one value, validated before any work.

#include <cstdint>
#include <string>

#include "dnmf/core/matrix.hpp"

namespace dnmf::nmf {

enum class Algorithm { Mu, Hals, Bpp };

std::string to_string(Algorithm algorithm);
/// "mu", "hals" or "bpp"; throws UsageError otherwise.
Algorithm parse_algorithm(const std::string& name);

struct StopRule {
  int max_iterations = 200;
  /// Stop when the relative error improved by less than `tolerance`, relatively, over the last
  /// `window` iterations: (e[t-window] - e[t]) / e[t-window] < tolerance. Scale-invariant.
  double tolerance = 1e-4;
  int window = 10;
  /// Seconds of iterations in this run (a resumed run gets a new allowance); 0 means no limit.
  /// Checked at iteration boundaries.
  double time_limit = 0;
};

struct SolverOptions {
  Algorithm algorithm = Algorithm::Hals;
  Index rank = 0;  ///< k, the inner dimension
  StopRule stop;
};

/// Throws UsageError naming the option if a value is out of range for an m x n input.
void validate(const SolverOptions& options, std::int64_t rows, std::int64_t cols);

}  // namespace dnmf::nmf
