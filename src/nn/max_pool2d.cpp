#include "dnmf/nn/max_pool2d.hpp"

#include <utility>

#include "dnmf/core/error.hpp"

namespace dnmf::nn {
namespace {

ImageShape pooled(const std::string& name, ImageShape input) {
  if (input.height < 2 || input.width < 2 || input.channels < 1) {
    throw InputError("layer " + name + ": 2x2 max pooling needs an image of at least 2x2x1, got " +
                     input.to_string());
  }
  return {input.height / 2, input.width / 2, input.channels};
}

}  // namespace

template <typename Scalar>
MaxPool2D<Scalar>::MaxPool2D(std::string name, ImageShape input)
    : Layer<Scalar>(name, input.size(), pooled(name, input).size()),
      input_shape_(input),
      output_shape_(pooled(name, input)) {}

template <typename Scalar>
void MaxPool2D<Scalar>::allocate(Index max_batch) {
  output_.resize(this->output_size(), max_batch);
  winner_.resize(static_cast<std::size_t>(this->output_size() * max_batch));
  if (this->input_gradient_needed()) input_gradient_.resize(this->input_size(), max_batch);
}

template <typename Scalar>
BatchView<Scalar> MaxPool2D<Scalar>::compute_forward(BatchView<Scalar> input) {
  const Index channels = input_shape_.channels;
  const Index row_stride = input_shape_.width * channels;
  for (Index sample = 0; sample < input.cols(); ++sample) {
    const Scalar* image = input.col(sample).data();
    Scalar* pooled_image = output_.col(sample).data();
    std::uint8_t* winners = winner_.data() + sample * this->output_size();
    for (Index y = 0; y < output_shape_.height; ++y) {
      for (Index x = 0; x < output_shape_.width; ++x) {
        const Scalar* top_left = image + 2 * y * row_stride + 2 * x * channels;
        const Scalar* window[4] = {top_left, top_left + channels, top_left + row_stride,
                                   top_left + row_stride + channels};
        const Index out = (y * output_shape_.width + x) * channels;
        for (Index c = 0; c < channels; ++c) {
          Scalar best = window[0][c];
          std::uint8_t winner = 0;
          for (std::uint8_t w = 1; w < 4; ++w) {
            if (window[w][c] > best) {
              best = window[w][c];
              winner = w;
            }
          }
          pooled_image[out + c] = best;
          winners[out + c] = winner;
        }
      }
    }
  }
  return leading_columns(std::as_const(output_), input.cols());
}

template <typename Scalar>
BatchView<Scalar> MaxPool2D<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  if (!this->input_gradient_needed()) return this->no_gradient();
  BatchMap<Scalar> input_gradient = leading_columns(input_gradient_, this->batch());
  // The windows tile the image except a dropped odd row or column, which gets zero.
  if (input_shape_.height % 2 != 0 || input_shape_.width % 2 != 0) input_gradient.setZero();
  const Index channels = input_shape_.channels;
  const Index row_stride = input_shape_.width * channels;
  for (Index sample = 0; sample < this->batch(); ++sample) {
    Scalar* image_gradient = input_gradient.col(sample).data();
    const Scalar* pooled_gradient = output_gradient.col(sample).data();
    const std::uint8_t* winners = winner_.data() + sample * this->output_size();
    for (Index y = 0; y < output_shape_.height; ++y) {
      for (Index x = 0; x < output_shape_.width; ++x) {
        Scalar* top_left = image_gradient + 2 * y * row_stride + 2 * x * channels;
        Scalar* window[4] = {top_left, top_left + channels, top_left + row_stride,
                             top_left + row_stride + channels};
        const Index out = (y * output_shape_.width + x) * channels;
        for (Index c = 0; c < channels; ++c) {
          const Scalar gradient = pooled_gradient[out + c];
          for (std::uint8_t w = 0; w < 4; ++w) {
            window[w][c] = winners[out + c] == w ? gradient : Scalar(0);
          }
        }
      }
    }
  }
  return as_view(input_gradient);
}

template class MaxPool2D<float>;
template class MaxPool2D<double>;

}  // namespace dnmf::nn
