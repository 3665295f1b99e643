#include "dnmf/nn/concat.hpp"

#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/core/parallel_for.hpp"

namespace dnmf::nn {
namespace {

template <typename Scalar>
Index stacked_size(const std::string& name, const Layer<Scalar>& first,
                   const Layer<Scalar>& second) {
  if (first.input_size() != second.input_size()) {
    throw InputError("layer " + name + ": both branches must take the same input, but " +
                     first.name() + " takes " + std::to_string(first.input_size()) +
                     " features and " + second.name() + " takes " +
                     std::to_string(second.input_size()));
  }
  return first.output_size() + second.output_size();
}

}  // namespace

template <typename Scalar>
Concat<Scalar>::Concat(std::string name, std::unique_ptr<Layer<Scalar>> first,
                       std::unique_ptr<Layer<Scalar>> second)
    : Layer<Scalar>(name, first->input_size(), stacked_size(name, *first, *second)),
      first_(std::move(first)),
      second_(std::move(second)) {}

template <typename Scalar>
void Concat<Scalar>::set_input_gradient_needed(bool needed) {
  Layer<Scalar>::set_input_gradient_needed(needed);
  first_->set_input_gradient_needed(needed);
  second_->set_input_gradient_needed(needed);
}

template <typename Scalar>
void Concat<Scalar>::append_leaves(std::vector<Layer<Scalar>*>& leaves) {
  first_->append_leaves(leaves);
  second_->append_leaves(leaves);
}

template <typename Scalar>
void Concat<Scalar>::allocate(Index max_batch) {
  first_->reserve(max_batch);
  second_->reserve(max_batch);
  output_.resize(this->output_size(), max_batch);
  first_gradient_.resize(first_->output_size(), max_batch);
  second_gradient_.resize(second_->output_size(), max_batch);
  if (this->input_gradient_needed()) input_gradient_.resize(this->input_size(), max_batch);
}

template <typename Scalar>
BatchView<Scalar> Concat<Scalar>::compute_forward(BatchView<Scalar> input) {
  BatchMap<Scalar> output = leading_columns(output_, input.cols());
  const BatchView<Scalar> first_output = first_->forward(input);
  const BatchView<Scalar> second_output = second_->forward(input);
  parallel_for(input.cols(), this->kSampleGrain, [&](Index first, Index end) {
    auto samples = output.middleCols(first, end - first);
    samples.topRows(first_->output_size()) = first_output.middleCols(first, end - first);
    samples.bottomRows(second_->output_size()) = second_output.middleCols(first, end - first);
  });
  return leading_columns(std::as_const(output_), input.cols());
}

template <typename Scalar>
BatchView<Scalar> Concat<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  BatchMap<Scalar> first_gradient = leading_columns(first_gradient_, this->batch());
  BatchMap<Scalar> second_gradient = leading_columns(second_gradient_, this->batch());
  parallel_for(this->batch(), this->kSampleGrain, [&](Index first, Index end) {
    const auto samples = output_gradient.middleCols(first, end - first);
    first_gradient.middleCols(first, end - first) = samples.topRows(first_->output_size());
    second_gradient.middleCols(first, end - first) = samples.bottomRows(second_->output_size());
  });
  const BatchView<Scalar> first_input_gradient = first_->backward(as_view(first_gradient));
  const BatchView<Scalar> second_input_gradient = second_->backward(as_view(second_gradient));
  if (!this->input_gradient_needed()) return this->no_gradient();
  BatchMap<Scalar> input_gradient = leading_columns(input_gradient_, this->batch());
  parallel_for(this->batch(), this->kSampleGrain, [&](Index first, Index end) {
    input_gradient.middleCols(first, end - first) =
        first_input_gradient.middleCols(first, end - first) +
        second_input_gradient.middleCols(first, end - first);
  });
  return as_view(input_gradient);
}

template class Concat<float>;
template class Concat<double>;

}  // namespace dnmf::nn
