#include "dnmf/nn/flatten.hpp"

#include <utility>

namespace dnmf::nn {

template <typename Scalar>
Flatten<Scalar>::Flatten(std::string name, ImageShape input)
    : Layer<Scalar>(std::move(name), input.size(), input.size()) {}

template <typename Scalar>
void Flatten<Scalar>::allocate(Index /*max_batch*/) {}

template <typename Scalar>
BatchView<Scalar> Flatten<Scalar>::compute_forward(BatchView<Scalar> input) {
  return input;
}

template <typename Scalar>
BatchView<Scalar> Flatten<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  return this->input_gradient_needed() ? output_gradient : this->no_gradient();
}

template class Flatten<float>;
template class Flatten<double>;

}  // namespace dnmf::nn
