#pragma once
// Fully connected layer: y = W x + b, W (outputs x inputs), b (outputs).
// Arrays: "W" shape {outputs, inputs} (row-major, as PyTorch's Linear), "b" shape {outputs}.

#include "dnmf/nn/layer.hpp"

namespace dnmf::nn {

template <typename Scalar>
class Dense final : public Layer<Scalar> {
 public:
  Dense(std::string name, Index inputs, Index outputs, WeightInit init);

  std::vector<ArraySpec> parameter_arrays() const override;
  void bind_parameters(Scalar* parameters, Scalar* gradients) override;
  void initialize(RandomEngine& engine) override;

 private:
  using WeightMap = Eigen::Map<RowMatrix<Scalar>>;

  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;

  WeightInit init_;
  WeightMap weights_{nullptr, 0, 0};
  FlatMap<Scalar> bias_{nullptr, 0};
  WeightMap weights_gradient_{nullptr, 0, 0};
  FlatMap<Scalar> bias_gradient_{nullptr, 0};
  const Scalar* input_ = nullptr;  // the last forward's input, for the weight gradient
  Matrix<Scalar> output_;
  Matrix<Scalar> input_gradient_;
};

}  // namespace dnmf::nn
