// The losses over every entry (nmf/loss_steps.hpp): Frobenius by the update rules, KL by
// Lee & Seung's multiplicative updates; the masked ones are masked_loss_steps.cpp's.

#include "dnmf/nmf/loss_steps.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dnmf/nmf/gram.hpp"
#include "dnmf/nmf/row_parts.hpp"

namespace dnmf::nmf {
namespace {

/// ½||A - WH||²: both factors by the update rule (MU, HALS, BPP) from the Grams.
template <class Scalar>
class FrobeniusSteps final : public LossSteps<Scalar> {
 public:
  /// [column_begin, column_begin + column_count) is this rank's column block C_r of H.
  FrobeniusSteps(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& H, Index column_begin,
                 Index column_count, const SolverOptions& options,
                 const InputStatistics& statistics, mpi::Communicator& comm,
                 UpdateRuleT<Scalar>& w_rule, UpdateRuleT<Scalar>& h_rule)
      : A_(A),
        H_(H),
        column_begin_(column_begin),
        column_count_(column_count),
        options_(options),
        statistics_(statistics),
        comm_(comm),
        w_rule_(w_rule),
        h_rule_(h_rule),
        k_(options.rank),
        WtW_(k_, k_),
        HHt_(k_, k_),
        gram_(k_, k_) {}

  Index gram_size() const override { return k_ * k_; }
  void write_gram(Eigen::Map<Matrix>& gram) const override {
    const auto H_C = H_.middleCols(column_begin_, column_count_).template cast<double>();
    form_gram(H_C, gram);  // in double
  }
  void take_gram(const Eigen::Map<Matrix>& gram) override { HHt_ = gram; }
  void start() override {}
  void begin_w_update(Index parts) override {
    WtW_parts_.resize(static_cast<std::size_t>(parts));
    for (Matrix& part : WtW_parts_) part.setZero(k_, k_);
    w_gram_ = &with_ridge(HHt_, options_.w_penalty.l2);
  }
  void update_w_rows(Index part, Index row, Index rows, Eigen::Ref<MatrixT<Scalar>> rhs,
                     Eigen::Ref<MatrixT<Scalar>> Wt_b, MatrixT<Scalar>& WtA) override {
    A_.times_transposed_rows(H_, row, rows, rhs);
    w_rule_.update(Wt_b, *w_gram_, rhs, options_.w_penalty.l1);
    A_.add_product_with_rows(Wt_b, row, rows, WtA);
    const auto& W_b = Wt_b.template cast<double>();  // Wt_b itself when Scalar is double
    add_to_lower_gram(W_b, WtW_parts_[static_cast<std::size_t>(part)]);  // in double
  }
  void end_w_update(MatrixT<Scalar>&) override {
    add_parts(WtW_parts_);
    WtW_ = WtW_parts_.front();
    mirror_lower(WtW_);
  }
  const LocalBlockT<Scalar>* shared_product_block() const override { return &A_; }
  void update_w_from(Eigen::Ref<const MatrixT<Scalar>> rhs,
                     Eigen::Ref<MatrixT<Scalar>> Wt) override {
    w_rule_.update(Wt, *w_gram_, rhs, options_.w_penalty.l1);
    form_gram(Wt.template cast<double>(), WtW_);
  }
  void update_h_block(Eigen::Ref<MatrixT<Scalar>> H_block,
                      const MatrixT<Scalar>& WtA_block) override {
    comm_.allreduce_sum(WtW_.data(), k_ * k_);
    h_rule_.update(H_block, with_ridge(WtW_, options_.h_penalty.l2), WtA_block,
                   options_.h_penalty.l1);
  }
  double loss_term(const MatrixT<Scalar>& WtA_block, Index column_begin) override {
    const auto H_block = H_.middleCols(column_begin, WtA_block.cols());
    return (WtA_block.template cast<double>().array() * H_block.template cast<double>().array())
        .sum();
  }
  void measure(double loss_term, double, double penalties, IterationRecord& record) const override {
    // ||A||² - 2 <Wᵀ A, H> + <Wᵀ W, H Hᵀ>, without forming W H.
    const double fit =
        statistics_.squared_norm - 2.0 * loss_term + (WtW_.array() * HHt_.array()).sum();
    record.objective = 0.5 * fit + penalties;
    record.relative_error =
        std::sqrt(std::max(2.0 * record.objective, 0.0) / statistics_.squared_norm);
  }
  double final_relative_error(const FactorsT<Scalar>& factors) override {
    return relative_error(A_, factors, statistics_, comm_, Loss::Frobenius);
  }
  double product_passes() const override { return 1.0; }

 private:
  /// G + l2 I, or G itself without a ridge.
  const Matrix& with_ridge(const Matrix& G, double l2) {
    if (l2 == 0) return G;
    gram_ = G;
    gram_.diagonal().array() += l2;
    return gram_;
  }

