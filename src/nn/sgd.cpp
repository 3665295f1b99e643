#include "dnmf/nn/sgd.hpp"

#include <string>

#include "dnmf/core/error.hpp"

namespace dnmf::nn {

template <typename Scalar>
Sgd<Scalar>::Sgd(Index parameter_count, SgdOptions<Scalar> options)
    : Optimizer<Scalar>(parameter_count), options_(options) {
  if (!(options.learning_rate > 0) || !(options.momentum >= 0 && options.momentum < 1)) {
    throw InputError("sgd: expected a positive learning rate and a momentum in [0, 1), got " +
                     std::to_string(options.learning_rate) + " and " +
                     std::to_string(options.momentum));
  }
  velocity_.setZero(parameter_count);
}

template <typename Scalar>
std::vector<NamedArray<Scalar>> Sgd<Scalar>::named_state() {
  return {
      {"sgd/velocity", {velocity_.size()}, FlatMap<Scalar>(velocity_.data(), velocity_.size())}};
}

template <typename Scalar>
void Sgd<Scalar>::update(FlatMap<Scalar> parameters, FlatMap<Scalar> gradients, Index begin,
                         Scalar gradient_scale) {
  auto velocity = velocity_.segment(begin, parameters.size());
  velocity = options_.momentum * velocity + gradient_scale * gradients;
  parameters -= options_.learning_rate * velocity;
}

template class Sgd<float>;
template class Sgd<double>;

}  // namespace dnmf::nn
