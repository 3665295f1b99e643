#pragma once
// 2-D convolution (cross-correlation, as in every deep-learning library), stride 1, square
// kernel, computed as im2col + one GEMM for the whole batch (N = output positions * batch,
// P = kernel * kernel * in_channels values a patch):
//   columns (N x P+1): row n is the patch under output position n, then a 1 for the bias;
//   output  (filters x N) = [W | b] * columns^T,
// whose column-major storage is the HWC output image of every sample in turn. Storing the
// patches transposed makes im2col copy whole image rows (one tap, one output row at a time),
// and the column of ones folds the bias into the GEMM, forward (+ b) and backward (db).
//
// Padding: Valid (no padding, output (H-k+1)x(W-k+1)) or Same (zero padding k/2, output HxW,
// odd k only). The networks use Valid: 28x28 digits have a blank border of about four pixels,
// so padding adds nothing to see, while 26x26 pools exactly to 13x13 and the first dense layer
// gets 5408 instead of 6272 inputs (PyTorch's Conv2d default, padding=0, gives the same shape).
//
// Arrays: "W" shape {kernel, kernel, in_channels, filters} (row-major, TensorFlow's HWIO: the
// GEMM's [W | b] is column-major, one patch value a column), then "b" shape {filters}.

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
  using ColumnsMap = Eigen::Map<Matrix<Scalar>, 0, Eigen::OuterStride<>>;

  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;

  Index patch_size() const { return kernel_ * kernel_ * input_shape_.channels; }
  Index positions() const { return output_shape_.height * output_shape_.width; }
  /// The first `columns` of a patch-matrix buffer, with the buffer's leading dimension.
  ColumnsMap patch_rows(Matrix<Scalar>& buffer, Index columns) const;
  /// Calls visit(columns_offset, image_offset, length) for every run of im2col of the samples
  /// [first_sample, end_sample) that lies inside the image: `length` consecutive values of one
  /// columns_ column (offsets with columns_'s leading dimension) come from every in_channels-th
  /// value of the batch from image_offset.
  template <typename Visit>
  void for_each_run(Index first_sample, Index end_sample, Visit&& visit) const;

  ImageShape input_shape_;
  ImageShape output_shape_;
  Index kernel_;
  Index padding_;  // zero rows/columns added on each side
  WeightInit init_;
  Eigen::Map<Matrix<Scalar>> weights_{nullptr, 0, 0};  // [W | b], filters x P+1
  Eigen::Map<Matrix<Scalar>> weights_gradient_{nullptr, 0, 0};
  // positions*capacity rows, so padding entries and the ones column are written once.
  Matrix<Scalar> columns_;           // P+1 columns: im2col of the input, then ones
  Matrix<Scalar> columns_gradient_;  // P columns, for col2im
  Matrix<Scalar> output_;            // filters x positions*capacity
  Matrix<Scalar> input_gradient_;
};

}  // namespace dnmf::nn
