#include "dnmf/nmf/options.hpp"

#include <algorithm>
#include <cmath>

#include "dnmf/core/error.hpp"

namespace dnmf::nmf {

std::string to_string(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::Mu: return "mu";
    case Algorithm::Hals: return "hals";
    case Algorithm::Bpp: return "bpp";
  }
  return "unknown";
}

Algorithm parse_algorithm(const std::string& name) {
  if (name == "mu") return Algorithm::Mu;
  if (name == "hals") return Algorithm::Hals;
  if (name == "bpp") return Algorithm::Bpp;
  throw UsageError("--algorithm: '" + name + "' is not one of mu, hals, bpp");
}

std::string to_string(Loss loss) { return loss == Loss::Frobenius ? "frobenius" : "kl"; }

Loss parse_loss(const std::string& name) {
  if (name == "frobenius") return Loss::Frobenius;
  if (name == "kl") return Loss::KullbackLeibler;
  throw UsageError("--loss: '" + name + "' is not one of frobenius, kl");
}

std::string to_string(Precision precision) {
  return precision == Precision::Single ? "single" : "double";
}

Precision parse_precision(const std::string& name) {
  if (name == "single") return Precision::Single;
  if (name == "double") return Precision::Double;
  throw UsageError("--precision: '" + name + "' is not one of single, double");
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
