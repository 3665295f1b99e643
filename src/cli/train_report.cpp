#include "cli/train_report.hpp"

#include <unistd.h>

#include <cstdio>
#include <utility>

namespace dnmf::cli {
namespace {

/// Within-epoch progress: a bar on a terminal; no per-step lines in a log unless asked for.
ProgressMode step_progress(ProgressMode mode) {
  if (mode == ProgressMode::Auto)
    return isatty(STDERR_FILENO) ? ProgressMode::Bar : ProgressMode::None;
  return mode;
}

}  // namespace

TrainReport::TrainReport(const TrainOptions& options, const nn::LoadedModel& model,
                         const nn::TrainingData& data, const mpi::Communicator& comm,
                         std::string layout)
    : options_(options),
      model_(model),
      data_(data),
      comm_(comm),
      layout_(std::move(layout)),
      prints_(comm.is_root() && !options.quiet) {}

void TrainReport::attach(nn::FitHooks& hooks) {
  hooks.on_start = [this](const nn::DataParallelTrainer<float>& trainer) { start(trainer); };
  hooks.on_epoch_start = [this](std::int64_t, nn::Index steps) {
    bar_.emplace(step_progress(options_.progress), comm_.is_root(), static_cast<int>(steps),
                 "step");
  };
  hooks.on_step = [this](nn::Index done, double mean_loss, double seconds) {
    char status[16];  // short enough for the string's small buffer: no allocation
    std::snprintf(status, sizeof status, "loss %.4f", mean_loss);
    bar_->update(static_cast<int>(done), seconds, status);
  };
  hooks.on_epoch_end = [this](const nn::TrainingProgress& progress) { epoch_end(progress); };
}

void TrainReport::start(const nn::DataParallelTrainer<float>& trainer) const {
  if (!prints_) return;
  const nn::ModelDescription& model = model_.description;
  const bool nmf = nn::uses_nmf(model.architecture.architecture);
  const std::optional<std::string>& basis = model.training.nmf_basis;
  const char* exchange = comm_.size() == 1         ? ""
                         : trainer.shares_memory() ? " (sharing memory)"
                                                   : " (exchanging messages)";
  std::printf(
      "%s: %ld parameters, %ld classes, %ld training images of %s, batch %ld over %s%s, "
      "NMF basis %s%s\n",
      name_of(model.architecture.architecture, nn::kArchitectureNames).c_str(),
      static_cast<long>(model_.network.parameter_count()),
      static_cast<long>(model.architecture.classes), static_cast<long>(data_.train_images.count),
      data_.train_images.sample.to_string().c_str(), static_cast<long>(model.training.batch_size),
      layout_.c_str(), exchange, nmf ? basis.value_or("random").c_str() : "(none)",
      nmf && !basis ? " (no --nmf-basis: random start)" : "");
}

void TrainReport::epoch_end(const nn::TrainingProgress& progress) {
  bar_->finish();
  if (!prints_) return;
  std::printf("epoch %ld/%ld  loss %.4f  train %.2f%%  test %.2f%%  %.0f images/s  %.2f s\n",
              static_cast<long>(progress.epoch), static_cast<long>(options_.epochs),
              progress.history_loss.back(), 100 * progress.history_train_accuracy.back(),
              100 * progress.history_validation_accuracy.back(),
              progress.history_images_per_second.back(), progress.history_seconds.back());
  std::fflush(stdout);
}

void TrainReport::stopped(const std::string& model_path) {
  if (bar_) bar_->finish();
  if (!comm_.is_root()) return;
  const nn::TrainingProgress& progress = model_.description.progress;
  std::fprintf(stderr,
               "dnmf: stopped by a signal after step %ld (epoch %ld); model in %s, continue "
               "with --resume %s\n",
               static_cast<long>(progress.step), static_cast<long>(progress.epoch + 1),
               model_path.c_str(), model_path.c_str());
}

void TrainReport::wrote() const {
  if (!prints_) return;
  const nn::TrainingProgress& progress = model_.description.progress;
  std::printf(
      "wrote %s (%ld epochs, %ld steps; rank 0 spent %.2f s in collectives, %.1f MB sent)\n",
      options_.output.c_str(), static_cast<long>(progress.epoch), static_cast<long>(progress.step),
      comm_.seconds_in_collectives(), static_cast<double>(comm_.bytes_in_collectives()) / 1e6);
}

}  // namespace dnmf::cli
