#include "dnmf/nn/layer.hpp"

#include <utility>

#include "dnmf/core/error.hpp"

namespace dnmf::nn {
namespace {

Index total_size(const std::vector<ArraySpec>& arrays) {
  Index count = 0;
  for (const ArraySpec& array : arrays) count += array.size();
  return count;
}

}  // namespace

template <typename Scalar>
Layer<Scalar>::Layer(std::string name, Index input_size, Index output_size)
    : name_(std::move(name)), input_size_(input_size), output_size_(output_size) {
  if (input_size <= 0 || output_size <= 0) {
    throw InputError("layer " + name_ + ": expected positive input and output sizes, got " +
                     std::to_string(input_size) + " and " + std::to_string(output_size));
  }
}

template <typename Scalar>
void Layer<Scalar>::reserve(Index max_batch) {
  allocate(max_batch);
  capacity_ = max_batch;
}

template <typename Scalar>
void Layer<Scalar>::set_input_gradient_needed(bool needed) {
  input_gradient_needed_ = needed;
  if (capacity_ > 0) allocate(capacity_);
}

template <typename Scalar>
BatchView<Scalar> Layer<Scalar>::forward(BatchView<Scalar> input) {
  if (input.rows() != input_size_) {
    throw InputError("layer " + name_ + ": expected input with " + std::to_string(input_size_) +
                     " features a sample, got " + std::to_string(input.rows()));
  }
  if (input.cols() > capacity_) reserve(input.cols());
  batch_ = input.cols();
  return compute_forward(input);
}

template <typename Scalar>
BatchView<Scalar> Layer<Scalar>::backward(BatchView<Scalar> output_gradient) {
  if (output_gradient.rows() != output_size_ || output_gradient.cols() != batch_) {
    throw InputError(
        "layer " + name_ + ": expected an output gradient of " + std::to_string(output_size_) +
        " x " + std::to_string(batch_) + " (features x batch of the last forward), got " +
        std::to_string(output_gradient.rows()) + " x " + std::to_string(output_gradient.cols()));
  }
  return compute_backward(output_gradient);
}

template <typename Scalar>
Index Layer<Scalar>::parameter_count() const {
  return total_size(parameter_arrays());
}

template <typename Scalar>
Index Layer<Scalar>::buffer_count() const {
  return total_size(buffer_arrays());
}

template class Layer<float>;
template class Layer<double>;

}  // namespace dnmf::nn
