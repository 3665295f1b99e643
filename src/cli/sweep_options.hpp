#pragma once
// The options of dnmf sweep, parsed and checked once.

#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/nmf/sweep.hpp"

namespace dnmf::cli {

struct SweepCommandOptions {
  nmf::SweepOptions sweep;
  std::string checkpoint;
  std::string resume;
  int groups = 0;  ///< 0: automatic (run_sweep decides)
  double density_threshold = 0.5;
  bool force = false;
  bool quiet = false;
};

/// nullopt after printing the help. UsageError for a bad value: ranks, replicates, batch, groups,
/// density threshold, an --init file, an .h5ad output without a k to choose.
std::optional<SweepCommandOptions> parse_sweep_options(const Invocation& invocation,
                                                       mpi::Communicator& comm);

}  // namespace dnmf::cli
