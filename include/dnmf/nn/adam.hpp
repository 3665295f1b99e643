#pragma once
// Adam (Kingma & Ba 2015, Algorithm 1) with bias correction:
//   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
//   p <- p - learning_rate * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + epsilon).
// State: one flat buffer holding "adam/m" then "adam/v", {parameter_count} each; t is
// step_count().

#include "dnmf/nn/optimizer.hpp"

namespace dnmf::nn {

template <typename Scalar>
struct AdamOptions {
  Scalar learning_rate = Scalar(0.001);
  Scalar beta1 = Scalar(0.9);
  Scalar beta2 = Scalar(0.999);
  Scalar epsilon = Scalar(1e-8);
};

template <typename Scalar>
class Adam final : public Optimizer<Scalar> {
 public:
  /// Throws InputError for a non-positive learning rate or epsilon, or betas outside [0, 1).
  Adam(Index parameter_count, AdamOptions<Scalar> options);

  std::vector<NamedArray<Scalar>> named_state() override;

 private:
  void update(FlatMap<Scalar> parameters, FlatMap<Scalar> gradients, Index begin,
              Scalar gradient_scale) override;

  AdamOptions<Scalar> options_;
  Vector<Scalar> moments_;  // m then v
};

}  // namespace dnmf::nn
