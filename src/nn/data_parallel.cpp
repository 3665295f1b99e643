#include "dnmf/nn/data_parallel.hpp"

#include <algorithm>

#include "dnmf/core/error.hpp"

namespace dnmf::nn {

template <typename Scalar>
DataParallelTrainer<Scalar>::DataParallelTrainer(Network<Scalar>& network,
                                                 Optimizer<Scalar>& optimizer,
                                                 mpi::Communicator& comm, Index max_local_batch)
    : network_(network),
      optimizer_(optimizer),
      comm_(comm),
      max_local_batch_(std::max<Index>(max_local_batch, 1)),
      loss_(network.output_size()) {
  network_.reserve(max_local_batch_);
  loss_.reserve(max_local_batch_);
}

template <typename Scalar>
void DataParallelTrainer<Scalar>::freeze(const std::string& name) {
  const Scalar* base = network_.gradients().data();
  for (const NamedArray<Scalar>& array : network_.named_gradients()) {
    if (array.name == name) {
      frozen_.emplace_back(array.values.data() - base, array.values.size());
      return;
    }
  }
  throw InputError("network: no parameter array called " + name + " to freeze");
}

template <typename Scalar>
LossResult<Scalar> DataParallelTrainer<Scalar>::step(
    BatchView<Scalar> images, const Eigen::Ref<const Eigen::VectorXi>& labels, Index global_batch,
    bool stop_vote) {
  network_.zero_gradients();
  LossResult<Scalar> result;
  if (images.cols() > 0) {
    result = loss_.evaluate(network_.forward(images), labels);
    network_.backward(loss_.gradient());
  }
  FlatMap<Scalar> gradients = network_.gradients_with_control();
  for (const auto& [offset, size] : frozen_) gradients.segment(offset, size).setZero();
  Scalar& votes = gradients[network_.parameter_count()];
  votes = stop_vote ? Scalar(1) : Scalar(0);
  comm_.allreduce_sum(gradients.data(), gradients.size());
  stop_requested_ = votes > 0;
  optimizer_.step(network_, Scalar(1) / static_cast<Scalar>(global_batch));
  return result;
}

template <typename Scalar>
LossResult<Scalar> DataParallelTrainer<Scalar>::evaluate(
    BatchView<Scalar> images, const Eigen::Ref<const Eigen::VectorXi>& labels) {
  LossResult<Scalar> total;
  for (Index first = 0; first < images.cols(); first += max_local_batch_) {
    const Index count = std::min(max_local_batch_, images.cols() - first);
    const BatchView<Scalar> chunk(images.data() + first * images.rows(), images.rows(), count);
    const LossResult<Scalar> part =
        loss_.evaluate(network_.forward(chunk), labels.segment(first, count));
    total.loss_sum += part.loss_sum;
    total.correct += part.correct;
  }
  return total;
}

template class DataParallelTrainer<float>;
template class DataParallelTrainer<double>;

}  // namespace dnmf::nn