  const LocalBlockT<Scalar>& A_;
  const MatrixT<Scalar>& H_;
  const Index column_begin_;
  const Index column_count_;
  const SolverOptions& options_;
  const InputStatistics& statistics_;
  mpi::Communicator& comm_;
  UpdateRuleT<Scalar>& w_rule_;
  UpdateRuleT<Scalar>& h_rule_;
  const Index k_;
  // In double (see "Precision" in solver.hpp):
  Matrix WtW_;                     // Wᵀ W, allreduced
  std::vector<Matrix> WtW_parts_;  // this rank's, a sum a row part (nmf/row_parts.hpp)
  Matrix HHt_;                     // H Hᵀ, allreduced
  Matrix gram_;                    // G + l2 I handed to the update rule
  const Matrix* w_gram_ = nullptr;
};

/// The generalized KL divergence D(A || WH): Lee & Seung's (2001) multiplicative updates.
template <class Scalar>
class KlSteps final : public LossSteps<Scalar> {
 public:
  KlSteps(const LocalBlockT<Scalar>& A, const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H,
          const SolverOptions& options, const InputStatistics& statistics, mpi::Communicator& comm)
      : A_(A),
        Wt_(Wt),
        H_(H),
        options_(options),
        statistics_(statistics),
        comm_(comm),
        ratio_(A.same_pattern()),
        w_sums_(options.rank),
        h_sums_(options.rank) {}

  Index gram_size() const override { return 0; }
  void write_gram(Eigen::Map<Matrix>&) const override {}
  void take_gram(const Eigen::Map<Matrix>&) override {}
  void start() override {
    ratio_pass();
    h_sums_ = H_.template cast<double>().rowwise().sum();
  }
  void begin_w_update(Index) override {}
  void update_w_rows(Index, Index row, Index rows, Eigen::Ref<MatrixT<Scalar>> rhs,
                     Eigen::Ref<MatrixT<Scalar>> Wt_b, MatrixT<Scalar>& WtQ) override {
    ratio_->times_transposed_rows(H_, row, rows, rhs);
    kl_multiplicative_update<Scalar>(Wt_b, h_sums_, rhs, options_.w_penalty);
    A_.divide_by_product(Wt_b, H_, row, rows, *ratio_);
    ratio_->add_product_with_rows(Wt_b, row, rows, WtQ);
  }
  void update_h_block(Eigen::Ref<MatrixT<Scalar>> H_block,
                      const MatrixT<Scalar>& WtQ_block) override {
    w_sums_ = Wt_.template cast<double>().rowwise().sum();
    comm_.allreduce_sum(w_sums_.data(), w_sums_.size());
    kl_multiplicative_update<Scalar>(H_block, w_sums_, WtQ_block, options_.h_penalty);
  }
  double loss_term(const MatrixT<Scalar>&, Index) override {
    const double log_sum = ratio_pass();
    h_sums_ = H_.template cast<double>().rowwise().sum();
    return log_sum;
  }
  void measure(double loss_term, double, double penalties, IterationRecord& record) const override {
    // Σ A log(A / WH) - Σ A + Σ WH, with Σ WH = (column sums of W) · (row sums of H).
    const double divergence = loss_term - statistics_.sum + w_sums_.dot(h_sums_);
    record.objective = divergence + penalties;
    record.relative_error = std::max(record.objective, 0.0) / statistics_.sum;
  }
  double final_relative_error(const FactorsT<Scalar>& factors) override {
    return relative_error(A_, factors, statistics_, comm_, Loss::KullbackLeibler);
  }
  double product_passes() const override { return 2.0; }

 private:
  /// Q <- A ⊘ (W H); returns this rank's Σ A log(A / WH).
  double ratio_pass() { return divide_all_rows(A_, Wt_, H_, *ratio_); }

  const LocalBlockT<Scalar>& A_;
  const MatrixT<Scalar>& Wt_;
  const MatrixT<Scalar>& H_;
  const SolverOptions& options_;
  const InputStatistics& statistics_;
  mpi::Communicator& comm_;
  // Q = A ⊘ (W H) at A's nonzeros, this rank's rows (the shape and pattern of A_r).
  const std::unique_ptr<LocalBlockT<Scalar>> ratio_;
  Vector w_sums_;  // column sums of W, allreduced          (k)
  Vector h_sums_;  // row sums of H (H is replicated)       (k)
};

}  // namespace

template <class Scalar>
std::unique_ptr<LossSteps<Scalar>> make_loss_steps(
    const LocalBlockT<Scalar>& A, FactorsT<Scalar>& factors, Index column_begin, Index column_count,
    const SolverOptions& options, const InputStatistics& statistics, const EntryMaskT<Scalar>* mask,
    mpi::Communicator& comm, UpdateRuleT<Scalar>& w_rule, UpdateRuleT<Scalar>& h_rule) {
  if (mask != nullptr && mask->any()) {
    return make_masked_loss_steps(A, factors, column_begin, column_count, options, statistics,
                                  *mask, comm, w_rule, h_rule);
  }
  if (options.loss == Loss::KullbackLeibler) {
    return std::make_unique<KlSteps<Scalar>>(A, factors.Wt, factors.H, options, statistics, comm);
  }
  return std::make_unique<FrobeniusSteps<Scalar>>(A, factors.H, column_begin, column_count, options,
                                                  statistics, comm, w_rule, h_rule);
}

#define DNMF_INSTANTIATE_LOSS_STEPS(Scalar)                                                        \
  template std::unique_ptr<LossSteps<Scalar>> make_loss_steps<Scalar>(                             \
      const LocalBlockT<Scalar>&, FactorsT<Scalar>&, Index, Index, const SolverOptions&,           \
      const InputStatistics&, const EntryMaskT<Scalar>*, mpi::Communicator&, UpdateRuleT<Scalar>&, \
      UpdateRuleT<Scalar>&);
DNMF_INSTANTIATE_LOSS_STEPS(float)
DNMF_INSTANTIATE_LOSS_STEPS(double)
#undef DNMF_INSTANTIATE_LOSS_STEPS

}  // namespace dnmf::nmf
