#pragma once
// Rectified linear unit, elementwise: y = max(x, 0). The gradient at 0 is taken as 0.

#include "dnmf/nn/layer.hpp"

namespace dnmf::nn {

template <typename Scalar>
class ReLU final : public Layer<Scalar> {
 public:
  ReLU(std::string name, Index size);

 private:
  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;

  Matrix<Scalar> output_;  // also the mask for backward: y > 0 exactly where x > 0
  Matrix<Scalar> input_gradient_;
};

}  // namespace dnmf::nn
