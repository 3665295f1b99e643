#pragma once
// The training loop: epochs of synchronous data-parallel steps (nn/data_parallel.hpp) over the
// batches of the epoch schedule (nn/epoch_schedule.hpp), the test images evaluated after each
// epoch, checkpoints every few steps and when a stop is requested (SIGTERM or SIGUSR1 on any
// rank, core/stop_request.hpp: every rank stops after the same step). What is printed and where
// a checkpoint goes are the caller's, through the hooks.
//
// The model's progress says where training stands and is advanced in place: fit continues a
// resumed model from its next batch, bitwise as if it had never stopped.

#include <cstdint>
#include <functional>

#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nn/data_parallel.hpp"
#include "dnmf/nn/image_data.hpp"
#include "dnmf/nn/model_file.hpp"

namespace dnmf::nn {

struct FitOptions {
  /// Train until this many epochs are done, counting those the model has done already.
  std::int64_t epochs = 5;
  /// Optimizer steps (the model's count) between checkpoints; 0: only when a stop is requested.
  std::int64_t checkpoint_every = 0;
};

/// Each hook runs on every rank at the same point of the loop (an empty one is skipped), so
/// on_checkpoint may be collective (it writes the model); on_step runs between the steps and
/// should neither communicate nor allocate.
struct FitHooks {
  /// Once, before the first step, every buffer sized.
  std::function<void(const DataParallelTrainer<float>& trainer)> on_start;
  /// Before the steps of `epoch` (counting from 0) that are left to do; `steps` an epoch.
  std::function<void(std::int64_t epoch, Index steps)> on_epoch_start;
  /// After each step: the steps of the epoch done, this rank's mean loss over its samples of
  /// the epoch in this run, the seconds since the epoch (its part in this run) began.
  std::function<void(Index steps_done, double mean_loss, double seconds)> on_step;
  /// The model to save: its progress current to the step just done, the optimizer's state
  /// gathered on every rank.
  std::function<void(const ModelDescription& model, Network<float>& network,
                     Optimizer<float>& optimizer)>
      on_checkpoint;
  /// After each epoch, its measurements appended to the history in `progress`.
  std::function<void(const TrainingProgress& progress)> on_epoch_end;
};

enum class FitEnd {
  Completed,      ///< options.epochs are done; the optimizer's state gathered on every rank
  StopRequested,  ///< stopped after the step the progress records, a checkpoint handed over
};

/// Collective: trains `model` (its network, with `optimizer`, whose state the caller restored
/// for a resumed model) on `data` of `file`. Throws InputError (agreed by all ranks) for a bad
/// image or label, naming the file, dataset and sample.
FitEnd fit(LoadedModel& model, Optimizer<float>& optimizer, const io::InputFile& file,
           const TrainingData& data, const FitOptions& options, const FitHooks& hooks,
           mpi::Communicator& comm);

}  // namespace dnmf::nn
