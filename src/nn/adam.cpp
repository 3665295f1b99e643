#include "dnmf/nn/adam.hpp"

#include <cmath>
#include <string>

#include "dnmf/core/error.hpp"

namespace dnmf::nn {

template <typename Scalar>
Adam<Scalar>::Adam(Index parameter_count, AdamOptions<Scalar> options)
    : Optimizer<Scalar>(parameter_count), options_(options) {
  const auto in_unit_interval = [](Scalar beta) { return beta >= 0 && beta < 1; };
  if (!(options.learning_rate > 0) || !(options.epsilon > 0) || !in_unit_interval(options.beta1) ||
      !in_unit_interval(options.beta2)) {
    throw InputError(
        "adam: expected a positive learning rate and epsilon and betas in [0, 1), "
        "got learning rate " +
        std::to_string(options.learning_rate) + ", epsilon " + std::to_string(options.epsilon) +
        ", betas " + std::to_string(options.beta1) + " and " + std::to_string(options.beta2));
  }
  moments_.setZero(2 * parameter_count);
}

template <typename Scalar>
std::vector<NamedArray<Scalar>> Adam<Scalar>::named_state() {
  const Index count = this->parameter_count();
  return {{"adam/m", {count}, FlatMap<Scalar>(moments_.data(), count)},
          {"adam/v", {count}, FlatMap<Scalar>(moments_.data() + count, count)}};
}

template <typename Scalar>
void Adam<Scalar>::update(FlatMap<Scalar> parameters, FlatMap<Scalar> gradients, Index begin,
                          Scalar gradient_scale) {
  const Index count = parameters.size();
  auto first = moments_.segment(begin, count).array();
  auto second = moments_.segment(this->parameter_count() + begin, count).array();
  const auto gradient = gradient_scale * gradients.array();
  first = options_.beta1 * first + (1 - options_.beta1) * gradient;
  second = options_.beta2 * second + (1 - options_.beta2) * gradient.square();
  // The bias corrections 1 - b^t, computed in double.
  const auto steps = static_cast<double>(this->step_count());
  const auto first_correction =
      static_cast<Scalar>(1 - std::pow(static_cast<double>(options_.beta1), steps));
  const auto second_correction =
      static_cast<Scalar>(1 - std::pow(static_cast<double>(options_.beta2), steps));
  parameters.array() -= options_.learning_rate * (first / first_correction) /
                        ((second / second_correction).sqrt() + options_.epsilon);
}

template class Adam<float>;
template class Adam<double>;

}  // namespace dnmf::nn
