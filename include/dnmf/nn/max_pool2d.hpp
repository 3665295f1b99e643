#pragma once
// 2x2 max pooling with stride 2 over each channel of an HWC image. An odd last row or column
// is dropped (floor, as PyTorch and Keras do); it receives zero gradient. Among equal values
// the first in the window (row-major order) takes the gradient. Backward writes every input
// gradient value once (the maximum's gradient or 0), so it needs no zeroing pass.

#include <cstdint>
#include <vector>

#include "dnmf/nn/layer.hpp"

namespace dnmf::nn {

template <typename Scalar>
class MaxPool2D final : public Layer<Scalar> {
 public:
  MaxPool2D(std::string name, ImageShape input);

  ImageShape output_shape() const { return output_shape_; }

 private:
  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;

  ImageShape input_shape_;
  ImageShape output_shape_;
  Matrix<Scalar> output_;
  /// Per output value, which of its window's four inputs (0..3, row-major) was the maximum.
  /// 32-bit like a float, so forward and backward vectorise over the channels.
  std::vector<std::int32_t> winner_;
  Matrix<Scalar> input_gradient_;
};

}  // namespace dnmf::nn
