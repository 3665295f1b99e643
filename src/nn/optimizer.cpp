#include "dnmf/nn/optimizer.hpp"

#include <string>

#include "dnmf/core/error.hpp"

namespace dnmf::nn {

template <typename Scalar>
void Optimizer<Scalar>::step(Network<Scalar>& network, Scalar gradient_scale) {
  if (network.parameter_count() != parameter_count_) {
    throw InputError("optimizer: expected a network with " + std::to_string(parameter_count_) +
                     " parameters, got " + std::to_string(network.parameter_count()));
  }
  ++step_count_;
  update(network.parameters(), network.gradients(), gradient_scale);
  network.project_parameters();
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace dnmf::nn
