#include "dnmf/nmf/truncated_svd.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <limits>

#include "dnmf/core/random.hpp"
#include "dnmf/nmf/row_parts.hpp"

namespace dnmf::nmf {
namespace {

// The products with A run in A's precision (Scalar); everything else here is double.

/// (A_b Xᵀ)ᵀ = X A_bᵀ (l x m_local) for X (l x n) replicated.
template <class Scalar>
Matrix times_transposed_block(const LocalBlockT<Scalar>& A, const Matrix& X) {
  const MatrixT<Scalar>& X_scalar = X.cast<Scalar>();  // X itself when Scalar is double
  MatrixT<Scalar> out;
  times_transposed_all_rows(A, X_scalar, out);
  return out.template cast<double>();
}

/// Xᵀ A = Σ_ranks Xt_b A_b (l x n, replicated) for Xt (l x m_local) holding this rank's rows of X.
template <class Scalar>
Matrix transposed_times_matrix(const LocalBlockT<Scalar>& A, const Matrix& Xt,
                               mpi::Communicator& comm) {
  const MatrixT<Scalar>& Xt_scalar = Xt.cast<Scalar>();  // Xt itself when Scalar is double
  MatrixT<Scalar> product;
  product_with_all_rows(A, Xt_scalar, product);
  Matrix sum = product.template cast<double>();
  comm.allreduce_sum(sum.data(), sum.size());
  return sum;
}

/// One pass of Gram-based orthonormalisation of the rows of Xt, whose columns are spread over
/// the ranks of `comm` (MPI_COMM_SELF for a replicated Xt): one allreduce of the Gram
/// G = Xt Xtᵀ = V Λ Vᵀ, then Xt <- Λ^(-1/2) Vᵀ Xt. This is Cholesky-QR with G's
/// eigendecomposition in place of its Cholesky factor (SVQB, Stathopoulos & Wu 2002, SIAM J.
/// Sci. Comput. 23(6)): the same single allreduce, but a direction whose eigenvalue is at
/// rounding level (a rank-deficient Xt) is dropped rather than turned into NaN, so Xt may come
/// out with fewer rows. G is identical on every rank, hence so is the decision.
void orthonormalize_rows_once(Matrix& Xt, mpi::Communicator& comm) {
  const Index l = Xt.rows();
  if (l == 0) return;
  Matrix gram = Matrix::Zero(l, l);
  gram.noalias() += Xt * Xt.transpose();
  comm.allreduce_sum(gram.data(), gram.size());
  const Eigen::SelfAdjointEigenSolver<Matrix> eigen(gram);
  const Vector& values = eigen.eigenvalues();  // increasing
  const double floor =
      values(l - 1) * static_cast<double>(l) * std::numeric_limits<double>::epsilon();
  Index kept = 0;
  while (kept < l && values(l - 1 - kept) > floor && values(l - 1 - kept) > 0) ++kept;
  Matrix transform(kept, l);
  for (Index i = 0; i < kept; ++i) {
    transform.row(i) =
        eigen.eigenvectors().col(l - 1 - i).transpose() / std::sqrt(values(l - 1 - i));
  }
  Xt = transform * Xt;
}

/// Twice, as in CholeskyQR2 (Fukaya et al. 2014): the second pass restores orthogonality to
/// rounding that the first loses when Xt is ill-conditioned.
void orthonormalize_rows(Matrix& Xt, mpi::Communicator& comm) {
  orthonormalize_rows_once(Xt, comm);
  orthonormalize_rows_once(Xt, comm);
}

}  // namespace

template <class Scalar>
TruncatedSvd truncated_svd(const LocalBlockT<Scalar>& A, std::int64_t rows, Index k,
                           const SketchOptions& options, mpi::Communicator& comm) {
  const Index n = A.cols();
  const Index smaller = std::min<Index>(static_cast<Index>(rows), n);
  const Index sketch = std::min(k + options.oversampling, smaller);
  const int power_iterations =
      options.power_iterations >= 0
          ? options.power_iterations
          : (static_cast<double>(k) < 0.1 * static_cast<double>(smaller) ? 7 : 4);
  mpi::Communicator self = mpi::Communicator::self();

  // Ωᵀ (l x n), the Gaussian test matrix, the same on every rank.
  Matrix omega_t(sketch, n);
  for (Index c = 0; c < n; ++c)
    for (Index i = 0; i < sketch; ++i)
      omega_t(i, c) = counter_normal(options.seed, RandomStream::Sketch,
                                     static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(c));

  // Q spans the range of (A Aᵀ)^q A Ω, re-orthonormalised after every product (Alg. 4.4).
  Matrix Qt = times_transposed_block(A, omega_t);  // (A Ω)ᵀ, l x m_local
  orthonormalize_rows(Qt, comm);
  for (int iteration = 0; iteration < power_iterations; ++iteration) {
    Matrix Zt = transposed_times_matrix(A, Qt, comm);  // (Aᵀ Q)ᵀ, replicated
    orthonormalize_rows(Zt, self);
    Qt = times_transposed_block(A, Zt);
    orthonormalize_rows(Qt, comm);
  }

  // B = Qᵀ A (q x n, replicated) and its exact SVD, Bᵀ = P Σ Rᵀ: then A ≈ (Q R) Σ Pᵀ.
  const Matrix B = transposed_times_matrix(A, Qt, comm);
  const Index found = std::min(k, B.rows());
  TruncatedSvd svd{Matrix::Zero(k, A.rows()), Vector::Zero(k), Matrix::Zero(k, n)};
  if (found == 0) return svd;
  const Eigen::BDCSVD<Matrix> small(B.transpose(), Eigen::ComputeThinU | Eigen::ComputeThinV);
  svd.Ut.topRows(found).noalias() = small.matrixV().leftCols(found).transpose() * Qt;
  svd.Vt.topRows(found) = small.matrixU().leftCols(found).transpose();
  svd.singular_values.head(found) = small.singularValues().head(found);

  for (Index j = 0; j < found; ++j) {
    Index largest = 0;
    for (Index c = 1; c < n; ++c) {
      if (std::fabs(svd.Vt(j, c)) > std::fabs(svd.Vt(j, largest))) largest = c;
    }
    if (svd.Vt(j, largest) < 0) {
      svd.Vt.row(j) *= -1;
      svd.Ut.row(j) *= -1;
    }
  }
  return svd;
}

template TruncatedSvd truncated_svd(const LocalBlockT<float>&, std::int64_t, Index,
                                    const SketchOptions&, mpi::Communicator&);
template TruncatedSvd truncated_svd(const LocalBlockT<double>&, std::int64_t, Index,
                                    const SketchOptions&, mpi::Communicator&);

}  // namespace dnmf::nmf
