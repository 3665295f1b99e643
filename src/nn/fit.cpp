#include "dnmf/nn/fit.hpp"

#include <optional>
#include <utility>
#include <vector>

#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::nn {
namespace {

// Every epoch reads the same dataset again: keep its decompressed chunks (up to 256 MiB of them;
// HDF5 keeps 1 MiB by default), and each rank inflates the digits' gzip chunks once a run, not
// once an epoch.
constexpr std::size_t kTrainingChunkCache = std::size_t{256} << 20;

template <class Hook, class... Arguments>
void call(const Hook& hook, Arguments&&... arguments) {
  if (hook) hook(std::forward<Arguments>(arguments)...);
}

/// One run of fit: the schedule, the trainer and the sample buffers, sized before the first step.
class Fit {
 public:
  Fit(LoadedModel& model, Optimizer<float>& optimizer, const io::InputFile& file,
      const TrainingData& data, const FitOptions& options, const FitHooks& hooks,
      mpi::Communicator& comm);
  FitEnd run();

 private:
  /// The steps of `epoch` left to do, then its validation; false if a stop request ended it.
  bool train_epoch(std::int64_t epoch);
  /// Records the position before batch `next_batch` with the epoch's sums over the ranks so far
  /// (everything to continue exactly) and hands the model to the checkpoint hook.
  void checkpoint(Index next_batch, double loss_sum, double correct);
  /// Evaluates the test images and appends the epoch to the history.
  void finish_epoch(std::int64_t epoch, double loss_sum, double correct, const Stopwatch& clock);

