#include "naive_nmf.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace naive {

using dnmf::Index;

Matrix random_matrix(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Matrix result(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) result(i, j) = uniform(engine);
  return result;
}

Matrix count_matrix(Index rows, Index cols, std::uint64_t seed, double zero_below, double scale,
                    Index zero_row) {
  Matrix A = random_matrix(rows, cols, seed);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j)
      A(i, j) = A(i, j) < zero_below ? 0.0 : std::floor(scale * A(i, j));
  A.row(zero_row).setZero();
  return A;
}

namespace {

Matrix multiply(const Matrix& X, const Matrix& Y) {
  Matrix Z = Matrix::Zero(X.rows(), Y.cols());
  for (Index i = 0; i < X.rows(); ++i)
    for (Index j = 0; j < Y.cols(); ++j) {
      double sum = 0;
      for (Index l = 0; l < X.cols(); ++l) sum += X(i, l) * Y(l, j);
      Z(i, j) = sum;
    }
  return Z;
}

Matrix transpose(const Matrix& X) {
  Matrix T(X.cols(), X.rows());
  for (Index i = 0; i < X.rows(); ++i)
    for (Index j = 0; j < X.cols(); ++j) T(j, i) = X(i, j);
  return T;
}

}  // namespace

double squared_residual(const Matrix& A, const Matrix& W, const Matrix& H) {
  const Matrix WH = multiply(W, H);
  double sum = 0;
  for (Index i = 0; i < A.rows(); ++i)
    for (Index j = 0; j < A.cols(); ++j) sum += (A(i, j) - WH(i, j)) * (A(i, j) - WH(i, j));
  return sum;
}

void mu_iteration(const Matrix& A, Matrix& W, Matrix& H) {
  const Matrix AHt = multiply(A, transpose(H));
  const Matrix WHHt = multiply(W, multiply(H, transpose(H)));
  for (Index i = 0; i < W.rows(); ++i)
    for (Index j = 0; j < W.cols(); ++j) W(i, j) *= AHt(i, j) / std::max(WHHt(i, j), 1e-16);
  const Matrix WtA = multiply(transpose(W), A);
  const Matrix WtWH = multiply(multiply(transpose(W), W), H);
  for (Index i = 0; i < H.rows(); ++i)
    for (Index j = 0; j < H.cols(); ++j) H(i, j) *= WtA(i, j) / std::max(WtWH(i, j), 1e-16);
}

void hals_iteration(const Matrix& A, Matrix& W, Matrix& H) {
  const Index k = W.cols();
  const Matrix AHt = multiply(A, transpose(H));
  const Matrix HHt = multiply(H, transpose(H));
  // A curvature of at most 1e-12 of the largest counts as zero (its basis vector is zero to
  // working precision), as the library's HALS takes it.
  const double w_negligible = 1e-12 * HHt.diagonal().maxCoeff();
  for (Index j = 0; j < k; ++j) {
    if (HHt(j, j) <= w_negligible) continue;
    for (Index i = 0; i < W.rows(); ++i) {
      double WHHt = 0;
      for (Index l = 0; l < k; ++l) WHHt += W(i, l) * HHt(l, j);
      W(i, j) = std::max(0.0, W(i, j) + (AHt(i, j) - WHHt) / HHt(j, j));
    }
  }
  const Matrix WtA = multiply(transpose(W), A);
  const Matrix WtW = multiply(transpose(W), W);
  const double h_negligible = 1e-12 * WtW.diagonal().maxCoeff();
  for (Index j = 0; j < k; ++j) {
    if (WtW(j, j) <= h_negligible) continue;
    for (Index c = 0; c < H.cols(); ++c) {
      double WtWH = 0;
      for (Index l = 0; l < k; ++l) WtWH += WtW(j, l) * H(l, c);
      H(j, c) = std::max(0.0, H(j, c) + (WtA(j, c) - WtWH) / WtW(j, j));
    }
  }
}

