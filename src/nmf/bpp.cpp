#include "dnmf/nmf/bpp.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "dnmf/core/parallel_for.hpp"

namespace dnmf::nmf {
namespace {
// Kim & Park's alpha: how many full exchanges a column may make without reducing its number of
// infeasible variables before falling back to the single-variable (Murty) exchange.
constexpr int kFullExchanges = 3;
// A free variable's gradient counts as negative only below this fraction of |b|: a gradient that
// is zero in exact arithmetic must not pivot on rounding noise.
constexpr double kGradientTolerance = 1e-12;
// Columns a thread takes at the least: their solves share Choleskys only within a thread's
// chunk, so a chunk should hold many columns.
constexpr Index kColumnsPerChunk = 64;

/// rhs <- (L Lᵀ)⁻¹ rhs for the Cholesky factor L in the lower triangle of `factor`, by column
/// substitutions. Not the BLAS's trsm: for the small passive sets here one call a group costs more
/// than the solve, and OpenBLAS takes a lock for its buffer in every trsm, which the threads of a
/// rank then queue on (sparse benchmark, k = 20: 7 % of the time in the lock at 2 threads).
void solve_with_factor(const Eigen::Ref<const Matrix>& factor, Eigen::Ref<Matrix> rhs) {
  const Index p = factor.rows();
  for (Index j = 0; j < rhs.cols(); ++j) {
    auto x = rhs.col(j);
    for (Index a = 0; a < p; ++a) {  // L y = b, a column of L at a time
      x(a) /= factor(a, a);
      x.tail(p - a - 1) -= x(a) * factor.col(a).tail(p - a - 1);
    }
    for (Index a = p - 1; a >= 0; --a) {  // Lᵀ x = y: row a of Lᵀ is column a of L
      x(a) = (x(a) - factor.col(a).tail(p - a - 1).dot(x.tail(p - a - 1))) / factor(a, a);
    }
  }
}

/// The solve of a block of columns, with its scratch: one per thread, grown on demand and reused
/// across calls (no allocation in steady state).
class PivotingSolve {
 public:
  /// x_j = argmin_{x >= 0} ½ xᵀ G x - b_jᵀ x for every column of X, B (in double).
  void solve(Eigen::Ref<Matrix> X, const Matrix& G, const Eigen::Ref<const Matrix>& B);

 private:
  using PassiveSets = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

  /// For each pending column: x_P = G_PP^{-1} b_P, x_F = 0, and the gradient y = G x - b.
  /// Columns with equal passive sets share one Cholesky factorisation.
  void solve_on_passive_sets(Eigen::Ref<Matrix> X, const Matrix& G,
                             const Eigen::Ref<const Matrix>& B);
  bool is_infeasible(const Eigen::Ref<const Matrix>& X, const Eigen::Ref<const Matrix>& B,
                     Index row, Index column) const;