  ModelDescription& model_;
  Network<float>& network_;
  Optimizer<float>& optimizer_;
  const TrainingData& data_;
  const FitOptions& options_;
  const FitHooks& hooks_;
  mpi::Communicator& comm_;
  const bool nonnegative_;  // the NMF encoder needs images >= 0
  std::optional<EpochSchedule> schedule_;
  std::optional<DataParallelTrainer<float>> trainer_;
  std::optional<SampleBuffer> train_, test_;
};

Fit::Fit(LoadedModel& model, Optimizer<float>& optimizer, const io::InputFile& file,
         const TrainingData& data, const FitOptions& options, const FitHooks& hooks,
         mpi::Communicator& comm)
    : model_(model.description),
      network_(model.network),
      optimizer_(optimizer),
      data_(data),
      options_(options),
      hooks_(hooks),
      comm_(comm),
      nonnegative_(uses_nmf(model.description.architecture.architecture)) {
  const TrainingSettings& settings = model_.training;
  mpi::agree(comm, [&] {
    schedule_.emplace(data.train_images.count, settings.batch_size, comm.size(), comm.rank(),
                      settings.shuffle, settings.seed);
  });
  trainer_.emplace(network_, optimizer_, comm, schedule_->max_local_batch());
  if (settings.freeze_basis) trainer_->freeze("nmf/H");
  // Every buffer is sized here, before the first step (agreed: a rank may lack the memory).
  mpi::agree(comm, [&] {
    train_.emplace(file, data.train_images, &data.train_labels, schedule_->local_samples());
  });
  mpi::agree(comm, [&] {
    file.keep_open(data.train_images.info, kTrainingChunkCache);
    file.keep_open(data.train_labels, kTrainingChunkCache);
  });
  const std::vector<std::int64_t> test_rows = block_rows(data.test_images.count, comm);
  mpi::agree(comm, [&] {
    test_.emplace(file, data.test_images, &data.test_labels,
                  static_cast<std::int64_t>(test_rows.size()));
  });
  mpi::agree(comm, [&] { test_->read(test_rows, nonnegative_, model_.architecture.classes); });
}

FitEnd Fit::run() {
  call(hooks_.on_start, *trainer_);
  for (std::int64_t epoch = model_.progress.epoch; epoch < options_.epochs; ++epoch) {
    if (!train_epoch(epoch)) return FitEnd::StopRequested;
  }
  trainer_->gather_optimizer_state();
  return FitEnd::Completed;
}

bool Fit::train_epoch(std::int64_t epoch) {
  TrainingProgress& progress = model_.progress;
  const Stopwatch clock;
  const std::vector<std::int64_t> order = schedule_->local_order(epoch);
  mpi::agree(comm_, [&] { train_->read(order, nonnegative_, model_.architecture.classes); });
  call(hooks_.on_epoch_start, epoch, schedule_->steps());
  // Rank 0 carries the sums of a resumed partial epoch; the others start from 0.
  double loss_sum = comm_.is_root() ? progress.epoch_loss_sum : 0;
  double correct = comm_.is_root() ? progress.epoch_correct : 0;
  double seen = 0;
  const Index features = data_.train_images.sample.size();
  for (Index step = progress.batch_in_epoch; step < schedule_->steps(); ++step) {
    const Index begin = schedule_->local_begin(step);
    const Index count = schedule_->local_count(step);
    const BatchView<float> images(train_->images().data() + begin * features, features, count);
    const LossResult<float> result =
        trainer_->step(images, train_->labels().segment(begin, count),
                       schedule_->global_count(step), stop_signal() != 0);
    loss_sum += result.loss_sum;
    correct += static_cast<double>(result.correct);
    seen += static_cast<double>(count);
    ++progress.step;
    call(hooks_.on_step, step + 1, seen > 0 ? loss_sum / seen : 0.0, clock.seconds());
    const bool stop = trainer_->stop_requested();
    const std::int64_t every = options_.checkpoint_every;
    if (stop || (every > 0 && progress.step % every == 0)) {
      checkpoint(step + 1, loss_sum, correct);
      if (stop) return false;
    }
  }
  finish_epoch(epoch, loss_sum, correct, clock);
  return true;
}

void Fit::checkpoint(Index next_batch, double loss_sum, double correct) {
  double sums[2] = {loss_sum, correct};
  comm_.allreduce_sum(sums, 2);
  TrainingProgress& progress = model_.progress;
  progress.batch_in_epoch = next_batch;
  progress.epoch_loss_sum = sums[0];
  progress.epoch_correct = sums[1];
  trainer_->gather_optimizer_state();
  call(hooks_.on_checkpoint, model_, network_, optimizer_);
}

void Fit::finish_epoch(std::int64_t epoch, double loss_sum, double correct,
                       const Stopwatch& clock) {
  const double train_seconds = clock.seconds();
  const LossResult<float> validation = trainer_->evaluate(test_->images(), test_->labels());
  double sums[3] = {loss_sum, correct, static_cast<double>(validation.correct)};
  comm_.allreduce_sum(sums, 3);
  const double seconds = clock.seconds();
  const auto train_count = static_cast<double>(data_.train_images.count);
  TrainingProgress& progress = model_.progress;
  progress.epoch = epoch + 1;
  progress.batch_in_epoch = 0;
  progress.epoch_loss_sum = 0;
  progress.epoch_correct = 0;
  progress.history_epoch.push_back(static_cast<double>(epoch + 1));
  progress.history_loss.push_back(sums[0] / train_count);
  progress.history_train_accuracy.push_back(sums[1] / train_count);
  progress.history_validation_accuracy.push_back(sums[2] /
                                                 static_cast<double>(data_.test_images.count));
  progress.history_images_per_second.push_back(train_count / train_seconds);
  progress.history_seconds.push_back(seconds);
  call(hooks_.on_epoch_end, progress);
}

}  // namespace

FitEnd fit(LoadedModel& model, Optimizer<float>& optimizer, const io::InputFile& file,
           const TrainingData& data, const FitOptions& options, const FitHooks& hooks,
           mpi::Communicator& comm) {
  return Fit(model, optimizer, file, data, options, hooks, comm).run();
}

}  // namespace dnmf::nn
