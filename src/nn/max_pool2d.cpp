#include "dnmf/nn/max_pool2d.hpp"

#include <algorithm>
#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/core/parallel_for.hpp"

namespace dnmf::nn {
namespace {

ImageShape checked_pooled(const std::string& name, ImageShape input) {
  if (input.height < 2 || input.width < 2 || input.channels < 1) {
    throw InputError("layer " + name + ": 2x2 max pooling needs an image of at least 2x2x1, got " +
                     input.to_string());
  }
  return {input.height / 2, input.width / 2, input.channels};
}

}  // namespace

template <typename Scalar>
MaxPool2D<Scalar>::MaxPool2D(std::string name, ImageShape input)
    : Layer<Scalar>(name, input.size(), checked_pooled(name, input).size()),
      input_shape_(input),
      output_shape_(checked_pooled(name, input)) {}

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
  parallel_for(input.cols(), this->kSampleGrain, [&](Index first, Index end) {
    for (Index sample = first; sample < end; ++sample) {
      const Scalar* image = input.col(sample).data();
      Scalar* pooled_image = output_.col(sample).data();
      std::int32_t* winners = winner_.data() + sample * this->output_size();
      for (Index y = 0; y < output_shape_.height; ++y) {
        for (Index x = 0; x < output_shape_.width; ++x) {
          const Scalar* top_left = image + 2 * y * row_stride + 2 * x * channels;
          const Scalar* top_right = top_left + channels;
          const Scalar* bottom_left = top_left + row_stride;
          const Scalar* bottom_right = bottom_left + channels;
          const Index out = (y * output_shape_.width + x) * channels;
          // Branch-free over the channels, so the compiler vectorises it. The winner is the first
          // input equal to the maximum (assignments in reverse order: the earliest prevails).
          for (Index c = 0; c < channels; ++c) {
            const Scalar best = std::max(std::max(top_left[c], top_right[c]),
                                         std::max(bottom_left[c], bottom_right[c]));
            std::int32_t winner = 3;
            winner = bottom_left[c] == best ? 2 : winner;
            winner = top_right[c] == best ? 1 : winner;
            winner = top_left[c] == best ? 0 : winner;
            pooled_image[out + c] = best;
            winners[out + c] = winner;
          }
        }
      }
    }
  });
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
  parallel_for(this->batch(), this->kSampleGrain, [&](Index first, Index end) {
    for (Index sample = first; sample < end; ++sample) {
      Scalar* image_gradient = input_gradient.col(sample).data();
      const Scalar* pooled_gradient = output_gradient.col(sample).data();
      const std::int32_t* winners = winner_.data() + sample * this->output_size();
      for (Index y = 0; y < output_shape_.height; ++y) {
        for (Index x = 0; x < output_shape_.width; ++x) {
          Scalar* top_left = image_gradient + 2 * y * row_stride + 2 * x * channels;
          Scalar* top_right = top_left + channels;
          Scalar* bottom_left = top_left + row_stride;
          Scalar* bottom_right = bottom_left + channels;
          const Index out = (y * output_shape_.width + x) * channels;
          for (Index c = 0; c < channels; ++c) {
            const Scalar gradient = pooled_gradient[out + c];
            const std::int32_t winner = winners[out + c];
            top_left[c] = winner == 0 ? gradient : Scalar(0);
            top_right[c] = winner == 1 ? gradient : Scalar(0);
            bottom_left[c] = winner == 2 ? gradient : Scalar(0);
            bottom_right[c] = winner == 3 ? gradient : Scalar(0);
          }
        }
      }
    }
  });
  return as_view(input_gradient);
}

template class MaxPool2D<float>;
template class MaxPool2D<double>;

}  // namespace dnmf::nn
