#include "dnmf/nn/data_parallel.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/mpi/partition.hpp"

namespace dnmf::nn {

template <typename Scalar>
DataParallelTrainer<Scalar>::DataParallelTrainer(Network<Scalar>& network,
                                                 Optimizer<Scalar>& optimizer,
                                                 mpi::Communicator& comm, Index max_local_batch,
                                                 Exchange exchange)
    : network_(network),
      optimizer_(optimizer),
      comm_(comm),
      max_local_batch_(std::max<Index>(max_local_batch, 1)),
      loss_(network.output_size()) {
  network_.reserve(max_local_batch_);
  loss_.reserve(max_local_batch_);
  // Ranks may reserve different local batches (7 over 2 ranks: 4 and 3); the gathered buffers
  // and the choice of layers must hold for the largest, and agree across ranks.
  const Index global_batch = comm_.max(max_local_batch_) * comm_.size();
  choose_gathered_layers(global_batch);
  partition_parameters();
  const bool shared = comm_.size() > 1 && exchange == Exchange::SharedMemoryOnOneNode &&
                      mpi::SharedWindow::available(comm_);
  place_exchanged_data(global_batch, shared);
  lay_out_summed_gradients();
  batch_counts_.resize(counts_.size());
  ones_.assign(counts_.size(), 1);
  for (int r = 0; r < comm_.size(); ++r) rank_indices_.push_back(r);
  gather_counts_.resize(counts_.size());
  gather_displacements_.resize(counts_.size());
}

template <typename Scalar>
void DataParallelTrainer<Scalar>::choose_gathered_layers(Index global_batch) {
  const Scalar* base = network_.gradients().data();
  for (Dense<Scalar>* dense : network_.template layers_of_type<Dense<Scalar>>()) {
    const Index inputs = dense->input_size();
    const Index outputs = dense->output_size();
    if (global_batch * (inputs + outputs) >= inputs * outputs) continue;
    for (const NamedArray<Scalar>& array : network_.named_gradients()) {
      if (array.name != dense->name() + "/W") continue;
      gathered_.push_back(
          {dense, array.values.data() - base, array.values.size(), {}, nullptr, nullptr, nullptr});
      dense->set_weight_gradient_deferred(true);
    }
  }
}

template <typename Scalar>
void DataParallelTrainer<Scalar>::partition_parameters() {
  // Equal blocks, but a boundary inside a gathered weight matrix moves to the nearest start of
  // a row, so that every rank computes whole rows of its gradient in one GEMM: a part of a row
  // is a product of its own that reads most of the gathered inputs once more (up to 5408 x 64
  // floats for the cnn at batch 64), a cost that would fall on one rank every step.
  const Index parameter_count = network_.parameter_count();
  const mpi::BlockPartition blocks(parameter_count, comm_.size());
  std::vector<Index> begins;
  for (int rank = 0; rank < comm_.size(); ++rank) {
    Index begin = blocks.begin(rank);
    for (const GatheredDense& dense : gathered_) {
      const Index row = dense.layer->input_size();
      if (begin > dense.offset && begin < dense.offset + dense.size) {
        begin = dense.offset + (begin - dense.offset + row / 2) / row * row;
      }
    }
    begins.push_back(rank == 0 ? 0 : std::max(begin, begins.back()));
  }
  begins.push_back(parameter_count);
  for (int rank = 0; rank < comm_.size(); ++rank) {
    const auto r = static_cast<std::size_t>(rank);
    displacements_.push_back(static_cast<int>(begins[r]));
    counts_.push_back(static_cast<int>(begins[r + 1] - begins[r]));
  }
  counts_with_control_ = counts_;
  counts_with_control_.back() += static_cast<int>(Network<Scalar>::kControlSlots);
}

template <typename Scalar>
void DataParallelTrainer<Scalar>::place_exchanged_data(Index global_batch, bool shared) {
  const auto window = [&](Index values) {
    return std::make_unique<mpi::SharedWindow>(comm_,
                                               static_cast<std::size_t>(values) * sizeof(Scalar));
  };
  for (GatheredDense& dense : gathered_) {
    const Index inputs = dense.layer->input_size();
    const Index values = (inputs + dense.layer->output_size()) * global_batch;
    if (shared) {
      dense.shared = window(values);
      dense.inputs = dense.shared->template data<Scalar>();
    } else {
      dense.own.resize(values, 1);
      dense.inputs = dense.own.data();
    }
    dense.output_gradients = dense.inputs + inputs * global_batch;
  }
  if (shared) {
    shared_parameters_ = window(network_.parameter_count() + Network<Scalar>::kControlSlots);
    network_.place_parameters(shared_parameters_->template data<Scalar>(), comm_.is_root());
    shared_parameters_->synchronize();
  }
}

template <typename Scalar>
void DataParallelTrainer<Scalar>::lay_out_summed_gradients() {
  // Leaves come in parameter order, so the gathered weights are sorted by offset.
  Index at = 0;
  for (const GatheredDense& dense : gathered_) {
    if (dense.offset > at) summed_.push_back({at, dense.offset - at});
    at = dense.offset + dense.size;
  }
  summed_.push_back({at, network_.parameter_count() + Network<Scalar>::kControlSlots - at});
  Index packed = 0;
  for (std::size_t r = 0; r < counts_.size(); ++r) {
    Index count = 0;
    for_each_summed_piece(displacements_[r], displacements_[r] + counts_with_control_[r],
                          [&count](Index, Index, Index length) { count += length; });
    packed_counts_.push_back(static_cast<int>(count));
    packed_displacements_.push_back(static_cast<int>(packed));
    packed += count;
  }
  packed_.resize(packed);
  scratch_.resize(*std::max_element(packed_counts_.begin(), packed_counts_.end()));
}

template <typename Scalar>
DataParallelTrainer<Scalar>::~DataParallelTrainer() {
  // The network computes all of its gradients by itself again.
  for (GatheredDense& dense : gathered_) dense.layer->set_weight_gradient_deferred(false);
  if (shared_parameters_) network_.place_parameters(nullptr, true);
}

template <typename Scalar>
template <class Visit>
void DataParallelTrainer<Scalar>::for_each_summed_piece(Index begin, Index end, Visit visit) const {
  Index packed = 0;
  for (const Segment& segment : summed_) {
    const Index first = std::max(begin, segment.offset);
    const Index last = std::min(end, segment.offset + segment.size);
    if (first < last) visit(first, packed + first - segment.offset, last - first);
    packed += segment.size;
  }
}

template <typename Scalar>
std::vector<std::string> DataParallelTrainer<Scalar>::gathered_layers() const {
  std::vector<std::string> names;
  for (const GatheredDense& dense : gathered_) names.push_back(dense.layer->name());
  return names;
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
void DataParallelTrainer<Scalar>::gather_batch(GatheredDense& dense) {
  const auto rank = static_cast<std::size_t>(comm_.rank());
  const Index inputs = dense.layer->input_size();
  const Index outputs = dense.layer->output_size();
  Index first = 0;
  for (std::size_t r = 0; r < rank; ++r) first += batch_counts_[r];
  if (batch_counts_[rank] > 0) {
    BatchMap<Scalar>(dense.inputs + inputs * first, inputs, batch_counts_[rank]) =
        dense.layer->last_input();
    BatchMap<Scalar>(dense.output_gradients + outputs * first, outputs, batch_counts_[rank]) =
        dense.layer->last_output_gradient();
  }
  if (dense.shared) {
    // No rank still reads the last step's batch: each has stepped since, and the step ends with a
    // synchronization.
    dense.shared->synchronize();
    return;
  }
  for (const auto& [data, rows] :
       {std::pair{dense.inputs, inputs}, {dense.output_gradients, outputs}}) {
    Index column = 0;
    for (std::size_t r = 0; r < batch_counts_.size(); ++r) {
      gather_counts_[r] = static_cast<int>(rows * batch_counts_[r]);
      gather_displacements_[r] = static_cast<int>(rows * column);
      column += batch_counts_[r];
    }
    comm_.ring_allgather(data, gather_counts_, gather_displacements_);
  }
}

template <typename Scalar>
LossResult<Scalar> DataParallelTrainer<Scalar>::step(
    BatchView<Scalar> images, const Eigen::Ref<const Eigen::VectorXi>& labels, Index global_batch,
    bool stop_vote) {
  FlatMap<Scalar> gradients = network_.gradients_with_control();
  // The gathered weight gradients are assigned below, not accumulated: no need to zero them.
  for (const Segment& segment : summed_) gradients.segment(segment.offset, segment.size).setZero();
  LossResult<Scalar> result;
  if (images.cols() > 0) {
    result = loss_.evaluate(network_.forward(images), labels);
    network_.backward(loss_.gradient());
  }
  batch_counts_[static_cast<std::size_t>(comm_.rank())] = static_cast<std::int32_t>(images.cols());
  comm_.ring_allgather(batch_counts_.data(), ones_, rank_indices_);
  Index samples = 0;  // in the global batch
  for (const std::int32_t count : batch_counts_) samples += count;
  if (comm_.size() > 1) {
    for (GatheredDense& dense : gathered_) gather_batch(dense);
  }

  const Index parameter_count = network_.parameter_count();
  gradients[parameter_count] = stop_vote ? Scalar(1) : Scalar(0);
  Index packed = 0;
  for (const Segment& segment : summed_) {
    packed_.segment(packed, segment.size) = gradients.segment(segment.offset, segment.size);
    packed += segment.size;
  }
  comm_.ring_reduce_scatter_sum(packed_.data(), packed_counts_, packed_displacements_,
                                scratch_.data());
  // This rank's block of the gradients (the last rank's with the control values after it) is
  // now summed over the ranks, but for the gathered weights, computed here from the whole batch.
  const auto rank = static_cast<std::size_t>(comm_.rank());
  const Index begin = displacements_[rank];
  const Index end = begin + counts_with_control_[rank];
  for_each_summed_piece(begin, end, [&](Index offset, Index packed_offset, Index length) {
    gradients.segment(offset, length) = packed_.segment(packed_offset, length);
  });
  for (GatheredDense& dense : gathered_) {
    const Index first = std::max(begin, dense.offset);
    const Index last = std::min(end, dense.offset + dense.size);
    if (first >= last) continue;
    // On one rank with samples the layer's own views are the global batch.
    const bool local = comm_.size() == 1 && samples > 0;
    dense.layer->assign_weight_gradient(
        local ? dense.layer->last_output_gradient()
              : BatchView<Scalar>(dense.output_gradients, dense.layer->output_size(), samples),
        local ? dense.layer->last_input()
              : BatchView<Scalar>(dense.inputs, dense.layer->input_size(), samples),
        first - dense.offset, last - first);
  }
  for (const auto& [offset, size] : frozen_) gradients.segment(offset, size).setZero();
  optimizer_.step_shard(network_, begin, FlatMap<Scalar>(gradients.data() + begin, counts_[rank]),
                        Scalar(1) / static_cast<Scalar>(global_batch));
  FlatMap<Scalar> parameters = network_.parameters_with_control();
  if (rank + 1 == counts_.size()) {
    parameters.tail(Network<Scalar>::kControlSlots) =
        gradients.tail(Network<Scalar>::kControlSlots);
  }
  if (shared_parameters_) {
    // Each rank has stepped its block in place; rank 0 alone projects, so no two ranks write
    // the same values.
    shared_parameters_->synchronize();
    if (comm_.is_root()) network_.project_parameters();
    shared_parameters_->synchronize();
  } else {
    comm_.ring_allgather(parameters.data(), counts_with_control_, displacements_);
    network_.project_parameters();
  }
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