Matrix nnls_brute_force(const Matrix& F, const Matrix& a) {
  const Index k = F.cols();
  Matrix best = Matrix::Zero(k, 1);
  double best_residual = (a - F * best).squaredNorm();
  for (unsigned mask = 1; mask < (1u << k); ++mask) {
    std::vector<Index> support;
    for (Index j = 0; j < k; ++j)
      if (mask & (1u << j)) support.push_back(j);
    Matrix Fs(F.rows(), static_cast<Index>(support.size()));
    for (std::size_t s = 0; s < support.size(); ++s)
      Fs.col(static_cast<Index>(s)) = F.col(support[s]);
    const Matrix xs = Fs.colPivHouseholderQr().solve(a);
    if ((xs.array() < 0).any()) continue;
    Matrix x = Matrix::Zero(k, 1);
    for (std::size_t s = 0; s < support.size(); ++s)
      x(support[s], 0) = xs(static_cast<Index>(s), 0);
    const double residual = (a - F * x).squaredNorm();
    if (residual < best_residual) {
      best_residual = residual;
      best = x;
    }
  }
  return best;
}

void anls_iteration(const Matrix& A, Matrix& W, Matrix& H) {
  const Matrix Ht = transpose(H);
  for (Index i = 0; i < W.rows(); ++i) {
    W.row(i) = transpose(nnls_brute_force(Ht, transpose(A.row(i))));
  }
  for (Index c = 0; c < H.cols(); ++c) H.col(c) = nnls_brute_force(W, A.col(c));
}

}  // namespace naive

namespace naive {

double kl_divergence(const Matrix& A, const Matrix& W, const Matrix& H) {
  const Matrix WH = multiply(W, H);
  double total = 0;
  for (Index i = 0; i < A.rows(); ++i)
    for (Index j = 0; j < A.cols(); ++j) {
      if (A(i, j) > 0) total += A(i, j) * std::log(A(i, j) / WH(i, j));
      total += WH(i, j) - A(i, j);
    }
  return total;
}

void kl_mu_iteration(const Matrix& A, Matrix& W, Matrix& H) {
  // Lee & Seung (2001), eq. (5): W_ia <- W_ia Σ_j H_aj A_ij/(WH)_ij / Σ_j H_aj, then H likewise.
  Matrix WH = multiply(W, H);
  Matrix W_new = W;
  for (Index i = 0; i < W.rows(); ++i)
    for (Index a = 0; a < W.cols(); ++a) {
      double numerator = 0, denominator = 0;
      for (Index j = 0; j < A.cols(); ++j) {
        if (A(i, j) > 0) numerator += H(a, j) * A(i, j) / WH(i, j);  // 0 / 0 counts as 0
        denominator += H(a, j);
      }
      W_new(i, a) = W(i, a) * numerator / denominator;
    }
  W = W_new;
  WH = multiply(W, H);
  Matrix H_new = H;
  for (Index a = 0; a < H.rows(); ++a)
    for (Index j = 0; j < H.cols(); ++j) {
      double numerator = 0, denominator = 0;
      for (Index i = 0; i < A.rows(); ++i) {
        if (A(i, j) > 0) numerator += W(i, a) * A(i, j) / WH(i, j);
        denominator += W(i, a);
      }
      H_new(a, j) = H(a, j) * numerator / denominator;
    }
  H = H_new;
}

void kl_mu_w_step(const Matrix& A, Matrix& W, const Matrix& H, double l1, double l2) {
  const Matrix WH = multiply(W, H);
  for (Index i = 0; i < W.rows(); ++i)
    for (Index a = 0; a < W.cols(); ++a) {
      double numerator = 0, denominator = l1 + l2 * W(i, a);
      for (Index j = 0; j < A.cols(); ++j) {
        if (A(i, j) > 0) numerator += H(a, j) * A(i, j) / WH(i, j);
        denominator += H(a, j);
      }
      W(i, a) *= numerator / denominator;
    }
}

void nndsvd(const Matrix& A, Index k, ZeroFill fill, const Matrix& w_noise, const Matrix& h_noise,
            Matrix& W, Matrix& H) {
  const Index m = A.rows();
  const Index n = A.cols();
  const Eigen::JacobiSVD<Matrix> svd(A, Eigen::ComputeFullU | Eigen::ComputeFullV);
  const Matrix& U = svd.matrixU();
  const Matrix& V = svd.matrixV();
  const auto& S = svd.singularValues();
  W = Matrix::Zero(m, k);
  H = Matrix::Zero(k, n);
  for (Index i = 0; i < m; ++i) W(i, 0) = std::sqrt(S(0)) * std::fabs(U(i, 0));
  for (Index c = 0; c < n; ++c) H(0, c) = std::sqrt(S(0)) * std::fabs(V(c, 0));
  for (Index j = 1; j < k; ++j) {
    std::vector<double> x_p(m), x_n(m), y_p(n), y_n(n);
    double x_p_norm = 0, x_n_norm = 0, y_p_norm = 0, y_n_norm = 0;
    for (Index i = 0; i < m; ++i) {
      x_p[i] = std::max(U(i, j), 0.0);
      x_n[i] = std::fabs(std::min(U(i, j), 0.0));
      x_p_norm += x_p[i] * x_p[i];
      x_n_norm += x_n[i] * x_n[i];
    }
    for (Index c = 0; c < n; ++c) {
      y_p[c] = std::max(V(c, j), 0.0);
      y_n[c] = std::fabs(std::min(V(c, j), 0.0));
      y_p_norm += y_p[c] * y_p[c];
      y_n_norm += y_n[c] * y_n[c];
    }
    x_p_norm = std::sqrt(x_p_norm);
    x_n_norm = std::sqrt(x_n_norm);
    y_p_norm = std::sqrt(y_p_norm);
    y_n_norm = std::sqrt(y_n_norm);
    const double m_p = x_p_norm * y_p_norm;
    const double m_n = x_n_norm * y_n_norm;
    const bool positive = m_p > m_n;
    const double sigma = positive ? m_p : m_n;
    if (sigma == 0) continue;  // scikit-learn would divide 0 by 0 here
    const double lambda = std::sqrt(S(j) * sigma);
    for (Index i = 0; i < m; ++i)
      W(i, j) = lambda * (positive ? x_p[i] / x_p_norm : x_n[i] / x_n_norm);
    for (Index c = 0; c < n; ++c)
      H(j, c) = lambda * (positive ? y_p[c] / y_p_norm : y_n[c] / y_n_norm);
  }
  double mean = 0;
  for (Index i = 0; i < m; ++i)
    for (Index c = 0; c < n; ++c) mean += A(i, c);
  mean /= static_cast<double>(m * n);
  const auto finish = [&](double& entry, double noise) {
    if (entry < 1e-6) entry = 0;
    if (entry != 0) return;
    if (fill == ZeroFill::Mean) entry = mean;
    if (fill == ZeroFill::ScaledNoise) entry = mean / 100 * noise;
  };
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j < k; ++j) finish(W(i, j), w_noise(i, j));
  for (Index j = 0; j < k; ++j)
    for (Index c = 0; c < n; ++c) finish(H(j, c), h_noise(j, c));
}

}  // namespace naive

