#pragma once
// The options of dnmf train, parsed and checked once.

#include <cstdint>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/nn/model_description.hpp"

namespace dnmf::cli {

struct TrainOptions {
  std::string data;
  std::string output;
  std::string resume;  ///< empty: a new model
  CheckpointOptions checkpoint;
  bool force = false;
  std::int64_t epochs = 5;
  bool nmf_rank_given = false;  ///< --nmf-rank given: a --nmf-basis must have that rank
  nn::ModelDescription model;   ///< of a new model (a resumed one brings its own)
  ProgressMode progress = ProgressMode::Auto;
  bool quiet = false;
};

/// nullopt after printing the help. UsageError for a bad value, for an option that the resumed
/// model fixes, or a batch smaller than the number of ranks.
std::optional<TrainOptions> parse_train_options(const Invocation& invocation,
                                                mpi::Communicator& comm);

}  // namespace dnmf::cli
