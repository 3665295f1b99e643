#pragma once
// What one iteration of the solver (nmf/solver.hpp) computes that depends on the loss: the W
// update of a row block (accumulating Wᵀ A or Wᵀ Q), the H update of this rank's column block,
// this rank's loss term and the objective from its sum. The solver's loop and its collectives
// are the same for every loss.
//
// Implementations: Frobenius and KL over every entry (solver.cpp), and both over the entries a
// mask keeps, with a test error on the held-out ones (masked_loss_steps.cpp).

#include <memory>
#include <stdexcept>

#include "dnmf/core/matrix.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/entry_mask.hpp"
#include "dnmf/nmf/factors.hpp"
#include "dnmf/nmf/local_block.hpp"
#include "dnmf/nmf/options.hpp"
#include "dnmf/nmf/solver.hpp"
#include "dnmf/nmf/update_rule.hpp"

namespace dnmf::nmf {

template <class Scalar>
class LossSteps {
 public:
  virtual ~LossSteps() = default;
  /// Entries of the Gram this loss sums in the iteration's allreduce (k*k or 0).
  virtual Index gram_size() const = 0;
  /// Writes this rank's part of that Gram; takes the sum back after the allreduce.
  virtual void write_gram(Eigen::Map<Matrix>& gram) const = 0;
  virtual void take_gram(const Eigen::Map<Matrix>& gram) = 0;
  /// Before the first iteration (after it the Iteration reduces the Gram, if any).
  virtual void start() = 0;
  /// Before the row blocks of a W update, which come in `parts` (nmf/row_parts.hpp).
  virtual void begin_w_update(Index parts) = 0;
  /// The W update of rows [row, row + rows) of part `part`: Wt_b, B_b = rhs (k x rows, the
  /// part's scratch), and the part's sum of Wᵀ A (k x n) accumulated from the updated rows.
  /// Different parts come on different threads at once; one part's blocks in order, on one.
  virtual void update_w_rows(Index part, Index row, Index rows, Eigen::Ref<MatrixT<Scalar>> rhs,
                             Eigen::Ref<MatrixT<Scalar>> Wt_b, MatrixT<Scalar>& WtA) = 0;
  /// After the row blocks of a W update, with the parts' sums added into WtA (a loss may update
  /// the rows only here, all at once).
  virtual void end_w_update(MatrixT<Scalar>& /*WtA*/) {}
  /// The block the W update's products are with (H Pᵀ and Wᵀ P), when it is the input's and
  /// not this fit's own (A, or P_O A; not KL's A ⊘ WH): fits of one input can then share them
  /// (solve_batch). nullptr otherwise.
  virtual const LocalBlockT<Scalar>* shared_product_block() const { return nullptr; }
  /// In place of update_w_rows and end_w_update, after begin_w_update: the W update of all this
  /// rank's rows (Wt, k x rows) from rhs = H Pᵀ, P the shared_product_block(), which the caller
  /// formed; the caller forms Wᵀ P. Only where shared_product_block() is not nullptr.
  virtual void update_w_from(Eigen::Ref<const MatrixT<Scalar>> /*rhs*/,
                             Eigen::Ref<MatrixT<Scalar>> /*Wt*/) {
    throw std::logic_error("update_w_from: this loss's products are its own");
  }
  /// The H update of this rank's column block from (Wᵀ A)[:, C_r].
  virtual void update_h_block(Eigen::Ref<MatrixT<Scalar>> H_block,
                              const MatrixT<Scalar>& WtA_block) = 0;
  /// This rank's loss term after the H update, summed over the ranks by the Iteration; the
  /// column block is H's columns [column_begin, column_begin + WtA_block.cols()).
  virtual double loss_term(const MatrixT<Scalar>& WtA_block, Index column_begin) = 0;
  /// This rank's term of the test error, as of the last loss_term() (0 without a test set).
  virtual double test_term() const { return 0; }
  /// The objective, the relative error and the test error from the summed terms and the
  /// penalties.
  virtual void measure(double loss_term, double test_term, double penalties,
                       IterationRecord& record) const = 0;
  /// The relative error of the final factors, computed directly (collective; see
  /// nmf::relative_error).
  virtual double final_relative_error(const FactorsT<Scalar>& factors) = 0;
  /// How many times an iteration passes over A's products (KL also forms Q).
  virtual double product_passes() const = 0;
};

/// The steps of `options.loss`: over the entries `mask` keeps when it leaves some out
/// (make_masked_loss_steps), over every entry otherwise. [column_begin, column_begin +
/// column_count) is this rank's column block of H; the rules are the W and H updates.
template <class Scalar>
std::unique_ptr<LossSteps<Scalar>> make_loss_steps(
    const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, Index column_begin, Index column_count,
    const SolverOptions& options, const InputStatistics& statistics, const EntryMaskT<Scalar>* mask,
    mpi::Communicator& comm, UpdateRuleT<Scalar>& w_rule, UpdateRuleT<Scalar>& h_rule);

/// The steps of `options.loss` over the entries `mask` keeps (mask.any()): the Grams of each
/// row's and column's observed entries from bin Grams and entry corrections, the loss over
/// the observed entries, the test error over the held-out ones. Every update rule takes one row
/// (column) at a time with that row's Gram. [column_begin, column_begin + column_count) is this
/// rank's column block of H.
template <class Scalar>
std::unique_ptr<LossSteps<Scalar>> make_masked_loss_steps(
    const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, Index column_begin, Index column_count,
    const SolverOptions& options, const InputStatistics& statistics, const EntryMaskT<Scalar>& mask,
    mpi::Communicator& comm, UpdateRuleT<Scalar>& w_rule, UpdateRuleT<Scalar>& h_rule);

}  // namespace dnmf::nmf
