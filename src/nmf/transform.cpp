#include "dnmf/nmf/transform.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "dnmf/core/stopwatch.hpp"
#include "dnmf/nmf/bpp.hpp"
#include "dnmf/nmf/observed_totals.hpp"
#include "dnmf/nmf/row_parts.hpp"
#include "dnmf/nmf/update_rule.hpp"

namespace dnmf::nmf {
namespace {

/// Exact: one block-principal-pivoting solve per block of rows, from w = 0 (BPP runs Kim & Park's
/// pivoting until every KKT condition holds, so the start only changes how many rounds it takes).
/// With missing entries each row's Gram is over its observed columns (`totals`, of width k).
void frobenius_codes(const LocalBlock& A, const Matrix& H, const Penalty& penalty, Matrix& Wt,
                     ObservedTotals<double>* totals) {
  const Index k = H.rows();
  const Index m = A.rows();
  BlockPrincipalPivoting nnls;
  Wt.setZero(k, m);
  if (totals != nullptr) {
    Matrix rhs;  // H (P_O A)ᵀ, every row: the rows are solved grouped by their Grams
    times_transposed_all_rows(A, H, rhs);
    totals->update_row_side();
    totals->update(Side::Rows, Wt, rhs, nnls, penalty, false);
    return;
  }
  Matrix gram = H * H.transpose();
  gram.diagonal().array() += penalty.l2;
  const RowParts parts(m);
  std::vector<Matrix> rhs(static_cast<std::size_t>(parts.count()),
                          Matrix(k, std::min(kRowsPerBlock, m)));  // B_b = H A_bᵀ, a part's
  parts.for_each_block([&](Index part, Index row, Index rows) {
    auto rhs_block = rhs[static_cast<std::size_t>(part)].leftCols(rows);
    A.times_transposed_rows(H, row, rows, rhs_block);
    nnls.update(Wt.middleCols(row, rows), gram, rhs_block, penalty.l1);
  });
}

/// The sums of H that the KL updates of row i divide by: over all of H's columns, or, with
/// missing entries, over row i's observed columns (from `totals`, of width 1).
class KlRowSums {
 public:
  KlRowSums(const Matrix& H, ObservedTotals<double>* totals, Index rows)
      : all_(H.rowwise().sum()), masked_(totals != nullptr) {
    if (!masked_) return;
    totals->update_row_side();
    rows_.resize(H.rows(), rows);
    for (Index i = 0; i < rows; ++i) rows_.col(i) = totals->row_total(i);
  }
  bool masked() const { return masked_; }
  const Vector& all() const { return all_; }
  auto of(Index i) const { return rows_.col(i); }
  /// Σ over the row's fitted entries of (W H)_ij / w_i: the sum of its sums.
  double total(Index i) const { return masked_ ? rows_.col(i).sum() : all_.sum(); }
  /// Σ (W H) over the fitted entries of this rank's rows.
  double product_sum(const Matrix& Wt) const {
    return masked_ ? (Wt.array() * rows_.array()).sum() : Wt.rowwise().sum().dot(all_);
  }

