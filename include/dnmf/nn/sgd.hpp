#pragma once
// Stochastic gradient descent with momentum, in PyTorch's form (Sutskever et al. 2013 without
// the Nesterov look-ahead):  v <- momentum * v + g,  p <- p - learning_rate * v.
// State: "sgd/velocity" {parameter_count}.

#include "dnmf/nn/optimizer.hpp"

namespace dnmf::nn {

template <typename Scalar>
struct SgdOptions {
  Scalar learning_rate = Scalar(0.01);
  Scalar momentum = Scalar(0.9);
};

template <typename Scalar>
class Sgd final : public Optimizer<Scalar> {
 public:
  /// Throws InputError for a non-positive learning rate or a momentum outside [0, 1).
  Sgd(Index parameter_count, SgdOptions<Scalar> options);

  std::vector<NamedArray<Scalar>> named_state() override;

 private:
  void update(FlatMap<Scalar> parameters, FlatMap<Scalar> gradients, Index begin,
              Scalar gradient_scale) override;

  SgdOptions<Scalar> options_;
  Vector<Scalar> velocity_;
};

}  // namespace dnmf::nn
