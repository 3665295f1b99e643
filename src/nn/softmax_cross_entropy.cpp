#include "dnmf/nn/softmax_cross_entropy.hpp"

#include <cmath>
#include <string>

#include "dnmf/core/error.hpp"

namespace dnmf::nn {

template <typename Scalar>
SoftmaxCrossEntropy<Scalar>::SoftmaxCrossEntropy(Index classes) : classes_(classes) {
  if (classes < 2) {
    throw InputError("softmax cross-entropy: expected at least 2 classes, got " +
                     std::to_string(classes));
  }
}

template <typename Scalar>
void SoftmaxCrossEntropy<Scalar>::reserve(Index max_batch) {
  gradient_.resize(classes_, max_batch);
}

template <typename Scalar>
LossResult<Scalar> SoftmaxCrossEntropy<Scalar>::evaluate(
    BatchView<Scalar> logits, const Eigen::Ref<const Eigen::VectorXi>& labels) {
  if (logits.rows() != classes_ || labels.size() != logits.cols()) {
    throw InputError("softmax cross-entropy: expected " + std::to_string(classes_) +
                     " logits a sample and one label a sample, got " +
                     std::to_string(logits.rows()) + " x " + std::to_string(logits.cols()) +
                     " logits and " + std::to_string(labels.size()) + " labels");
  }
  if (logits.cols() > gradient_.cols()) reserve(logits.cols());
  batch_ = logits.cols();
  double loss_sum = 0;  // accumulated in double: a float sum over a large batch drifts
  Index correct = 0;
  for (Index sample = 0; sample < batch_; ++sample) {
    const int label = labels[sample];
    if (label < 0 || label >= classes_) {
      throw InputError("softmax cross-entropy: expected labels in [0, " + std::to_string(classes_) +
                       "), got " + std::to_string(label) + " for sample " + std::to_string(sample));
    }
    Index predicted = 0;
    const Scalar largest = logits.col(sample).maxCoeff(&predicted);
    auto probabilities = gradient_.col(sample).array();
    probabilities = (logits.col(sample).array() - largest).exp();  // shifted: no overflow
    const Scalar total = probabilities.sum();
    probabilities /= total;
    loss_sum += static_cast<double>(std::log(total) - (logits(label, sample) - largest));
    probabilities(label) -= Scalar(1);
    correct += predicted == label ? 1 : 0;
  }
  return {static_cast<Scalar>(loss_sum), correct};
}

template <typename Scalar>
BatchView<Scalar> SoftmaxCrossEntropy<Scalar>::gradient() const {
  return leading_columns(gradient_, batch_);
}

template class SoftmaxCrossEntropy<float>;
template class SoftmaxCrossEntropy<double>;

}  // namespace dnmf::nn