  PassiveSets passive_;
  Matrix gradient_;
  Matrix gram_work_;
  Matrix rhs_work_;
  std::vector<Index> pending_;
  std::vector<Index> next_pending_;
  std::vector<Index> passive_rows_;
  std::vector<int> fewest_infeasible_;
  std::vector<int> full_exchanges_left_;
};

bool PivotingSolve::is_infeasible(const Eigen::Ref<const Matrix>& X,
                                  const Eigen::Ref<const Matrix>& B, Index row,
                                  Index column) const {
  if (passive_(row, column)) return X(row, column) < 0;
  return gradient_(row, column) < -kGradientTolerance * std::abs(B(row, column));
}

void PivotingSolve::solve_on_passive_sets(Eigen::Ref<Matrix> X, const Matrix& G,
                                          const Eigen::Ref<const Matrix>& B) {
  const Index k = X.rows();
  const auto pattern_less = [&](Index a, Index b) {
    return std::memcmp(passive_.col(a).data(), passive_.col(b).data(),
                       static_cast<std::size_t>(k)) < 0;
  };
  std::sort(pending_.begin(), pending_.end(), pattern_less);

  for (std::size_t first = 0; first < pending_.size();) {
    std::size_t last = first + 1;
    while (last < pending_.size() && !pattern_less(pending_[first], pending_[last])) ++last;
    const Index group_size = static_cast<Index>(last - first);

    passive_rows_.clear();
    for (Index i = 0; i < k; ++i) {
      if (passive_(i, pending_[first])) passive_rows_.push_back(i);
    }
    const Index p = static_cast<Index>(passive_rows_.size());
    for (std::size_t j = first; j < last; ++j) X.col(pending_[j]).setZero();
    if (p > 0) {
      Eigen::Ref<Matrix> gram = gram_work_.topLeftCorner(p, p);
      Eigen::Ref<Matrix> rhs = rhs_work_.topLeftCorner(p, group_size);
      for (Index a = 0; a < p; ++a) {
        for (Index b = 0; b < p; ++b) gram(a, b) = G(passive_rows_[a], passive_rows_[b]);
        for (Index j = 0; j < group_size; ++j) rhs(a, j) = B(passive_rows_[a], pending_[first + j]);
      }
      Eigen::LLT<Eigen::Ref<Matrix>> cholesky(gram);  // in place: no allocation
      if (cholesky.info() == Eigen::Success) {
        solve_with_factor(gram, rhs);
      } else {
        // G_PP singular (a zero or repeated basis vector): the least-norm-like LDLT answer.
        Matrix singular_gram(p, p);
        for (Index a = 0; a < p; ++a)
          for (Index b = 0; b < p; ++b) singular_gram(a, b) = G(passive_rows_[a], passive_rows_[b]);
        rhs = singular_gram.ldlt().solve(Matrix(rhs));
      }
      for (Index j = 0; j < group_size; ++j)
        for (Index a = 0; a < p; ++a) X(passive_rows_[a], pending_[first + j]) = rhs(a, j);
    }
    for (std::size_t j = first; j < last; ++j) {
      const Index column = pending_[j];
      gradient_.col(column).noalias() = G.lazyProduct(X.col(column)) - B.col(column);
    }
    first = last;
  }
}

void PivotingSolve::solve(Eigen::Ref<Matrix> X, const Matrix& G,
                          const Eigen::Ref<const Matrix>& B) {
  const Index k = X.rows();
  const Index n = X.cols();
  passive_.resize(k, n);
  gradient_.resize(k, n);
  if (gram_work_.rows() < k) gram_work_.resize(k, k);
  if (rhs_work_.rows() < k || rhs_work_.cols() < n) rhs_work_.resize(k, n);
  fewest_infeasible_.assign(static_cast<std::size_t>(n), static_cast<int>(k) + 1);
  full_exchanges_left_.assign(static_cast<std::size_t>(n), kFullExchanges);

  passive_ = (X.array() > 0).cast<std::uint8_t>();
  pending_.resize(static_cast<std::size_t>(n));
  for (Index j = 0; j < n; ++j) pending_[static_cast<std::size_t>(j)] = j;
  solve_on_passive_sets(X, G, B);

  // Finite in exact arithmetic (the backup rule is Murty's method); the cap only guards
  // against cycling on rounding, after which the remaining columns are clipped to >= 0.
  const int max_rounds = 100 + 10 * static_cast<int>(k);
  for (int round = 0; round < max_rounds && !pending_.empty(); ++round) {
    next_pending_.clear();
    for (const Index column : pending_) {
      int infeasible = 0;
      Index last_infeasible = -1;
      for (Index i = 0; i < k; ++i) {
        if (is_infeasible(X, B, i, column)) {
          ++infeasible;
          last_infeasible = i;
        }
      }
      if (infeasible == 0) continue;
      const auto c = static_cast<std::size_t>(column);
      bool exchange_all = true;
      if (infeasible < fewest_infeasible_[c]) {
        fewest_infeasible_[c] = infeasible;
        full_exchanges_left_[c] = kFullExchanges;
      } else if (full_exchanges_left_[c] >= 1) {
        --full_exchanges_left_[c];
      } else {
        exchange_all = false;
      }
      if (exchange_all) {
        for (Index i = 0; i < k; ++i) {
          if (is_infeasible(X, B, i, column)) passive_(i, column) ^= 1;
        }
      } else {
        passive_(last_infeasible, column) ^= 1;
      }
      next_pending_.push_back(column);
    }
    pending_.swap(next_pending_);
    if (!pending_.empty()) solve_on_passive_sets(X, G, B);
  }
  for (const Index column : pending_) X.col(column) = X.col(column).cwiseMax(0.0);
}

}  // namespace

template <class Scalar>
void BlockPrincipalPivotingT<Scalar>::update(Eigen::Ref<MatrixT<Scalar>> X, const Matrix& G,
                                             Eigen::Ref<const MatrixT<Scalar>> B, double l1) {
  parallel_for(X.cols(), kColumnsPerChunk, [&](Index begin, Index end) {
    thread_local PivotingSolve pivoting;
    thread_local Matrix rhs;       // B in double (B - l1 with an L1 penalty), unless B is that
    thread_local Matrix solution;  // X in double, when Scalar is float
    auto x = X.middleCols(begin, end - begin);
    const auto b = B.middleCols(begin, end - begin);
    if constexpr (std::is_same_v<Scalar, double>) {
      if (l1 == 0) {
        pivoting.solve(x, G, b);
        return;
      }
      rhs = b.array() - l1;  // an L1 penalty shifts the right-hand side
      pivoting.solve(x, G, rhs);
    } else {
      // Solved in double (see bpp.hpp); the answer, >= 0, is rounded to Scalar.
      rhs = b.template cast<double>().array() - l1;
      solution = x.template cast<double>();
      pivoting.solve(solution, G, rhs);
      x = solution.template cast<Scalar>();
    }
  });
}

template <class Scalar>
double BlockPrincipalPivotingT<Scalar>::flops(Index rank, Index columns) const {
  // One Cholesky-solve and one gradient per column and pivoting round; about two rounds.
  return 8.0 * static_cast<double>(rank * rank * columns);
}

template class BlockPrincipalPivotingT<float>;
template class BlockPrincipalPivotingT<double>;

}  // namespace dnmf::nmf
