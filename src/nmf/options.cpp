#include "dnmf/nmf/options.hpp"

#include <algorithm>
#include <cmath>

#include "dnmf/core/error.hpp"
#include "dnmf/core/named_values.hpp"

namespace dnmf::nmf {

std::string to_string(Algorithm algorithm) { return name_of(algorithm, kAlgorithmNames); }
Algorithm parse_algorithm(const std::string& name) {
  return parse_named("--algorithm", name, kAlgorithmNames);
}

std::string to_string(Loss loss) { return name_of(loss, kLossNames); }
Loss parse_loss(const std::string& name) { return parse_named("--loss", name, kLossNames); }

std::string to_string(Precision precision) { return name_of(precision, kPrecisionNames); }
Precision parse_precision(const std::string& name) {
  return parse_named("--precision", name, kPrecisionNames);
}

void validate(const SolverOptions& options, std::int64_t rows, std::int64_t cols) {
  const std::int64_t limit = std::min(rows, cols);
  if (options.rank <= 0 || options.rank > limit) {
    throw UsageError("--rank " + std::to_string(options.rank) +
                     " must be between 1 and min(m, n) = " + std::to_string(limit) + " for a " +
                     std::to_string(rows) + "x" + std::to_string(cols) + " matrix");
  }
  if (options.stop.max_iterations < 0) throw UsageError("--max-iter must be >= 0");
  if (!(options.stop.tolerance >= 0) || !std::isfinite(options.stop.tolerance)) {
    throw UsageError("--tol must be a finite number >= 0");
  }
  if (!(options.stop.time_limit >= 0)) throw UsageError("--time-limit must be >= 0 seconds");
  if (options.loss == Loss::KullbackLeibler && options.algorithm != Algorithm::Mu) {
    throw UsageError("--loss kl needs --algorithm mu (HALS and BPP minimise the Frobenius loss)");
  }
  const std::pair<const char*, double> penalties[] = {{"--l1-w", options.w_penalty.l1},
                                                      {"--l2-w", options.w_penalty.l2},
                                                      {"--l1-h", options.h_penalty.l1},
                                                      {"--l2-h", options.h_penalty.l2}};
  for (const auto& [name, value] : penalties) {
    if (!(value >= 0) || !std::isfinite(value)) {
      throw UsageError(std::string(name) + " must be a finite number >= 0");
    }
  }
  if (options.stop.window < 1) throw UsageError("the stopping window must be >= 1 iteration");
}

}  // namespace dnmf::nmf
