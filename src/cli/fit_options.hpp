#pragma once
// The options of one factorization that dnmf factorize and dnmf sweep share: the loss and its
// penalties, the algorithm, the precision, the stopping rule, the seed and start, and the
// entries left out of the fit (--missing, --mask, --holdout, --stop-on).

#include <optional>

#include "cli/options.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/start.hpp"

namespace dnmf::cli {

/// Adds them; `holdout_default` is --holdout's default (factorize 0, sweep 0.05).
void add_fit_options(po::options_description& options, double holdout_default);

struct FitOptions {
  nmf::FactorRun run;  ///< all but run.solver.rank
  nmf::Init init;
  std::optional<std::uint64_t> seed_given;  ///< --seed on the command line, not the default
};

/// UsageError naming the option for a value out of its set or range.
FitOptions fit_options(const po::variables_map& values, const Invocation& invocation);

}  // namespace dnmf::cli
