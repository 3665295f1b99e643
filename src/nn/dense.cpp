#include "dnmf/nn/dense.hpp"

#include <algorithm>
#include <new>
#include <utility>

#include "dnmf/core/parallel_for.hpp"

namespace dnmf::nn {

template <typename Scalar>
Dense<Scalar>::Dense(std::string name, Index inputs, Index outputs, WeightInit init)
    : Layer<Scalar>(std::move(name), inputs, outputs), init_(init) {}

template <typename Scalar>
std::vector<ArraySpec> Dense<Scalar>::parameter_arrays() const {
  const Index inputs = this->input_size();
  const Index outputs = this->output_size();
  return {{"W", {outputs, inputs}, 0}, {"b", {outputs}, outputs * inputs}};
}

template <typename Scalar>
void Dense<Scalar>::bind_parameters(Scalar* parameters, Scalar* gradients) {
  const Index inputs = this->input_size();
  const Index outputs = this->output_size();
  // Eigen's documented way to re-seat a Map.
  new (&weights_) WeightMap(parameters, outputs, inputs);
  new (&bias_) FlatMap<Scalar>(parameters + outputs * inputs, outputs);
  new (&weights_gradient_) WeightMap(gradients, outputs, inputs);
  new (&bias_gradient_) FlatMap<Scalar>(gradients + outputs * inputs, outputs);
}

template <typename Scalar>
void Dense<Scalar>::initialize(RandomEngine& engine) {
  const double limit = weight_init_limit(init_, this->input_size(), this->output_size());
  fill_uniform(weights_, -limit, limit, engine);
  if (init_ == WeightInit::FanIn) {
    fill_uniform(bias_, -limit, limit, engine);
  } else {
    bias_.setZero();
  }
}

template <typename Scalar>
void Dense<Scalar>::allocate(Index max_batch) {
  output_.resize(this->output_size(), max_batch);
  if (this->input_gradient_needed()) input_gradient_.resize(this->input_size(), max_batch);
}

template <typename Scalar>
BatchView<Scalar> Dense<Scalar>::compute_forward(BatchView<Scalar> input) {
  input_ = input.data();
  BatchMap<Scalar> output = leading_columns(output_, input.cols());
  parallel_for(input.cols(), this->kSampleGrain, [&](Index first, Index end) {
    auto samples = output.middleCols(first, end - first);
    samples.noalias() = weights_ * input.middleCols(first, end - first);
    samples.colwise() += bias_;
  });
  return as_view(output);
}

template <typename Scalar>
BatchView<Scalar> Dense<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  output_gradient_ = output_gradient.data();
  // The parameter gradients sum over the batch: split by output rows, each summed by one thread.
  parallel_for(this->output_size(), this->kGradientGrain, [&](Index first, Index end) {
    const auto rows = output_gradient.middleRows(first, end - first);
    if (!weight_gradient_deferred_) {
      weights_gradient_.middleRows(first, end - first).noalias() += rows * last_input().transpose();
    }
    bias_gradient_.segment(first, end - first) += rows.rowwise().sum();
  });
  if (!this->input_gradient_needed()) return this->no_gradient();
  BatchMap<Scalar> input_gradient = leading_columns(input_gradient_, this->batch());
  parallel_for(this->batch(), this->kSampleGrain, [&](Index first, Index end) {
    input_gradient.middleCols(first, end - first).noalias() =
        weights_.transpose() * output_gradient.middleCols(first, end - first);
  });
  return as_view(input_gradient);
}

template <typename Scalar>
BatchView<Scalar> Dense<Scalar>::last_input() const {
  return BatchView<Scalar>(input_, this->input_size(), this->batch());
}

template <typename Scalar>
BatchView<Scalar> Dense<Scalar>::last_output_gradient() const {
  return BatchView<Scalar>(output_gradient_, this->output_size(), this->batch());
}

template <typename Scalar>
void Dense<Scalar>::assign_weight_gradient(BatchView<Scalar> output_gradient,
                                           BatchView<Scalar> input, Index first, Index count) {
  // Each thread takes a run of at least a row's entries.
  parallel_for(count, this->input_size(), [&](Index begin, Index end) {
    assign_weight_gradient_run(output_gradient, input, first + begin, end - begin);
  });
}

template <typename Scalar>
void Dense<Scalar>::assign_weight_gradient_run(BatchView<Scalar> output_gradient,
                                               BatchView<Scalar> input, Index first, Index count) {
  // Row o of W's gradient is output_gradient.row(o) * input^T; the range covers the tail of one
  // row, whole rows, then the head of another.
  const Index inputs = this->input_size();
  Index entry = first;
  const Index end = first + count;
  while (entry < end) {
    const Index row = entry / inputs;
    const Index column = entry % inputs;
    if (column == 0 && end - entry >= inputs) {
      const Index rows = (end - entry) / inputs;
      weights_gradient_.middleRows(row, rows).noalias() =
          output_gradient.middleRows(row, rows) * input.transpose();
      entry += rows * inputs;
    } else {
      const Index length = std::min(inputs - column, end - entry);
      weights_gradient_.row(row).segment(column, length).noalias() =
          output_gradient.row(row) * input.middleRows(column, length).transpose();
      entry += length;
    }
  }
}

template class Dense<float>;
template class Dense<double>;

}  // namespace dnmf::nn
