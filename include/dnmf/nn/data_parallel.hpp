#pragma once
// Synchronous data-parallel training: every rank holds the whole network and computes the
// gradient of its part of each global batch. The optimizer step is sharded (Rajbhandari et al.
// 2020, "ZeRO", stage 1): a ring reduce-scatter leaves each rank the sum over the ranks of its
// block of the flat gradient buffer, the rank steps that block of the parameters (the optimizer
// divides the gradient by the global batch size) and a ring allgather brings every rank all the
// stepped parameters. The two collectives move what one ring allreduce of the gradients moves,
// and each rank does 1/p of the optimizer's work. Every parameter is computed on one rank and
// copied to the others, so the replicas never drift apart (a test compares a hash of the
// parameters across ranks after every step). Each rank's optimizer state is current only for
// its own block until gather_optimizer_state().
//
// All buffers are sized at construction for the largest local batch: step() and evaluate()
// allocate nothing.

#include <string>
#include <utility>
#include <vector>

#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nn/optimizer.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"

namespace dnmf::nn {

template <typename Scalar>
class DataParallelTrainer {
 public:
  /// Reserves the network's and the loss's buffers for batches of up to max_local_batch.
  DataParallelTrainer(Network<Scalar>& network, Optimizer<Scalar>& optimizer,
                      mpi::Communicator& comm, Index max_local_batch);

  /// Keeps the parameter array `name` (e.g. "nmf/H") fixed: its gradient is zeroed before every
  /// step, so neither SGD nor Adam ever moves it. Throws InputError if there is no such array.
  void freeze(const std::string& name);

  /// One step on this rank's part of a global batch of `global_batch` samples: images
  /// (features x local batch, possibly 0 columns) and their labels. Collective. Returns this
  /// rank's summed loss and correct count (accumulate and reduce them once, e.g. an epoch).
  /// `stop_vote` (this rank received a stop signal) is summed over the ranks inside the step's
  /// gradient allreduce; stop_requested() then tells every rank the same answer.
  LossResult<Scalar> step(BatchView<Scalar> images, const Eigen::Ref<const Eigen::VectorXi>& labels,
                          Index global_batch, bool stop_vote = false);

  /// Whether any rank voted to stop in the last step.
  bool stop_requested() const { return stop_requested_; }

  /// Brings every rank's whole optimizer state up to date (each rank's step updates only its
  /// block of it). Collective; call it before saving the state.
  void gather_optimizer_state();

  /// Summed loss and correct count of the network on `images`, in chunks of the reserved batch
  /// size. Local: no communication.
  LossResult<Scalar> evaluate(BatchView<Scalar> images,
                              const Eigen::Ref<const Eigen::VectorXi>& labels);

 private:
  Network<Scalar>& network_;
  Optimizer<Scalar>& optimizer_;
  mpi::Communicator& comm_;
  Index max_local_batch_;
  SoftmaxCrossEntropy<Scalar> loss_;
  std::vector<std::pair<Index, Index>> frozen_;  // offset, size in the gradient buffer
  // Rank r's block of the parameters (and of its optimizer state): counts_[r] values from
  // displacements_[r]. The control slots after the parameters join the last block in the
  // collectives of a step (counts_with_control_).
  std::vector<int> counts_, displacements_, counts_with_control_;
  Vector<Scalar> scratch_;  // a block received in the reduce-scatter
  bool stop_requested_ = false;
};

}  // namespace dnmf::nn
