// The losses over the entries a mask keeps (DESIGN.md "Masks and held-out entries").
//
// Row i of W fits the observed entries of row i of A: its Gram is G_i = Σ_{j observed} h_j h_jᵀ
// and its right-hand side H (P_O A)_iᵀ, which the products with the block give since the block
// holds P_O A. The held-out set makes G_i the sum of the Grams of the 256 column bins that row
// i's bin observes (nmf/entry_mask.hpp), and each missing entry of the row outside the held-out
// set subtracts its h_j h_jᵀ. Column j of H likewise, from the bin Grams of W's rows (summed
// over the ranks: one allreduce of 256 k x k blocks) and the missing entries' w_i w_iᵀ (summed
// per column over the ranks: a reduce-scatter of k x k per column, only when entries are
// missing). KL needs the sums Σ h_j and Σ w_i over the same sets in place of the Grams.
//
// The totals themselves are nmf/observed_totals.hpp's; the update rules take the rows (columns)
// that share their bin's Gram together. A row or column with no observed entry gets zero
// factors.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/loss_steps.hpp"
#include "dnmf/nmf/observed_totals.hpp"
#include "dnmf/nmf/row_parts.hpp"

namespace dnmf::nmf {
namespace {

/// ½||P_O(A - WH)||², by the update rule (MU, HALS, BPP) one row (column) at a time.
template <class Scalar>
class MaskedFrobeniusSteps final : public LossSteps<Scalar> {
 public:
  MaskedFrobeniusSteps(const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, Index column_begin,
                       Index column_count, const SolverOptions& options,
                       const InputStatistics& statistics, const EntryMaskT<Scalar>& mask,
                       mpi::Communicator& comm, UpdateRuleT<Scalar>& w_rule,
                       UpdateRuleT<Scalar>& h_rule)
      : A_(A),
        Wt_(factors.Wt),
        H_(factors.H),
        column_begin_(column_begin),
        options_(options),
        statistics_(statistics),
        mask_(mask),
        w_rule_(w_rule),
        h_rule_(h_rule),
        sides_(factors.Wt, factors.H, column_begin, column_count, mask, comm, options.rank) {}

  Index gram_size() const override { return 0; }
  void write_gram(Eigen::Map<Matrix>&) const override {}
  void take_gram(const Eigen::Map<Matrix>&) override {}
  void start() override { sides_.update_row_side(); }
  void begin_w_update(Index) override { rhs_.resize(Wt_.rows(), Wt_.cols()); }

  /// The right-hand sides H (P_O A)_bᵀ of every row block first; the rows then in end_w_update,
  /// grouped by bin across all of this rank's rows.
  void update_w_rows(Index, Index row, Index rows, Eigen::Ref<MatrixT<Scalar>>,
                     Eigen::Ref<MatrixT<Scalar>>, MatrixT<Scalar>&) override {
    A_.times_transposed_rows(H_, row, rows, rhs_.middleCols(row, rows));
  }

  void end_w_update(MatrixT<Scalar>& WtA) override {
    update_w_from(rhs_, Wt_);
    // Wᵀ (P_O A): a second pass over the block, which the rows' grouping needs.
    product_with_all_rows(A_, Wt_, WtA);
  }

  const LocalBlockT<Scalar>* shared_product_block() const override { return &A_; }
  void update_w_from(Eigen::Ref<const MatrixT<Scalar>> rhs,
                     Eigen::Ref<MatrixT<Scalar>> Wt) override {
    sides_.update(Side::Rows, Wt, rhs, w_rule_, options_.w_penalty, false);
  }

  void update_h_block(Eigen::Ref<MatrixT<Scalar>> H_block,
                      const MatrixT<Scalar>& WtA_block) override {
    sides_.update_column_side();
    // Σ_j h_jᵀ G_j h_j - 2 b_jᵀ h_j: this block's share of ||P_O(A - WH)||² - ||P_O A||².
    fit_term_ =
        sides_.update(Side::Columns, H_block, WtA_block, h_rule_, options_.h_penalty, true) -
        2.0 * (WtA_block.template cast<double>().array() * H_block.template cast<double>().array())
                  .sum();
  }

  double loss_term(const MatrixT<Scalar>&, Index) override {
    sides_.update_row_side();  // for the test term now and the next W update
    test_term_ = 0;
    if (sides_.held_out()) {
      // ||P_T(A - WH)||² - ||P_T A||² = Σ_T (WH)² - 2 Σ_T A (WH), the first over the held-out
      // bins less the missing entries among them, the second at the stored test values.
      test_term_ = sides_.held_out_quadratic(Wt_) - 2.0 * test_cross_term();
      for (Index i = 0; i < Wt_.cols(); ++i)
        test_term_ -= listed_products(Wt_, H_, mask_.missing_in_test, i, 2);
    }
    return fit_term_;
  }
  double test_term() const override { return test_term_; }

