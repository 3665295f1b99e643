#include "dnmf/nn/conv2d.hpp"

#include <algorithm>
#include <new>
#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/core/parallel_for.hpp"

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
  return {{"W", {kernel_, kernel_, input_shape_.channels, filters}, 0},
          {"b", {filters}, filters * patch_size()}};
}

template <typename Scalar>
void Conv2D<Scalar>::bind_parameters(Scalar* parameters, Scalar* gradients) {
  const Index filters = output_shape_.channels;
  new (&weights_) Eigen::Map<Matrix<Scalar>>(parameters, filters, patch_size() + 1);
  new (&weights_gradient_) Eigen::Map<Matrix<Scalar>>(gradients, filters, patch_size() + 1);
}

template <typename Scalar>
void Conv2D<Scalar>::initialize(RandomEngine& engine) {
  const Index filters = output_shape_.channels;
  const double limit = weight_init_limit(init_, patch_size(), filters * kernel_ * kernel_);
  auto weights = weights_.leftCols(patch_size());
  fill_uniform(weights, -limit, limit, engine);
  weights_.col(patch_size()).setZero();
}

template <typename Scalar>
void Conv2D<Scalar>::allocate(Index max_batch) {
  const Index rows = positions() * max_batch;
  columns_.setZero(rows, patch_size() + 1);  // padding entries stay zero
  columns_.col(patch_size()).setOnes();
  output_.resize(output_shape_.channels, rows);
  if (this->input_gradient_needed()) {
    columns_gradient_.resize(rows, patch_size());
    input_gradient_.resize(this->input_size(), max_batch);
  }
}

template <typename Scalar>
typename Conv2D<Scalar>::ColumnsMap Conv2D<Scalar>::patch_rows(Matrix<Scalar>& buffer,
                                                               Index columns) const {
  return ColumnsMap(buffer.data(), positions() * this->batch(), columns,
                    Eigen::OuterStride<>(buffer.rows()));
}

template <typename Scalar>
template <typename Visit>
void Conv2D<Scalar>::for_each_run(Index first_sample, Index end_sample, Visit&& visit) const {
  const Index channels = input_shape_.channels;
  const Index leading = columns_.rows();
  for (Index sample = first_sample; sample < end_sample; ++sample) {
    for (Index y = 0; y < output_shape_.height; ++y) {
      const Index first_position = sample * positions() + y * output_shape_.width;
      for (Index ky = 0; ky < kernel_; ++ky) {
        const Index source_y = y + ky - padding_;
        if (source_y < 0 || source_y >= input_shape_.height) continue;
        for (Index kx = 0; kx < kernel_; ++kx) {
          // Output x reads input x + kx - padding: keep the x whose source is inside.
          const Index first_x = std::max<Index>(0, padding_ - kx);
          const Index end_x = std::min(output_shape_.width, input_shape_.width + padding_ - kx);
          if (first_x >= end_x) continue;
          const Index source = sample * this->input_size() +
                               (source_y * input_shape_.width + first_x + kx - padding_) * channels;
          for (Index c = 0; c < channels; ++c) {
            const Index patch_column = (ky * kernel_ + kx) * channels + c;
            visit(patch_column * leading + first_position + first_x, source + c, end_x - first_x);
          }
        }
      }
    }
  }
}

template <typename Scalar>
BatchView<Scalar> Conv2D<Scalar>::compute_forward(BatchView<Scalar> input) {
  const Index channels = input_shape_.channels;
  const Scalar* image = input.data();
  Scalar* patches = columns_.data();
  const ColumnsMap all_patches = patch_rows(columns_, patch_size() + 1);
  parallel_for(input.cols(), this->kSampleGrain, [&](Index first, Index end) {
    for_each_run(first, end, [&](Index columns_offset, Index image_offset, Index length) {
      for (Index i = 0; i < length; ++i) {
        patches[columns_offset + i] = image[image_offset + i * channels];
      }
    });
    const Index rows = positions() * (end - first);
    BatchMap<Scalar> output(output_.data() + output_.rows() * positions() * first, output_.rows(),
                            rows);
    output.noalias() = weights_ * all_patches.middleRows(positions() * first, rows).transpose();
  });
  return BatchView<Scalar>(output_.data(), this->output_size(), input.cols());
}

template <typename Scalar>
BatchView<Scalar> Conv2D<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  const BatchView<Scalar> gradient(output_gradient.data(), output_shape_.channels,
                                   positions() * this->batch());
  const ColumnsMap all_patches = patch_rows(columns_, patch_size() + 1);
  parallel_for(output_shape_.channels, this->kGradientGrain, [&](Index first, Index end) {
    weights_gradient_.middleRows(first, end - first).noalias() +=
        gradient.middleRows(first, end - first) * all_patches;
  });
  if (!this->input_gradient_needed()) return this->no_gradient();

  ColumnsMap patches_gradient = patch_rows(columns_gradient_, patch_size());
  BatchMap<Scalar> input_gradient = leading_columns(input_gradient_, this->batch());
  // col2im: every patch value flows back to the pixel it was copied from.
  const Index channels = input_shape_.channels;
  Scalar* image = input_gradient.data();
  const Scalar* patches = columns_gradient_.data();
  parallel_for(this->batch(), this->kSampleGrain, [&](Index first, Index end) {
    const Index rows = positions() * (end - first);
    patches_gradient.middleRows(positions() * first, rows).noalias() =
        gradient.middleCols(positions() * first, rows).transpose() *
        weights_.leftCols(patch_size());
    input_gradient.middleCols(first, end - first).setZero();
    for_each_run(first, end, [&](Index columns_offset, Index image_offset, Index length) {
      for (Index i = 0; i < length; ++i) {
        image[image_offset + i * channels] += patches[columns_offset + i];
      }
    });
  });
  return as_view(input_gradient);
}

template class Conv2D<float>;
template class Conv2D<double>;

}  // namespace dnmf::nn
