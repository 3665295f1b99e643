#pragma once
// Softmax and cross-entropy fused: for logits l (classes x batch) and labels y,
//   loss = sum over samples of  log(sum_c exp(l_c)) - l_y,
//   dloss/dl = softmax(l) - onehot(y).
// The loss is the SUM over the batch, not the mean, and the gradient is that of the sum: the
// data-parallel trainer sums gradients over ranks and divides once by the global batch size,
// so no rank needs to know the others' batch sizes.

#include "dnmf/nn/tensor.hpp"

namespace dnmf::nn {

template <typename Scalar>
struct LossResult {
  Scalar loss_sum = 0;  // summed over the batch
  Index correct = 0;    // samples whose largest logit is the label's
};

template <typename Scalar>
class SoftmaxCrossEntropy {
 public:
  explicit SoftmaxCrossEntropy(Index classes);

  Index classes() const { return classes_; }
  /// Sizes the gradient buffer; evaluate calls it by itself for a larger batch.
  void reserve(Index max_batch);

  /// Loss and gradient of `logits` (classes x batch) against `labels` (batch, each in
  /// [0, classes)). Throws InputError on a shape mismatch or a label out of range.
  LossResult<Scalar> evaluate(BatchView<Scalar> logits,
                              const Eigen::Ref<const Eigen::VectorXi>& labels);
  /// d(loss_sum)/d(logits) of the last evaluate (classes x batch).
  BatchView<Scalar> gradient() const;

 private:
  Index classes_;
  Index batch_ = 0;
  Matrix<Scalar> gradient_;
};

}  // namespace dnmf::nn