 private:
  Vector all_;
  bool masked_;
  Matrix rows_;  // k x rows, when masked
};

/// The start of the KL updates: w_i = (Σ_j a_ij / Σ_j Σ_a H_aj) 1 over the fitted entries, the
/// constant code whose W H has row i's total there.
Matrix constant_codes(const LocalBlock& A, const KlRowSums& sums, Index k) {
  const Index m = A.rows();
  const Matrix ones = Matrix::Ones(1, A.cols());
  Matrix row_sums;
  times_transposed_all_rows(A, ones, row_sums);
  Matrix Wt(k, m);
  for (Index i = 0; i < m; ++i) {
    const double h_total = sums.total(i);
    Wt.col(i).setConstant(row_sums(0, i) / (h_total > 0 ? h_total : 1.0));
  }
  return Wt;
}

/// KL multiplicative updates of W with H fixed; fills Wt and the result's history. With missing
/// entries the sums of H in the updates and in Σ WH are over each row's observed columns (`totals`,
/// of width 1).
void kl_codes(const LocalBlock& A, const Matrix& H, const TransformOptions& options,
              const InputStatistics& statistics, mpi::Communicator& comm,
              const std::function<void(const IterationRecord&)>& progress,
              ObservedTotals<double>* totals, Matrix& Wt, TransformResult& result) {
  const Index k = H.rows();
  const Index m = A.rows();
  const KlRowSums sums(H, totals, m);
  Wt = constant_codes(A, sums, k);

  // Q = A ⊘ (W H) at A's nonzeros, this rank's rows; refreshed by every pass.
  const std::unique_ptr<LocalBlock> ratio = A.same_pattern();
  const RowParts parts(m);
  std::vector<Matrix> rhs(static_cast<std::size_t>(parts.count()),
                          Matrix(k, std::min(kRowsPerBlock, m)));  // B_b = H Q_bᵀ, a part's
  const Penalty& penalty = options.penalty;
  const Stopwatch watch;
  // D(A || WH) + penalties = Σ A log(A / WH) - Σ A + <colsums(W), rowsums(H)> + penalties, from
  // this rank's Σ A log(A / WH); one allreduce of [that | seconds].
  const auto record = [&](int iteration, double log_sum) {
    double reduced[2] = {log_sum + sums.product_sum(Wt) + penalty.l1 * Wt.sum() +
                             0.5 * penalty.l2 * Wt.squaredNorm(),
                         watch.seconds()};
    comm.allreduce_sum(reduced, 2);
    IterationRecord entry;
    entry.iteration = iteration;
    entry.objective = reduced[0] - statistics.sum;
    entry.relative_error = std::max(entry.objective, 0.0) / statistics.sum;
    entry.seconds = reduced[1] / comm.size();
    result.history.push_back(entry);
    if (progress) progress(entry);
  };

  record(0, divide_all_rows(A, Wt, H, *ratio));
  result.reason = StopReason::MaxIterations;
  for (int iteration = 1; iteration <= options.max_iterations; ++iteration) {
    const double log_sum = parts.sum_over_blocks([&](Index part, Index row, Index rows) {
      auto rhs_block = rhs[static_cast<std::size_t>(part)].leftCols(rows);
      auto Wt_b = Wt.middleCols(row, rows);
      ratio->times_transposed_rows(H, row, rows, rhs_block);
      if (sums.masked()) {
        for (Index i = 0; i < rows; ++i) {
          kl_multiplicative_update<double>(Wt_b.middleCols(i, 1), sums.of(row + i),
                                           rhs_block.middleCols(i, 1), penalty);
        }
      } else {
        kl_multiplicative_update<double>(Wt_b, sums.all(), rhs_block, penalty);
      }
      return A.divide_by_product(Wt_b, H, row, rows, *ratio);
    });
    record(iteration, log_sum);
    result.iterations = iteration;
    const double before = result.history[result.history.size() - 2].objective;
    const double now = result.history.back().objective;
    if (now <= 0 || before <= 0 || (before - now) / before < options.tolerance) {
      result.reason = StopReason::Converged;
      break;
    }
  }
}

}  // namespace

TransformResult transform(const LocalBlock& A, const Matrix& H, const TransformOptions& options,
                          const InputStatistics& statistics, mpi::Communicator& comm,
                          const std::function<void(const IterationRecord&)>& progress,
                          const EntryMask* mask) {
  TransformResult result;
  Factors factors{Matrix(H.rows(), A.rows()), H};
  const bool kl = options.loss == Loss::KullbackLeibler;
  std::optional<ObservedTotals<double>> totals;
  if (mask != nullptr && mask->any()) {
    totals.emplace(factors.Wt, factors.H, 0, 0, *mask, comm, kl ? 1 : H.rows());
  }
  ObservedTotals<double>* observed = totals ? &*totals : nullptr;
  if (kl) {
    kl_codes(A, H, options, statistics, comm, progress, observed, factors.Wt, result);
  } else {
    frobenius_codes(A, H, options.penalty, factors.Wt, observed);
  }
  result.relative_error = totals ? totals->relative_error(A, factors, statistics)
                                 : relative_error(A, factors, statistics, comm, options.loss);
  result.Wt = std::move(factors.Wt);
  return result;
}

}  // namespace dnmf::nmf
