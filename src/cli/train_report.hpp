#pragma once
// What dnmf train prints on rank 0: a line on the run, a progress bar (or lines) within each
// epoch, a line an epoch, and how the run ended. --quiet keeps all but the stop message.

#include <optional>
#include <string>

#include "cli/progress.hpp"
#include "cli/train_options.hpp"
#include "dnmf/nn/fit.hpp"

namespace dnmf::cli {

class TrainReport {
 public:
  /// Keeps references to all four: the report must not outlive them. `layout`: the ranks ×
  /// threads of the run (mpi::describe_layout).
  TrainReport(const TrainOptions& options, const nn::LoadedModel& model,
              const nn::TrainingData& data, const mpi::Communicator& comm, std::string layout);
  TrainReport(const TrainReport&) = delete;
  TrainReport& operator=(const TrainReport&) = delete;

  /// Sets the hooks of nn::fit that print (all but on_checkpoint).
  void attach(nn::FitHooks& hooks);
  /// After a stop request: where the model is, and how to continue.
  void stopped(const std::string& model_path);
  /// After the model is written to --output.
  void wrote() const;

 private:
  void start(const nn::DataParallelTrainer<float>& trainer) const;
  void epoch_end(const nn::TrainingProgress& progress);

  const TrainOptions& options_;
  const nn::LoadedModel& model_;
  const nn::TrainingData& data_;
  const mpi::Communicator& comm_;
  const std::string layout_;
  bool prints_;                         // rank 0 without --quiet
  std::optional<ProgressPrinter> bar_;  // of the current epoch
};

}  // namespace dnmf::cli
