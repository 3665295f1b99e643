#pragma once
// What a model file describes besides the parameters: the architecture, how it is trained, and
// where its training stands (nn/model_file.hpp stores it; nn/fit.hpp advances it).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnmf/core/named_values.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/epoch_schedule.hpp"
#include "dnmf/nn/optimizer.hpp"

namespace dnmf::nn {

enum class OptimizerKind { Adam, Sgd };
inline constexpr NamedValue<OptimizerKind> kOptimizerNames[] = {{OptimizerKind::Adam, "adam"},
                                                                {OptimizerKind::Sgd, "sgd"}};

struct TrainingSettings {
  OptimizerKind optimizer = OptimizerKind::Adam;
  double learning_rate = 1e-3;
  double momentum = 0.9;  ///< SGD
  double beta1 = 0.9;     ///< Adam
  double beta2 = 0.999;
  double adam_epsilon = 1e-8;
  std::int64_t batch_size = 64;
  std::uint64_t seed = 0;
  Shuffle shuffle = Shuffle::Global;
  bool freeze_basis = false;
  /// The file whose /H the NMF basis started from; nullopt: a random start.
  std::optional<std::string> nmf_basis;
};

/// Where a run stands, and what each completed epoch measured.
struct TrainingProgress {
  std::int64_t epoch = 0;
  std::int64_t step = 0;
  std::int64_t batch_in_epoch = 0;
  double epoch_loss_sum = 0;
  double epoch_correct = 0;
  std::vector<double> history_epoch, history_loss, history_train_accuracy,
      history_validation_accuracy, history_images_per_second, history_seconds;
};

struct ModelDescription {
  ArchitectureOptions architecture;
  TrainingSettings training;
  TrainingProgress progress;
};

/// The optimizer `settings` choose, for `parameter_count` parameters.
std::unique_ptr<Optimizer<float>> make_optimizer(const TrainingSettings& settings,
                                                 Index parameter_count);

}  // namespace dnmf::nn
