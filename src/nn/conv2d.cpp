#include "dnmf/nn/conv2d.hpp"

#include <algorithm>
#include <new>
#include <utility>

#include "dnmf/core/error.hpp"

namespace dnmf::nn {
namespace {

ImageShape convolved(const std::string& name, ImageShape input, Index filters, Index kernel,
                     Padding padding) {
  if (input.height < 1 || input.width < 1 || input.channels < 1 || filters < 1 || kernel < 1) {
    throw InputError("layer " + name + ": expected a positive image shape, filter count and " +
                     "kernel size, got image " + input.to_string() + ", " +
                     std::to_string(filters) + " filters, kernel " + std::to_string(kernel));
  }
  if (padding == Padding::Same) {
    if (kernel % 2 == 0) {
      throw InputError("layer " + name + ": 'same' padding needs an odd kernel size, got " +
                       std::to_string(kernel));
    }
    return {input.height, input.width, filters};
  }
  if (kernel > input.height || kernel > input.width) {
    throw InputError("layer " + name + ": a " + std::to_string(kernel) + "x" +
                     std::to_string(kernel) + " kernel does not fit a " + input.to_string() +
                     " image without padding");
  }
  return {input.height - kernel + 1, input.width - kernel + 1, filters};
}

}  // namespace

template <typename Scalar>
Conv2D<Scalar>::Conv2D(std::string name, ImageShape input, Index filters, Index kernel,
                       Padding padding, WeightInit init)
    : Layer<Scalar>(name, input.size(), convolved(name, input, filters, kernel, padding).size()),
      input_shape_(input),
      output_shape_(convolved(name, input, filters, kernel, padding)),
      kernel_(kernel),
      padding_(padding == Padding::Same ? kernel / 2 : 0),
      init_(init) {}

template <typename Scalar>
std::vector<ArraySpec> Conv2D<Scalar>::parameter_arrays() const {
  const Index filters = output_shape_.channels;
  return {{"W", {filters, kernel_, kernel_, input_shape_.channels}, 0},
          {"b", {filters}, filters * patch_size()}};
}

template <typename Scalar>
void Conv2D<Scalar>::bind_parameters(Scalar* parameters, Scalar* gradients) {
  const Index filters = output_shape_.channels;
  new (&weights_) WeightMap(parameters, filters, patch_size());
  new (&bias_) FlatMap<Scalar>(parameters + filters * patch_size(), filters);
  new (&weights_gradient_) WeightMap(gradients, filters, patch_size());
  new (&bias_gradient_) FlatMap<Scalar>(gradients + filters * patch_size(), filters);
}

template <typename Scalar>
void Conv2D<Scalar>::initialize(RandomEngine& engine) {
  const Index filters = output_shape_.channels;
  const double limit =
      weight_init_limit(init_, patch_size(), filters * kernel_ * kernel_);
  fill_uniform(weights_, -limit, limit, engine);
  bias_.setZero();
}

template <typename Scalar>
void Conv2D<Scalar>::allocate(Index max_batch) {
  columns_.resize(patch_size(), positions() * max_batch);
  output_.resize(output_shape_.channels, positions() * max_batch);
  if (this->input_gradient_needed()) {
    columns_gradient_.resize(patch_size(), positions() * max_batch);
    input_gradient_.resize(this->input_size(), max_batch);
  }
}

template <typename Scalar>
template <typename Visit>
void Conv2D<Scalar>::for_each_tap(Index batch_size, Visit&& visit) const {
  const Index channels = input_shape_.channels;
  Index patch_offset = 0;
  for (Index sample = 0; sample < batch_size; ++sample) {
    const Index image_offset = sample * this->input_size();
    for (Index y = 0; y < output_shape_.height; ++y) {
      for (Index x = 0; x < output_shape_.width; ++x) {
        for (Index ky = 0; ky < kernel_; ++ky) {
          const Index source_y = y + ky - padding_;
          const bool row_inside = source_y >= 0 && source_y < input_shape_.height;
          for (Index kx = 0; kx < kernel_; ++kx, patch_offset += channels) {
            const Index source_x = x + kx - padding_;
            const bool inside = row_inside && source_x >= 0 && source_x < input_shape_.width;
            visit(patch_offset,
                  inside ? image_offset + (source_y * input_shape_.width + source_x) * channels
                         : Index(-1));
          }
        }
      }
    }
  }
}

template <typename Scalar>
BatchView<Scalar> Conv2D<Scalar>::compute_forward(BatchView<Scalar> input) {
  const Index channels = input_shape_.channels;
  const Index columns = positions() * input.cols();
  const Scalar* image = input.data();
  Scalar* patches = columns_.data();
  for_each_tap(input.cols(), [&](Index patch_offset, Index image_offset) {
    if (image_offset < 0) {
      std::fill_n(patches + patch_offset, channels, Scalar(0));
    } else {
      std::copy_n(image + image_offset, channels, patches + patch_offset);
    }
  });
  BatchMap<Scalar> output(output_.data(), output_.rows(), columns);
  output.noalias() = weights_ * leading_columns(std::as_const(columns_), columns);
  output.colwise() += bias_;
  return BatchView<Scalar>(output_.data(), this->output_size(), input.cols());
}

template <typename Scalar>
BatchView<Scalar> Conv2D<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  const Index columns = positions() * this->batch();
  const BatchView<Scalar> gradient(output_gradient.data(), output_shape_.channels, columns);
  weights_gradient_.noalias() +=
      gradient * leading_columns(std::as_const(columns_), columns).transpose();
  bias_gradient_ += gradient.rowwise().sum();
  if (!this->input_gradient_needed()) return this->no_gradient();

  BatchMap<Scalar> patches_gradient = leading_columns(columns_gradient_, columns);
  patches_gradient.noalias() = weights_.transpose() * gradient;
  BatchMap<Scalar> input_gradient = leading_columns(input_gradient_, this->batch());
  input_gradient.setZero();
  // col2im: every patch value flows back to the pixel it was copied from.
  const Index channels = input_shape_.channels;
  Scalar* image = input_gradient.data();
  const Scalar* patches = patches_gradient.data();
  for_each_tap(this->batch(), [&](Index patch_offset, Index image_offset) {
    if (image_offset < 0) return;
    for (Index c = 0; c < channels; ++c) image[image_offset + c] += patches[patch_offset + c];
  });
  return as_view(input_gradient);
}

template class Conv2D<float>;
template class Conv2D<double>;

}  // namespace dnmf::nn
