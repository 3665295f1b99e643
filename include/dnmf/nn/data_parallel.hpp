#pragma once
// Synchronous data-parallel training: every rank holds the whole network and computes the
// gradient of its part of each global batch. The optimizer step is sharded (Rajbhandari et al.
// 2020, "ZeRO", stage 1): a ring reduce-scatter leaves each rank the sum over the ranks of its
// block of the flat gradient buffer, the rank steps that block of the parameters (the optimizer
// divides the gradient by the global batch size) and a ring allgather brings every rank all the
// stepped parameters. The two collectives move what one ring allreduce of the gradients moves,
// and each rank does 1/p of the optimizer's work. Every parameter is computed on one rank and
// copied to the others (or kept in one copy they share, below), so the replicas never drift
// apart (a test compares a hash of the parameters across ranks after every step). Each rank's
// optimizer state is current only for its own block until gather_optimizer_state().
//
// A Dense layer whose weights outnumber what the global batch feeds it (batch x (inputs +
// outputs) < inputs x outputs, e.g. the cnn's 5408 x 128 layer at batch 64) is not summed at all:
// the ranks allgather its inputs and output gradients, and each rank computes its block's part
// of the weight gradient from the whole global batch (Dense::assign_weight_gradient). That moves
// about half the bytes, never sums that gradient, and writes only this rank's block of it (half
// on each of 2 ranks). Only the remaining gradients (and the control slots) go through the
// reduce-scatter, packed into one contiguous buffer.
//
// When every rank is on one node, the parameters and the gathered layers' inputs and output
// gradients live in memory the ranks share (mpi::SharedWindow): each rank writes its block there
// and the allgathers become synchronizations. The network's parameters are moved there for the
// trainer's lifetime (Network::place_parameters) and back when it goes; rank 0 alone projects
// them. On several nodes, or where MPI cannot make a shared window, both go through the ring
// allgather.
//
// All buffers are sized at construction for the largest local batch: step() and evaluate()
// allocate nothing.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/shared_window.hpp"
#include "dnmf/nn/dense.hpp"
#include "dnmf/nn/optimizer.hpp"
#include "dnmf/nn/softmax_cross_entropy.hpp"

namespace dnmf::nn {

/// How the ranks exchange blocks: through node-shared memory when all ranks are on one node and
/// MPI can share memory there (else by messages), or always by messages (the ring; what ranks
/// on several nodes use).
enum class Exchange { SharedMemoryOnOneNode, Messages };

template <typename Scalar>
class DataParallelTrainer {
 public:
  /// Reserves the network's and the loss's buffers for batches of up to max_local_batch (which
  /// may differ across ranks) and chooses the gathered layers. Collective.
  DataParallelTrainer(Network<Scalar>& network, Optimizer<Scalar>& optimizer,
                      mpi::Communicator& comm, Index max_local_batch,
                      Exchange exchange = Exchange::SharedMemoryOnOneNode);
  /// Gives the network back its own parameter buffer and its dense layers' weight gradients.
  /// Collective.
  ~DataParallelTrainer();
  DataParallelTrainer(const DataParallelTrainer&) = delete;
  DataParallelTrainer& operator=(const DataParallelTrainer&) = delete;

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

  /// The Dense layers whose weight gradient comes from the gathered global batch (see above).
  std::vector<std::string> gathered_layers() const;
  /// Whether the ranks exchange blocks through node-shared memory.
  bool shares_memory() const { return shared_parameters_ != nullptr; }

 private:
  // A Dense layer whose weight gradient is computed from the gathered global batch.
  struct GatheredDense {
    Dense<Scalar>* layer;
    Index offset;  // of W's gradient in the flat buffer
    Index size;    // W's entries
    // The global batch's inputs (inputs x global batch, the ranks' columns in rank order) and
    // output gradients (outputs x global batch, likewise): in `own` by messages, else in `shared`.
    Matrix<Scalar> own;
    std::unique_ptr<mpi::SharedWindow> shared;
    Scalar* inputs = nullptr;
    Scalar* output_gradients = nullptr;
  };
  // A run of the flat gradient buffer (control slots included) summed by the reduce-scatter.
  struct Segment {
    Index offset;
    Index size;
  };

  /// Defers the weight gradient of every Dense layer wider than `global_batch` feeds it.
  void choose_gathered_layers(Index global_batch);
  /// Splits the parameters into the ranks' blocks (counts_, displacements_), about equal, with
  /// no boundary inside a row of a gathered weight matrix.
  void partition_parameters();
  /// Points the gathered layers' batch buffers (and, if `shared`, the network's parameters) at
  /// memory of this rank's or at node-shared windows.
  void place_exchanged_data(Index global_batch, bool shared);
  /// The summed segments (all but the gathered weights) and their packed blocks.
  void lay_out_summed_gradients();
  /// Makes `dense`'s inputs and output gradients of this step those of the global batch, whose
  /// ranks hold batch_counts_ samples each.
  void gather_batch(GatheredDense& dense);
  /// Calls visit(offset in the flat buffer, offset in the packed buffer, length) for each piece
  /// of the summed segments within the flat range [begin, end), in order.
  template <class Visit>
  void for_each_summed_piece(Index begin, Index end, Visit visit) const;

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
  std::vector<GatheredDense> gathered_;
  std::unique_ptr<mpi::SharedWindow> shared_parameters_;
  std::vector<Segment> summed_;  // the flat buffer but the gathered layers' weight gradients
  // The summed segments packed back to back: rank r's block is the part within its flat block.
  Vector<Scalar> packed_;
  std::vector<int> packed_counts_, packed_displacements_;
  Vector<Scalar> scratch_;  // a block received in the reduce-scatter
  // This step's samples on each rank, and the gathers' counts and displacements (values).
  std::vector<std::int32_t> batch_counts_;
  std::vector<int> gather_counts_, gather_displacements_;
  std::vector<int> ones_, rank_indices_;  // one value a rank, in rank order
  bool stop_requested_ = false;
};

}  // namespace dnmf::nn
