#include "dnmf/nn/optimizer.hpp"

#include <string>

#include "dnmf/core/error.hpp"
#include "dnmf/core/parallel_for.hpp"

namespace dnmf::nn {

template <typename Scalar>
void Optimizer<Scalar>::step(Network<Scalar>& network, Scalar gradient_scale) {
  step_shard(network, 0, network.gradients(), gradient_scale);
  network.project_parameters();
}

template <typename Scalar>
void Optimizer<Scalar>::step_shard(Network<Scalar>& network, Index begin, FlatMap<Scalar> gradients,
                                   Scalar gradient_scale) {
  if (network.parameter_count() != parameter_count_) {
    throw InputError("optimizer: expected a network with " + std::to_string(parameter_count_) +
                     " parameters, got " + std::to_string(network.parameter_count()));
  }
  if (begin < 0 || begin + gradients.size() > parameter_count_) {
    throw InputError("optimizer: parameters " + std::to_string(begin) + ".." +
                     std::to_string(begin + gradients.size()) + " are outside the " +
                     std::to_string(parameter_count_) + " parameters");
  }
  ++step_count_;
  // Every rule updates each parameter from its own values alone: a thread takes a run of them.
  constexpr Index kGrain = 4096;
  Scalar* parameters = network.parameters().data() + begin;
  parallel_for(gradients.size(), kGrain, [&](Index first, Index end) {
    update(FlatMap<Scalar>(parameters + first, end - first),
           FlatMap<Scalar>(gradients.data() + first, end - first), begin + first, gradient_scale);
  });
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace dnmf::nn