  void measure(double loss_term, double test_term, double penalties,
               IterationRecord& record) const override {
    const double fit = statistics_.squared_norm + loss_term;
    record.objective = 0.5 * fit + penalties;
    record.relative_error =
        std::sqrt(std::max(2.0 * record.objective, 0.0) / statistics_.squared_norm);
    if (sides_.held_out()) {
      const double norm = mask_.test_squared_norm;
      const double residual = std::max(norm + test_term, 0.0);
      record.test_error = std::sqrt(norm > 0 ? residual / norm : residual);
    }
  }

  double final_relative_error(const FactorsT<Scalar>& factors) override {
    return sides_.relative_error(A_, factors, statistics_);
  }
  double product_passes() const override { return 1.0; }

 private:
  /// Σ_T A (WH) over this rank's stored test values, row i's as w_i · Σ_j a_ij h_j (one dot
  /// product a row, not one a value), the rows on the kernel threads.
  double test_cross_term() const {
    const auto& values = mask_.test_values;
    return RowParts(values.outerSize()).sum_over_blocks([&](Index, Index row, Index rows) {
      thread_local Vector weighted_sum;
      weighted_sum.resize(Wt_.rows());
      double total = 0;
      for (Index i = row; i < row + rows; ++i) {
        weighted_sum.setZero();
        for (typename SparseRowMatrixT<Scalar>::InnerIterator entry(values, i); entry; ++entry) {
          weighted_sum +=
              static_cast<double>(entry.value()) * H_.col(entry.col()).template cast<double>();
        }
        total += Wt_.col(i).template cast<double>().dot(weighted_sum);
      }
      return total;
    });
  }

  const LocalBlockT<Scalar>& A_;
  MatrixT<Scalar>& Wt_;
  const MatrixT<Scalar>& H_;
  const Index column_begin_;
  const SolverOptions& options_;
  const InputStatistics& statistics_;  // of P_O A
  const EntryMaskT<Scalar>& mask_;
  UpdateRuleT<Scalar>& w_rule_;
  UpdateRuleT<Scalar>& h_rule_;
  ObservedTotals<Scalar> sides_;  // Grams
  MatrixT<Scalar> rhs_;           // H (P_O A)ᵀ, k x this rank's rows
  double fit_term_ = 0;
  double test_term_ = 0;
};

// Guards the KL ratio where (W H)_ij is exactly zero at a nonzero of A (as local_block.cpp).
constexpr double kProductGuard = 1e-16;

/// D(P_O A || P_O WH): Lee & Seung's (2001) multiplicative updates with the sums over each row's
/// and column's observed entries in the denominators.
template <class Scalar>
class MaskedKlSteps final : public LossSteps<Scalar> {
 public:
  MaskedKlSteps(const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, Index column_begin,
                Index column_count, const SolverOptions& options, const InputStatistics& statistics,
                const EntryMaskT<Scalar>& mask, mpi::Communicator& comm)
      : A_(A),
        Wt_(factors.Wt),
        H_(factors.H),
        column_begin_(column_begin),
        options_(options),
        statistics_(statistics),
        mask_(mask),
        ratio_(A.same_pattern()),
        sides_(factors.Wt, factors.H, column_begin, column_count, mask, comm, 1) {}

  Index gram_size() const override { return 0; }
  void write_gram(Eigen::Map<Matrix>&) const override {}
  void take_gram(const Eigen::Map<Matrix>&) override {}
  void start() override {
    ratio_pass(Wt_, H_);
    sides_.update_row_side();
  }
  void begin_w_update(Index) override {}

  void update_w_rows(Index, Index row, Index rows, Eigen::Ref<MatrixT<Scalar>> rhs,
                     Eigen::Ref<MatrixT<Scalar>> Wt_b, MatrixT<Scalar>& WtQ) override {
    ratio_->times_transposed_rows(H_, row, rows, rhs);
    for (Index i = 0; i < rows; ++i) {
      if (mask_.row_observed[static_cast<std::size_t>(row + i)] == 0) {
        Wt_b.col(i).setZero();
        continue;
      }
      kl_multiplicative_update<Scalar>(Wt_b.middleCols(i, 1), Vector(sides_.row_total(row + i)),
                                       rhs.middleCols(i, 1), options_.w_penalty);
    }
    A_.divide_by_product(Wt_b, H_, row, rows, *ratio_);
    ratio_->add_product_with_rows(Wt_b, row, rows, WtQ);
  }

