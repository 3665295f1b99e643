#include "dnmf/nn/relu.hpp"

#include <utility>

#include "dnmf/core/parallel_for.hpp"

namespace dnmf::nn {

template <typename Scalar>
ReLU<Scalar>::ReLU(std::string name, Index size) : Layer<Scalar>(std::move(name), size, size) {}

template <typename Scalar>
void ReLU<Scalar>::allocate(Index max_batch) {
  output_.resize(this->output_size(), max_batch);
  if (this->input_gradient_needed()) input_gradient_.resize(this->input_size(), max_batch);
}

template <typename Scalar>
BatchView<Scalar> ReLU<Scalar>::compute_forward(BatchView<Scalar> input) {
  BatchMap<Scalar> output = leading_columns(output_, input.cols());
  parallel_for(input.cols(), this->kSampleGrain, [&](Index first, Index end) {
    output.middleCols(first, end - first).array() =
        input.middleCols(first, end - first).array().max(Scalar(0));
  });
  return as_view(output);
}

template <typename Scalar>
BatchView<Scalar> ReLU<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  if (!this->input_gradient_needed()) return this->no_gradient();
  const BatchView<Scalar> output = leading_columns(std::as_const(output_), this->batch());
  BatchMap<Scalar> input_gradient = leading_columns(input_gradient_, this->batch());
  parallel_for(this->batch(), this->kSampleGrain, [&](Index first, Index end) {
    const Index count = end - first;
    input_gradient.middleCols(first, count).array() =
        (output.middleCols(first, count).array() > Scalar(0))
            .select(output_gradient.middleCols(first, count).array(), Scalar(0));
  });
  return as_view(input_gradient);
}

template class ReLU<float>;
template class ReLU<double>;

}  // namespace dnmf::nn
