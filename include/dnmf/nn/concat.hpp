#pragma once
// Two branches fed the same input; the output stacks the first branch's features above the
// second's. Backward splits the gradient between the branches and, if needed, sums their input
// gradients (the input fans out to both).

#include "dnmf/nn/sequential.hpp"

namespace dnmf::nn {

template <typename Scalar>
class Concat final : public Layer<Scalar> {
 public:
  /// Throws InputError unless both branches take the same input size.
  Concat(std::string name, std::unique_ptr<Layer<Scalar>> first,
         std::unique_ptr<Layer<Scalar>> second);

  void set_input_gradient_needed(bool needed) override;
  void append_leaves(std::vector<Layer<Scalar>*>& leaves) override;

 private:
  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;

  std::unique_ptr<Layer<Scalar>> first_;
  std::unique_ptr<Layer<Scalar>> second_;
  Matrix<Scalar> output_;
  Matrix<Scalar> first_gradient_;   // the first branch's rows of the output gradient
  Matrix<Scalar> second_gradient_;  // the second branch's rows
  Matrix<Scalar> input_gradient_;
};

}  // namespace dnmf::nn