namespace naive {

namespace {

/// Σ_l W(i, l) H(l, j).
double product_entry(const Matrix& W, const Matrix& H, Index i, Index j) {
  double sum = 0;
  for (Index l = 0; l < W.cols(); ++l) sum += W(i, l) * H(l, j);
  return sum;
}

bool row_observed(const Matrix& M, Index i) { return M.row(i).sum() > 0; }

}  // namespace

double masked_squared_residual(const Matrix& A, const Matrix& M, const Matrix& W, const Matrix& H) {
  double sum = 0;
  for (Index i = 0; i < A.rows(); ++i)
    for (Index j = 0; j < A.cols(); ++j) {
      if (M(i, j) == 0) continue;
      const double r = A(i, j) - product_entry(W, H, i, j);
      sum += r * r;
    }
  return sum;
}

double masked_kl_divergence(const Matrix& A, const Matrix& M, const Matrix& W, const Matrix& H) {
  double total = 0;
  for (Index i = 0; i < A.rows(); ++i)
    for (Index j = 0; j < A.cols(); ++j) {
      if (M(i, j) == 0) continue;
      const double wh = product_entry(W, H, i, j);
      if (A(i, j) > 0) total += A(i, j) * std::log(A(i, j) / wh);
      total += wh - A(i, j);
    }
  return total;
}

namespace {

// Each masked update of W's rows given H; H's update is the same on the transposes (the rows of
// Hᵀ fit the columns of A), which masked_iteration does.

void masked_mu_rows(const Matrix& A, const Matrix& M, Matrix& W, const Matrix& H) {
  const Matrix W_old = W;
  for (Index i = 0; i < W.rows(); ++i)
    for (Index a = 0; a < W.cols(); ++a) {
      double numerator = 0, denominator = 0;
      for (Index j = 0; j < A.cols(); ++j) {
        numerator += M(i, j) * A(i, j) * H(a, j);
        denominator += M(i, j) * product_entry(W_old, H, i, j) * H(a, j);
      }
      W(i, a) = row_observed(M, i) ? W_old(i, a) * numerator / std::max(denominator, 1e-16) : 0.0;
    }
}

void masked_hals_rows(const Matrix& A, const Matrix& M, Matrix& W, const Matrix& H) {
  // Exact coordinate descent on Σ M (A - WH)², row after row, coordinate after coordinate.
  for (Index i = 0; i < W.rows(); ++i) {
    if (!row_observed(M, i)) {
      W.row(i).setZero();
      continue;
    }
    Matrix curvature = Matrix::Zero(W.cols(), 1);
    for (Index a = 0; a < W.cols(); ++a)
      for (Index j = 0; j < A.cols(); ++j) curvature(a, 0) += M(i, j) * H(a, j) * H(a, j);
    const double negligible = 1e-12 * curvature.maxCoeff();  // as hals_iteration
    for (Index a = 0; a < W.cols(); ++a) {
      double gradient = 0;
      for (Index j = 0; j < A.cols(); ++j)
        gradient += M(i, j) * (A(i, j) - product_entry(W, H, i, j)) * H(a, j);
      if (curvature(a, 0) > negligible)
        W(i, a) = std::max(0.0, W(i, a) + gradient / curvature(a, 0));
    }
  }
}

void masked_anls_rows(const Matrix& A, const Matrix& M, Matrix& W, const Matrix& H) {
  const Index k = W.cols();
  for (Index i = 0; i < W.rows(); ++i) {
    std::vector<Index> observed;
    for (Index j = 0; j < A.cols(); ++j)
      if (M(i, j) != 0) observed.push_back(j);
    Matrix F(static_cast<Index>(observed.size()), k), a(static_cast<Index>(observed.size()), 1);
    for (std::size_t t = 0; t < observed.size(); ++t) {
      F.row(static_cast<Index>(t)) = H.col(observed[t]).transpose();
      a(static_cast<Index>(t), 0) = A(i, observed[t]);
    }
    W.row(i) = observed.empty() ? Matrix::Zero(1, k) : transpose(nnls_brute_force(F, a));
  }
}

void masked_kl_mu_rows(const Matrix& A, const Matrix& M, Matrix& W, const Matrix& H) {
  // Lee & Seung (2001), eq. (5), with the sums over the entries in the fit only.
  const Matrix W_old = W;
  for (Index i = 0; i < W.rows(); ++i)
    for (Index a = 0; a < W.cols(); ++a) {
      double numerator = 0, denominator = 0;
      for (Index j = 0; j < A.cols(); ++j) {
        if (M(i, j) == 0) continue;
        if (A(i, j) > 0) numerator += H(a, j) * A(i, j) / product_entry(W_old, H, i, j);
        denominator += H(a, j);
      }
      W(i, a) = row_observed(M, i) ? W_old(i, a) * numerator / std::max(denominator, 1e-16) : 0.0;
    }
}

using MaskedRows = void (*)(const Matrix&, const Matrix&, Matrix&, const Matrix&);

/// The rows of W given H, then the rows of Hᵀ given Wᵀ on Aᵀ.
void masked_iteration(MaskedRows rows, const Matrix& A, const Matrix& M, Matrix& W, Matrix& H) {
  rows(A, M, W, H);
  Matrix Ht = transpose(H);
  rows(transpose(A), transpose(M), Ht, transpose(W));
  H = transpose(Ht);
}

}  // namespace

void masked_mu_iteration(const Matrix& A, const Matrix& M, Matrix& W, Matrix& H) {
  masked_iteration(masked_mu_rows, A, M, W, H);
}

void masked_hals_iteration(const Matrix& A, const Matrix& M, Matrix& W, Matrix& H) {
  masked_iteration(masked_hals_rows, A, M, W, H);
}

void masked_anls_iteration(const Matrix& A, const Matrix& M, Matrix& W, Matrix& H) {
  masked_iteration(masked_anls_rows, A, M, W, H);
}

void masked_kl_mu_iteration(const Matrix& A, const Matrix& M, Matrix& W, Matrix& H) {
  masked_iteration(masked_kl_mu_rows, A, M, W, H);
}

}  // namespace naive