  void update_h_block(Eigen::Ref<MatrixT<Scalar>> H_block,
                      const MatrixT<Scalar>& WtQ_block) override {
    sides_.update_column_side();
    product_sum_ = 0;
    for (Index c = 0; c < H_block.cols(); ++c) {
      if (mask_.column_observed[static_cast<std::size_t>(column_begin_ + c)] == 0) {
        H_block.col(c).setZero();
        continue;
      }
      const Vector sums = sides_.column_total(c);
      kl_multiplicative_update<Scalar>(H_block.middleCols(c, 1), sums, WtQ_block.middleCols(c, 1),
                                       options_.h_penalty);
      // Σ_{i observed} (WH)_ij for column j.
      product_sum_ += sums.dot(H_block.col(c).template cast<double>());
    }
  }

  double loss_term(const MatrixT<Scalar>&, Index) override {
    const double log_sum = ratio_pass(Wt_, H_);
    sides_.update_row_side();
    test_term_ = sides_.held_out() ? test_sum(Wt_, H_) : 0.0;
    return log_sum + product_sum_;
  }
  double test_term() const override { return test_term_; }

  void measure(double loss_term, double test_term, double penalties,
               IterationRecord& record) const override {
    // Σ_O A log(A / WH) + Σ_O WH - Σ_O A.
    record.objective = loss_term - statistics_.sum + penalties;
    record.relative_error = std::max(record.objective, 0.0) / statistics_.sum;
    if (sides_.held_out() && mask_.test_sum > 0) {
      record.test_error = std::max(test_term - mask_.test_sum, 0.0) / mask_.test_sum;
    }
  }

  double final_relative_error(const FactorsT<Scalar>& factors) override {
    return sides_.relative_error(A_, factors, statistics_);
  }
  double product_passes() const override { return 2.0; }

 private:
  /// Q <- P_O A ⊘ (W H); returns this rank's Σ_O A log(A / WH).
  double ratio_pass(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H) {
    return divide_all_rows(A_, Wt, H, *ratio_);
  }

  /// This rank's Σ_T A log(A / WH) + Σ_T WH, the rows on the kernel threads.
  double test_sum(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H) const {
    const auto& values = mask_.test_values;
    return RowParts(Wt.cols()).sum_over_blocks([&](Index, Index row, Index rows) {
      double total = 0;
      for (Index i = row; i < row + rows; ++i) {
        const auto w = Wt.col(i).template cast<double>();
        total += w.dot(sides_.row_held_out(i).col(0)) -
                 listed_products(Wt, H, mask_.missing_in_test, i, 1);
        for (typename SparseRowMatrixT<Scalar>::InnerIterator entry(values, i); entry; ++entry) {
          const double a = static_cast<double>(entry.value());
          const double product =
              std::max(w.dot(H.col(entry.col()).template cast<double>()), kProductGuard);
          total += a * (std::log(a) - std::log(product));
        }
      }
      return total;
    });
  }

  const LocalBlockT<Scalar>& A_;
  const MatrixT<Scalar>& Wt_;
  const MatrixT<Scalar>& H_;
  const Index column_begin_;
  const SolverOptions& options_;
  const InputStatistics& statistics_;  // of P_O A
  const EntryMaskT<Scalar>& mask_;
  // Q = P_O A ⊘ (W H) at P_O A's nonzeros, this rank's rows.
  const std::unique_ptr<LocalBlockT<Scalar>> ratio_;
  ObservedTotals<Scalar> sides_;  // sums
  double product_sum_ = 0;        // this rank's columns' Σ_O WH after the H update
  double test_term_ = 0;
};

}  // namespace

template <class Scalar>
std::unique_ptr<LossSteps<Scalar>> make_masked_loss_steps(
    const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, Index column_begin, Index column_count,
    const SolverOptions& options, const InputStatistics& statistics, const EntryMaskT<Scalar>& mask,
    mpi::Communicator& comm, UpdateRuleT<Scalar>& w_rule, UpdateRuleT<Scalar>& h_rule) {
  if (options.loss == Loss::KullbackLeibler) {
    return std::make_unique<MaskedKlSteps<Scalar>>(A, factors, column_begin, column_count, options,
                                                   statistics, mask, comm);
  }
  return std::make_unique<MaskedFrobeniusSteps<Scalar>>(
      A, factors, column_begin, column_count, options, statistics, mask, comm, w_rule, h_rule);
}

#define DNMF_INSTANTIATE_MASKED_LOSS_STEPS(Scalar)                                                 \
  template std::unique_ptr<LossSteps<Scalar>> make_masked_loss_steps<Scalar>(                      \
      const LocalBlockT<Scalar>&, FactorsT<Scalar>&, Index, Index, const SolverOptions&,           \
      const InputStatistics&, const EntryMaskT<Scalar>&, mpi::Communicator&, UpdateRuleT<Scalar>&, \
      UpdateRuleT<Scalar>&);
DNMF_INSTANTIATE_MASKED_LOSS_STEPS(float)
DNMF_INSTANTIATE_MASKED_LOSS_STEPS(double)
#undef DNMF_INSTANTIATE_MASKED_LOSS_STEPS

}  // namespace dnmf::nmf
