#pragma once
// 2-D convolution (cross-correlation, as in every deep-learning library), stride 1, square
// kernel, computed as im2col + one GEMM for the whole batch:
//   columns (kernel*kernel*in_channels x positions*batch), one column per output position,
//   output  (filters x positions*batch) = W * columns + b,
// whose column-major storage is the HWC output image of every sample in turn.
//
// Padding: Valid (no padding, output (H-k+1)x(W-k+1)) or Same (zero padding k/2, output HxW,
// odd k only). The networks use Valid: 28x28 digits have a blank border of about four pixels,
// so padding adds nothing to see, while 26x26 pools exactly to 13x13 and the first dense layer
// gets 5408 instead of 6272 inputs (PyTorch's Conv2d default, padding=0, gives the same shape).
//
// Arrays: "W" shape {filters, kernel, kernel, in_channels} (row-major; one filter a row of the
// GEMM, its taps in the same order as a column of im2col), "b" shape {filters}.

#include "dnmf/nn/layer.hpp"

namespace dnmf::nn {

enum class Padding { Valid, Same };

template <typename Scalar>
class Conv2D final : public Layer<Scalar> {
 public:
  Conv2D(std::string name, ImageShape input, Index filters, Index kernel, Padding padding,
         WeightInit init);

  ImageShape output_shape() const { return output_shape_; }

  std::vector<ArraySpec> parameter_arrays() const override;
  void bind_parameters(Scalar* parameters, Scalar* gradients) override;
  void initialize(RandomEngine& engine) override;

 private:
  using WeightMap = Eigen::Map<RowMatrix<Scalar>>;

  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;

  Index patch_size() const { return kernel_ * kernel_ * input_shape_.channels; }
  Index positions() const { return output_shape_.height * output_shape_.width; }
  /// Calls visit(patch_offset, image_offset) for every run of in_channels values of im2col:
  /// patch_offset into the columns buffer, image_offset into the batch, -1 for padding.
  template <typename Visit>
  void for_each_tap(Index batch_size, Visit&& visit) const;

  ImageShape input_shape_;
  ImageShape output_shape_;
  Index kernel_;
  Index padding_;  // zero rows/columns added on each side
  WeightInit init_;
  WeightMap weights_{nullptr, 0, 0};
  FlatMap<Scalar> bias_{nullptr, 0};
  WeightMap weights_gradient_{nullptr, 0, 0};
  FlatMap<Scalar> bias_gradient_{nullptr, 0};
  Matrix<Scalar> columns_;           // patch_size x positions*capacity: im2col of the input
  Matrix<Scalar> output_;            // filters x positions*capacity
  Matrix<Scalar> columns_gradient_;  // patch_size x positions*capacity, for col2im
  Matrix<Scalar> input_gradient_;
};

}  // namespace dnmf::nn
