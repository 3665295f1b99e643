#include "dnmf/nmf/transform.hpp"

#include <algorithm>

#include "dnmf/core/stopwatch.hpp"
#include "dnmf/nmf/bpp.hpp"
#include "dnmf/nmf/update_rule.hpp"

namespace dnmf::nmf {
namespace {

/// Exact: one block-principal-pivoting solve per block of rows, from w = 0 (BPP runs Kim & Park's
/// pivoting until every KKT condition holds, so the start only changes how many rounds it takes).
Matrix frobenius_codes(const LocalBlock& A, const Matrix& H, const Penalty& penalty) {
  const Index k = H.rows();
  const Index m = A.rows();
  Matrix gram = H * H.transpose();
  gram.diagonal().array() += penalty.l2;
  Matrix Wt = Matrix::Zero(k, m);
  Matrix rhs(k, std::min(kRowsPerBlock, m));  // B_b = H A_bᵀ
  BlockPrincipalPivoting nnls;
  for (Index row = 0; row < m; row += kRowsPerBlock) {
    const Index rows = std::min(kRowsPerBlock, m - row);
    auto rhs_block = rhs.leftCols(rows);
    A.times_transposed_rows(H, row, rows, rhs_block);
    nnls.update(Wt.middleCols(row, rows), gram, rhs_block, penalty.l1);
  }
  return Wt;
}

/// KL multiplicative updates of W with H fixed; fills Wt and the history.
void kl_codes(const LocalBlock& A, const Matrix& H, const TransformOptions& options,
              const InputStatistics& statistics, mpi::Communicator& comm,
              const std::function<void(const IterationRecord&)>& progress,
              TransformResult& result) {
  const Index k = H.rows();
  const Index m = A.rows();
  const Vector h_sums = H.rowwise().sum();
  const double h_total = h_sums.sum();
  Matrix& Wt = result.Wt;

  // Start: w_i = (Σ_j a_ij / Σ H) 1, the constant code whose W H has row i's total.
  const Matrix ones = Matrix::Ones(1, A.cols());
  Matrix row_sums(1, m);
  for (Index row = 0; row < m; row += kRowsPerBlock) {
    const Index rows = std::min(kRowsPerBlock, m - row);
    A.times_transposed_rows(ones, row, rows, row_sums.middleCols(row, rows));
  }
  Wt = Matrix::Ones(k, 1) * row_sums / (h_total > 0 ? h_total : 1.0);

  // Q = A ⊘ (W H) at A's nonzeros, this rank's rows; refreshed by every pass.
  const std::unique_ptr<LocalBlock> ratio = A.same_pattern();
  Matrix rhs(k, std::min(kRowsPerBlock, m));  // B_b = H Q_bᵀ
  const Penalty& penalty = options.penalty;
  const Stopwatch watch;
  // D(A || WH) + penalties = Σ A log(A / WH) - Σ A + <colsums(W), rowsums(H)> + penalties, from
  // this rank's Σ A log(A / WH); one allreduce of [that | seconds].
  const auto record = [&](int iteration, double log_sum) {
    double reduced[2] = {log_sum + Wt.rowwise().sum().dot(h_sums) + penalty.l1 * Wt.sum() +
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

  double log_sum = 0;
  for (Index row = 0; row < m; row += kRowsPerBlock) {
    const Index rows = std::min(kRowsPerBlock, m - row);
    log_sum += A.divide_by_product(Wt.middleCols(row, rows), H, row, rows, *ratio);
  }
  record(0, log_sum);
  result.reason = StopReason::MaxIterations;
  for (int iteration = 1; iteration <= options.max_iterations; ++iteration) {
    log_sum = 0;
    for (Index row = 0; row < m; row += kRowsPerBlock) {
      const Index rows = std::min(kRowsPerBlock, m - row);
      auto rhs_block = rhs.leftCols(rows);
      auto Wt_b = Wt.middleCols(row, rows);
      ratio->times_transposed_rows(H, row, rows, rhs_block);
      kl_multiplicative_update<double>(Wt_b, h_sums, rhs_block, penalty);
      log_sum += A.divide_by_product(Wt_b, H, row, rows, *ratio);
    }
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
                          const std::function<void(const IterationRecord&)>& progress) {
  TransformResult result;
  if (options.loss == Loss::KullbackLeibler) {
    kl_codes(A, H, options, statistics, comm, progress, result);
  } else {
    result.Wt = frobenius_codes(A, H, options.penalty);
  }
  Factors factors{std::move(result.Wt), H};
  result.relative_error = relative_error(A, factors, statistics, comm, options.loss);
  result.Wt = std::move(factors.Wt);
  return result;
}

}  // namespace dnmf::nmf
