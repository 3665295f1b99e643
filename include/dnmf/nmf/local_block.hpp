#pragma once
// "My rows of A": the few operations the solvers need from a rank's block of the input, so every
// solver is written once for any storage: dense (row-major, as HDF5 stores it) or sparse CSR,
// in float or double (Scalar: the type of A's values and of the factors).
// Row ranges [row_begin, row_begin + row_count) are local to the block.
//
// The products are in Scalar (sgemm for float); every sum that returns a double (the
// residual, the KL log sum, Σ A and ||A||²) is accumulated in double whatever Scalar is.

#include <functional>
#include <memory>

#include "dnmf/core/matrix.hpp"
#include "dnmf/core/sparse_matrix.hpp"

namespace dnmf::nmf {

/// Rows of A per call of the operations below, as every pass over A streams them (the solver's
/// W update, transform, the truncated SVD): big enough for efficient GEMMs, small enough that
/// the block (rows x n values) is still in cache when Wt_b A_b reads it again.
inline constexpr Index kRowsPerBlock = 256;

template <class Scalar>
class LocalBlockT {
 public:
  virtual ~LocalBlockT() = default;
  virtual Index rows() const = 0;
  virtual Index cols() const = 0;
  /// out (k x row_count) = H * A_bᵀ, i.e. (A_b Hᵀ)ᵀ, for H (k x n).
  virtual void times_transposed_rows(const MatrixT<Scalar>& H, Index row_begin, Index row_count,
                                     Eigen::Ref<MatrixT<Scalar>> out) const = 0;
  /// accumulator (k x n) += Wt_b * A_b, for Wt_b (k x row_count).
  virtual void add_product_with_rows(Eigen::Ref<const MatrixT<Scalar>> Wt_b, Index row_begin,
                                     Index row_count, MatrixT<Scalar>& accumulator) const = 0;
  /// ||A - W H||_F^2 over all the block's rows, for W given as Wt (k x rows), without the Gram
  /// trick's cancellation against ||A||^2: dense A row by row of W H, directly; sparse A at its
  /// stored entries, plus w_i H H^T w_i^T minus the stored entries' share (see local_block.cpp).
  virtual double residual_squared_norm(const MatrixT<Scalar>& Wt,
                                       const MatrixT<Scalar>& H) const = 0;
  /// A block of the same shape and pattern of nonzeros (values unspecified), to hold a ratio.
  virtual std::unique_ptr<LocalBlockT> same_pattern() const = 0;
  /// The KL ratio at A's nonzeros (Lee & Seung 2001): ratio_b = A_b ⊘ (W_b H) where A_b > 0 and 0
  /// elsewhere, for `ratio` made by same_pattern(). Returns Σ_{A_ij > 0} A_ij log(A_ij / (WH)_ij)
  /// over these rows. W H is evaluated only at A's nonzeros for a sparse block (O(nnz_b k)).
  virtual double divide_by_product(Eigen::Ref<const MatrixT<Scalar>> Wt_b, const MatrixT<Scalar>& H,
                                   Index row_begin, Index row_count, LocalBlockT& ratio) const = 0;
  virtual double sum() const = 0;
  virtual double squared_norm() const = 0;
  /// The largest stored value (0 for a block without stored values).
  virtual double largest_entry() const = 0;
  /// Every value times 2^exponent (see nmf/input_scaling.hpp).
  virtual void scale_by_power_of_two(int exponent) = 0;
  /// Calls take(row, column, value) for every stored entry, row by row and in column order
  /// within a row (row local); the entries for which it returns true are set to 0: they leave
  /// the problem (missing or held out, nmf/entry_mask.hpp). A sparse block keeps its pattern.
  virtual void take_out_entries(const std::function<bool(Index, Index, Scalar)>& take) = 0;
  /// Sets the block's entries at the stored entries of `entries` (rows x cols, within a sparse
  /// block's pattern) to their values: undoes take_out_entries for the values it kept (dnmf
  /// sweep puts one replicate's held-out entries back before drawing the next one's).
  virtual void put_back_entries(const SparseRowMatrixT<Scalar>& entries) = 0;
  /// Values the block stores (rows x cols dense, the nonzeros sparse).
  virtual Index stored_entries() const = 0;
  /// Multiply-adds in the two big products of one iteration, times two (flops).
  virtual double product_flops(Index rank) const = 0;
  /// The most fits of rank k whose factors the products should take stacked at once
  /// (solve_batch): a dense block's any number (its GEMM blocks for the caches itself); a sparse
  /// block's as many as keep the stacked H within kSparseStackBytes.
  virtual Index stacked_fits(Index rank) const = 0;
};

/// A sparse product reads a k-vector of H at random for every nonzero: a stack of fits' H's
/// beyond the caches makes them slower than the fits one after another. Measured on the sparse
/// benchmark (100000 x 10000 at 0.5 %, 2 ranks; 1 MiB L2 a core, 32 MiB L3), sweep time
/// against one fit at a time: k = 30, stacks of 2, 3, 5, 10 fits (4.6 to 23 MiB of H): 0.86,
/// 1.01, 1.18, 1.57; k = 10, 5 and 10 fits (3.8 and 7.6 MiB): 0.93, 0.89.
inline constexpr double kSparseStackBytes = 6.0 * 1024 * 1024;
using LocalBlock = LocalBlockT<double>;

/// A block stored as `Values`: RowMatrixT (dense, row-major as HDF5 stores it) or
/// SparseRowMatrixT (CSR, Eigen RowMajor: every operation costs O(nnz k), none densifies A), of
/// float or double. The operations are written once per storage in local_block.cpp.
template <class Values>
class StoredBlock final : public LocalBlockT<typename Values::Scalar> {
 public:
  using Scalar = typename Values::Scalar;
  using Base = LocalBlockT<Scalar>;

