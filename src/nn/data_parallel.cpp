#include "dnmf/nn/data_parallel.hpp"

#include <algorithm>

#include "dnmf/core/error.hpp"
#include "dnmf/mpi/partition.hpp"

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
  const mpi::BlockPartition blocks(network_.parameter_count(), comm_.size());
  counts_ = blocks.counts(1);
  for (int rank = 0; rank < comm_.size(); ++rank) {
    displacements_.push_back(static_cast<int>(blocks.begin(rank)));
  }
  counts_with_control_ = counts_;
  counts_with_control_.back() += static_cast<int>(Network<Scalar>::kControlSlots);
  scratch_.resize(*std::max_element(counts_with_control_.begin(), counts_with_control_.end()));
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
  const Index parameter_count = network_.parameter_count();
  gradients[parameter_count] = stop_vote ? Scalar(1) : Scalar(0);
  comm_.ring_reduce_scatter_sum(gradients.data(), counts_with_control_, displacements_,
                                scratch_.data());
  // This rank's block of the gradients (the last rank's with the control values after it) is
  // now summed over the ranks.
  const auto rank = static_cast<std::size_t>(comm_.rank());
  const Index begin = displacements_[rank];
  optimizer_.step_shard(network_, begin, FlatMap<Scalar>(gradients.data() + begin, counts_[rank]),
                        Scalar(1) / static_cast<Scalar>(global_batch));
  FlatMap<Scalar> parameters = network_.parameters_with_control();
  if (rank + 1 == counts_.size()) {
    parameters.tail(Network<Scalar>::kControlSlots) =
        gradients.tail(Network<Scalar>::kControlSlots);
  }
  comm_.ring_allgather(parameters.data(), counts_with_control_, displacements_);
  network_.project_parameters();
  stop_requested_ = parameters[parameter_count] > 0;
  return result;
}

template <typename Scalar>
void DataParallelTrainer<Scalar>::gather_optimizer_state() {
  for (NamedArray<Scalar>& array : optimizer_.named_state()) {
    if (array.values.size() != network_.parameter_count()) {
      throw InputError("optimizer: state array " + array.name + " does not hold one value a " +
                       "parameter; it cannot be gathered");
    }
    comm_.ring_allgather(array.values.data(), counts_, displacements_);
  }
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
