#include "dnmf/nn/model_description.hpp"

#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/sgd.hpp"

namespace dnmf::nn {

std::unique_ptr<Optimizer<float>> make_optimizer(const TrainingSettings& settings,
                                                 Index parameter_count) {
  const auto rate = static_cast<float>(settings.learning_rate);
  if (settings.optimizer == OptimizerKind::Sgd) {
    return std::make_unique<Sgd<float>>(
        parameter_count, SgdOptions<float>{rate, static_cast<float>(settings.momentum)});
  }
  return std::make_unique<Adam<float>>(
      parameter_count, AdamOptions<float>{rate, static_cast<float>(settings.beta1),
                                          static_cast<float>(settings.beta2),
                                          static_cast<float>(settings.adam_epsilon)});
}

}  // namespace dnmf::nn