  /// A sparse block is stored compressed (makeCompressed).
  explicit StoredBlock(Values values);
  Index rows() const override { return values_.rows(); }
  Index cols() const override { return values_.cols(); }
  void times_transposed_rows(const MatrixT<Scalar>& H, Index row_begin, Index row_count,
                             Eigen::Ref<MatrixT<Scalar>> out) const override;
  void add_product_with_rows(Eigen::Ref<const MatrixT<Scalar>> Wt_b, Index row_begin,
                             Index row_count, MatrixT<Scalar>& accumulator) const override;
  double residual_squared_norm(const MatrixT<Scalar>& Wt, const MatrixT<Scalar>& H) const override;
  std::unique_ptr<Base> same_pattern() const override;
  double divide_by_product(Eigen::Ref<const MatrixT<Scalar>> Wt_b, const MatrixT<Scalar>& H,
                           Index row_begin, Index row_count, Base& ratio) const override;
  double sum() const override;
  double squared_norm() const override;
  double largest_entry() const override;
  void scale_by_power_of_two(int exponent) override;
  void take_out_entries(const std::function<bool(Index, Index, Scalar)>& take) override;
  void put_back_entries(const SparseRowMatrixT<Scalar>& entries) override;
  Index stored_entries() const override;
  double product_flops(Index rank) const override;
  Index stacked_fits(Index rank) const override;
  const Values& values() const { return values_; }
  Values& values() { return values_; }

 private:
  Values values_;
};

template <class Scalar>
using DenseBlockT = StoredBlock<RowMatrixT<Scalar>>;
template <class Scalar>
using SparseBlockT = StoredBlock<SparseRowMatrixT<Scalar>>;
using DenseBlock = DenseBlockT<double>;
using SparseBlock = SparseBlockT<double>;

// Defined and instantiated in local_block.cpp.
extern template class StoredBlock<RowMatrixT<float>>;
extern template class StoredBlock<RowMatrixT<double>>;
extern template class StoredBlock<SparseRowMatrixT<float>>;
extern template class StoredBlock<SparseRowMatrixT<double>>;

}  // namespace dnmf::nmf
