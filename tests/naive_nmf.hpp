#pragma once
// Independent, deliberately naive reference computations for the tests: explicit loops in the
// textbook layout (W is m x k, H is k x n), sharing no code with the library's solvers.

#include <cstdint>

#include "dnmf/core/matrix.hpp"

namespace naive {

using dnmf::Matrix;

/// A small nonnegative test matrix with entries from a seeded std::mt19937_64.
Matrix random_matrix(dnmf::Index rows, dnmf::Index cols, std::uint64_t seed);

/// A count-like matrix from random_matrix(rows, cols, seed): entries below `zero_below` become 0,
/// the others floor(scale * entry); row `zero_row` is entirely zero.
Matrix count_matrix(dnmf::Index rows, dnmf::Index cols, std::uint64_t seed, double zero_below,
                    double scale, dnmf::Index zero_row);

/// ||A - W H||_F^2 by explicit loops.
double squared_residual(const Matrix& A, const Matrix& W, const Matrix& H);

/// One Lee-Seung iteration (W then H), denominators guarded like the library (max(., 1e-16)).
void mu_iteration(const Matrix& A, Matrix& W, Matrix& H);

/// One HALS iteration in the textbook row/column order: for each component j, the whole column
/// W[:, j], then for each j the whole row H[j, :]. A component whose curvature is at most 1e-12
/// of the largest is skipped (nmf/update_rule.hpp: zero to working precision).
void hals_iteration(const Matrix& A, Matrix& W, Matrix& H);

/// One ANLS iteration with every NNLS solved by brute force over all 2^k supports.
void anls_iteration(const Matrix& A, Matrix& W, Matrix& H);

/// The generalized KL divergence Σ A log(A / WH) - A + WH (0 log 0 = 0), by explicit loops.
double kl_divergence(const Matrix& A, const Matrix& W, const Matrix& H);

/// One Lee-Seung KL iteration (W then H), by explicit loops over the dense A.
void kl_mu_iteration(const Matrix& A, Matrix& W, Matrix& H);

/// One Lee-Seung KL update of W alone (H fixed), penalised like scikit-learn:
/// W_ia <- W_ia Σ_j H_aj A_ij / (WH)_ij / (Σ_j H_aj + l1 + l2 W_ia), by explicit loops.
void kl_mu_w_step(const Matrix& A, Matrix& W, const Matrix& H, double l1, double l2);

/// The same over the entries where M (m x n) is nonzero: M marks the entries in the fit. A row of
/// W or column of H with no entry in the fit is set to zero.
double masked_squared_residual(const Matrix& A, const Matrix& M, const Matrix& W, const Matrix& H);
double masked_kl_divergence(const Matrix& A, const Matrix& M, const Matrix& W, const Matrix& H);
void masked_mu_iteration(const Matrix& A, const Matrix& M, Matrix& W, Matrix& H);
/// Exact coordinate descent on Σ M (A - WH)²: row by row of W, then column by column of H,
/// negligible curvatures skipped as in hals_iteration.
void masked_hals_iteration(const Matrix& A, const Matrix& M, Matrix& W, Matrix& H);
void masked_anls_iteration(const Matrix& A, const Matrix& M, Matrix& W, Matrix& H);
void masked_kl_mu_iteration(const Matrix& A, const Matrix& M, Matrix& W, Matrix& H);

/// argmin_{x >= 0} ||a - F x||_2 by enumerating every support (k <= ~10).
Matrix nnls_brute_force(const Matrix& F, const Matrix& a);

/// What NNDSVD's zeros become: kept, mean(A), or mean(A) / 100 times the given noise value.
enum class ZeroFill { Keep, Mean, ScaledNoise };

/// NNDSVD (Boutsidis & Gallopoulos 2008) line by line as scikit-learn's _initialize_nmf, from a
/// full dense SVD of A (Eigen::JacobiSVD) instead of a randomized one. W is m x k, H is k x n;
/// w_noise (m x k) and h_noise (k x n) are used by ZeroFill::ScaledNoise only.
void nndsvd(const Matrix& A, dnmf::Index k, ZeroFill fill, const Matrix& w_noise,
            const Matrix& h_noise, Matrix& W, Matrix& H);

}  // namespace naive
