#pragma once
// Fully connected layer: y = W x + b, W (outputs x inputs), b (outputs).
// Arrays: "W" shape {outputs, inputs} (row-major, as PyTorch's Linear), "b" shape {outputs}.
//
// W's gradient is dY X^T summed over the batch. A data-parallel trainer may defer it: backward
// then leaves W's gradient alone, and the trainer assigns it from the whole global batch's X and
// dY gathered from the ranks (assign_weight_gradient), which moves batch x (inputs + outputs)
// values a step where summing the ranks' gradients moves inputs x outputs.

#include "dnmf/nn/layer.hpp"

namespace dnmf::nn {

template <typename Scalar>
class Dense final : public Layer<Scalar> {
 public:
  Dense(std::string name, Index inputs, Index outputs, WeightInit init);

  std::vector<ArraySpec> parameter_arrays() const override;
  void bind_parameters(Scalar* parameters, Scalar* gradients) override;
  void initialize(RandomEngine& engine) override;

  /// Whether backward skips W's gradient (it still accumulates b's and the input's).
  void set_weight_gradient_deferred(bool deferred) { weight_gradient_deferred_ = deferred; }
  /// The last forward's input (inputs x batch) and the last backward's output gradient (outputs x
  /// batch): views valid until the next forward.
  BatchView<Scalar> last_input() const;
  BatchView<Scalar> last_output_gradient() const;
  /// Sets the entries [first, first + count) of W's gradient (row-major order) to those of
  /// output_gradient * input^T, for one batch's output gradients and inputs.
  void assign_weight_gradient(BatchView<Scalar> output_gradient, BatchView<Scalar> input,
                              Index first, Index count);

 private:
  using WeightMap = Eigen::Map<RowMatrix<Scalar>>;
  /// assign_weight_gradient on one thread.
  void assign_weight_gradient_run(BatchView<Scalar> output_gradient, BatchView<Scalar> input,
                                  Index first, Index count);

  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;

  WeightInit init_;
  WeightMap weights_{nullptr, 0, 0};
  FlatMap<Scalar> bias_{nullptr, 0};
  WeightMap weights_gradient_{nullptr, 0, 0};
  FlatMap<Scalar> bias_gradient_{nullptr, 0};
  const Scalar* input_ = nullptr;            // the last forward's input, for the weight gradient
  const Scalar* output_gradient_ = nullptr;  // the last backward's, for a deferred weight gradient
  bool weight_gradient_deferred_ = false;
  Matrix<Scalar> output_;
  Matrix<Scalar> input_gradient_;
};

}  // namespace dnmf::nn
