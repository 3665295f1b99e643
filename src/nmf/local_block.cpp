#include "dnmf/nmf/local_block.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "dnmf/nmf/input_scaling.hpp"
#include "dnmf/nmf/row_parts.hpp"
#include "dnmf/nmf/sparse_products.hpp"

namespace dnmf::nmf {
namespace {

// Guards the KL ratio where (W H)_ij is exactly zero at a nonzero of A.
constexpr double kProductGuard = 1e-16;

/// Sets ratio = a / (W H)_ij (guarded) and returns the entry's a log(a / (W H)_ij); a > 0. As
/// a (log a - log wh), not a log(a / wh): the quotient of a tiny a (1e-323) and an ordinary wh
/// underflows to 0, whose log is -inf, while the difference of the logs is exact enough.
template <class Scalar>
double kl_entry(double a, double product, Scalar& ratio) {
  const double guarded = std::max(product, kProductGuard);
  ratio = static_cast<Scalar>(a / guarded);
  return a * (std::log(a) - std::log(guarded));
}

/// Σ term(values[i]) in double, in an order fixed by i alone. Eigen's reduction of a Map starts
/// its packets at the first aligned address, so its order, and the sum's last bits, would follow
/// where the heap put a sparse block's values: Σ A sets the random start, so every factor would.
template <class Scalar, class Term>
double sum_in_index_order(const Scalar* values, Index count, Term term) {
  constexpr Index kLanes = 8;  // independent partial sums, which the compiler vectorizes
  std::array<double, kLanes> partial{};
  Index i = 0;
  for (; i + kLanes <= count; i += kLanes)
    for (Index lane = 0; lane < kLanes; ++lane)
      partial[lane] += term(static_cast<double>(values[i + lane]));
  for (Index lane = 0; i < count; ++i, ++lane)
    partial[lane] += term(static_cast<double>(values[i]));
  double total = 0;
  for (const double sum : partial) total += sum;
  return total;
}

template <class Values>
Values& values_of(LocalBlockT<typename Values::Scalar>& ratio) {
  auto* block = dynamic_cast<StoredBlock<Values>*>(&ratio);
  if (block == nullptr)
    throw std::logic_error("divide_by_product: ratio not made by same_pattern()");
  return block->values();
}

}  // namespace

// The operations for each storage, in any Scalar: StoredBlock's members call the overload that
// matches their Values.
namespace storage {

template <class Scalar>
Index stored_entries(const RowMatrixT<Scalar>& values) {
  return values.size();
}

template <class Scalar>
Index stored_entries(const SparseRowMatrixT<Scalar>& values) {
  return values.nonZeros();
}

/// The stored values, contiguous (a sparse block is kept compressed, see StoredBlock).
template <class Scalar>
const Scalar* stored_values(const RowMatrixT<Scalar>& values) {
  return values.data();
}

template <class Scalar>
const Scalar* stored_values(const SparseRowMatrixT<Scalar>& values) {
  return values.valuePtr();
}

template <class Scalar>
Scalar* stored_values(RowMatrixT<Scalar>& values) {
  return values.data();
}

template <class Scalar>
Scalar* stored_values(SparseRowMatrixT<Scalar>& values) {
  return values.valuePtr();
}

template <class Scalar>
void times_transposed_rows(const RowMatrixT<Scalar>& values, const MatrixT<Scalar>& H,
                           Index row_begin, Index row_count, Eigen::Ref<MatrixT<Scalar>> out) {
  out.noalias() = H * values.middleRows(row_begin, row_count).transpose();
}

template <class Scalar>
void add_product_with_rows(const RowMatrixT<Scalar>& values, Eigen::Ref<const MatrixT<Scalar>> Wt_b,
                           Index row_begin, Index row_count, MatrixT<Scalar>& accumulator) {
  accumulator.noalias() += Wt_b * values.middleRows(row_begin, row_count);
}

template <class Scalar>
double residual_squared_norm(const RowMatrixT<Scalar>& values, const MatrixT<Scalar>& Wt,
                             const MatrixT<Scalar>& H) {
  // W_b H in Scalar, a block of rows at a time; the differences and their squares summed in double,
  // a sum a part.
  return RowParts(values.rows()).sum_over_blocks([&](Index, Index row, Index rows) {
    return (values.middleRows(row, rows).template cast<double>() -
            (Wt.middleCols(row, rows).transpose() * H).template cast<double>())
        .squaredNorm();
  });
}

template <class Scalar>
RowMatrixT<Scalar> same_pattern(const RowMatrixT<Scalar>& values) {
  return RowMatrixT<Scalar>(values.rows(), values.cols());
}

template <class Scalar>
double divide_by_product(const RowMatrixT<Scalar>& values, Eigen::Ref<const MatrixT<Scalar>> Wt_b,
                         const MatrixT<Scalar>& H, Index row_begin, Index row_count,
                         RowMatrixT<Scalar>& ratio) {
  auto out = ratio.middleRows(row_begin, row_count);
  out.noalias() = Wt_b.transpose() * H;
  double log_sum = 0;
  for (Index i = 0; i < row_count; ++i) {
    for (Index j = 0; j < values.cols(); ++j) {
      const double a = values(row_begin + i, j);
      if (a > 0) {
        log_sum += kl_entry(a, out(i, j), out(i, j));
      } else {
        out(i, j) = 0;
      }
    }
  }
  return log_sum;
}

template <class Scalar>
void times_transposed_rows(const SparseRowMatrixT<Scalar>& values, const MatrixT<Scalar>& H,
                           Index row_begin, Index row_count, Eigen::Ref<MatrixT<Scalar>> out) {
  sparse_rows_times_transposed<Scalar>(values, row_begin, row_count, H, out);
}

template <class Scalar>
void add_product_with_rows(const SparseRowMatrixT<Scalar>& values,
                           Eigen::Ref<const MatrixT<Scalar>> Wt_b, Index row_begin, Index row_count,
                           MatrixT<Scalar>& accumulator) {
  add_product_with_sparse_rows<Scalar>(values, row_begin, row_count, Wt_b, accumulator);
}

template <class Scalar>
double residual_squared_norm(const SparseRowMatrixT<Scalar>& values, const MatrixT<Scalar>& Wt,
                             const MatrixT<Scalar>& H) {
  // Row i, p = w_i H: ||a_i - p||² = Σ_stored (a_ij - p_j)² + Σ_not stored p_j², and the second
  // sum is ||p||² - Σ_stored p_j² with ||p||² = w_i (H Hᵀ) w_iᵀ. That is O(nnz k + (m + n) k²)
  // where forming every row of W H is O(m n k) (longer than 30 MU iterations on a 100000 x 10000
  // matrix at 0.5%). All in double. The subtraction loses digits when nearly all of ||p||² lies
  // on the stored entries (a factorization exact on A's pattern leaves k * 1e-16 of ||p||², 1e-8
  // in the relative error): a row where it leaves less than kKeptShare of ||p||² is formed
  // directly instead, as the dense path does.
  constexpr double kKeptShare = 1e-6;
  const Index k = H.rows();
  constexpr Index kColumnsPerChunk = 4096;  // H in double a chunk at a time
  MatrixT<double> gram = MatrixT<double>::Zero(k, k);
  for (Index first = 0; first < H.cols(); first += kColumnsPerChunk) {
    const MatrixT<double> chunk =
        H.middleCols(first, std::min(kColumnsPerChunk, H.cols() - first)).template cast<double>();
    gram.noalias() += chunk * chunk.transpose();
  }
  VectorT<double> w(k);
  VectorT<double> gram_w(k);
  VectorT<Scalar> row(H.cols());
  double total = 0;
  for (Index i = 0; i < values.rows(); ++i) {
    w = Wt.col(i).template cast<double>();
    gram_w.noalias() = gram * w;
    const double row_norm = w.dot(gram_w);
    double stored_residual = 0;
    double stored_product = 0;
    for (typename SparseRowMatrixT<Scalar>::InnerIterator it(values, i); it; ++it) {
      const double product = w.dot(H.col(it.col()).template cast<double>());
      const double difference = static_cast<double>(it.value()) - product;
      stored_residual += difference * difference;
      stored_product += product * product;
    }
    const double unstored = row_norm - stored_product;
    if (unstored >= kKeptShare * row_norm) {
      total += stored_residual + unstored;
      continue;
    }
    row.noalias() = H.transpose() * Wt.col(i);
    for (typename SparseRowMatrixT<Scalar>::InnerIterator it(values, i); it; ++it) {
      row(it.col()) -= it.value();
    }
    total += row.template cast<double>().squaredNorm();
  }
  return total;
}

template <class Scalar>
SparseRowMatrixT<Scalar> same_pattern(const SparseRowMatrixT<Scalar>& values) {
  return values;
}

template <class Scalar>
double divide_by_product(const SparseRowMatrixT<Scalar>& values,
                         Eigen::Ref<const MatrixT<Scalar>> Wt_b, const MatrixT<Scalar>& H,
                         Index row_begin, Index row_count, SparseRowMatrixT<Scalar>& ratio) {
  return divide_sparse_rows_by_product<Scalar>(values, row_begin, row_count, Wt_b, H,
                                               static_cast<Scalar>(kProductGuard), ratio);
}

}  // namespace storage

template <class Values>
StoredBlock<Values>::StoredBlock(Values values) : values_(std::move(values)) {
  if constexpr (std::is_same_v<Values, SparseRowMatrixT<Scalar>>) values_.makeCompressed();
}

template <class Values>
void StoredBlock<Values>::times_transposed_rows(const MatrixT<Scalar>& H, Index row_begin,
                                                Index row_count,
                                                Eigen::Ref<MatrixT<Scalar>> out) const {
  storage::times_transposed_rows(values_, H, row_begin, row_count, out);
}

template <class Values>
void StoredBlock<Values>::add_product_with_rows(Eigen::Ref<const MatrixT<Scalar>> Wt_b,
                                                Index row_begin, Index row_count,
                                                MatrixT<Scalar>& accumulator) const {
  storage::add_product_with_rows(values_, Wt_b, row_begin, row_count, accumulator);
}

template <class Values>
double StoredBlock<Values>::residual_squared_norm(const MatrixT<Scalar>& Wt,
                                                  const MatrixT<Scalar>& H) const {
  return storage::residual_squared_norm(values_, Wt, H);
}

template <class Values>
std::unique_ptr<LocalBlockT<typename Values::Scalar>> StoredBlock<Values>::same_pattern() const {
  return std::make_unique<StoredBlock>(storage::same_pattern(values_));
}

template <class Values>
double StoredBlock<Values>::divide_by_product(Eigen::Ref<const MatrixT<Scalar>> Wt_b,
                                              const MatrixT<Scalar>& H, Index row_begin,
                                              Index row_count, Base& ratio) const {
  return storage::divide_by_product(values_, Wt_b, H, row_begin, row_count,
                                    values_of<Values>(ratio));
}

template <class Values>
double StoredBlock<Values>::sum() const {
  return sum_in_index_order(storage::stored_values(values_), storage::stored_entries(values_),
                            [](double a) { return a; });
}

template <class Values>
double StoredBlock<Values>::squared_norm() const {
  return sum_in_index_order(storage::stored_values(values_), storage::stored_entries(values_),
                            [](double a) { return a * a; });
}

template <class Values>
double StoredBlock<Values>::largest_entry() const {
  const Scalar* values = storage::stored_values(values_);
  const Index count = storage::stored_entries(values_);
  return count == 0 ? 0.0 : static_cast<double>(*std::max_element(values, values + count));
}

template <class Values>
void StoredBlock<Values>::scale_by_power_of_two(int exponent) {
  nmf::scale_by_power_of_two(storage::stored_values(values_), storage::stored_entries(values_),
                             exponent);
}

template <class Values>
void StoredBlock<Values>::take_out_entries(const std::function<bool(Index, Index, Scalar)>& take) {
  if constexpr (std::is_same_v<Values, RowMatrixT<Scalar>>) {
    for (Index row = 0; row < values_.rows(); ++row)
      for (Index col = 0; col < values_.cols(); ++col)
        if (take(row, col, values_(row, col))) values_(row, col) = 0;
  } else {
    for (Index row = 0; row < values_.outerSize(); ++row)
      for (typename Values::InnerIterator entry(values_, row); entry; ++entry)
        if (take(row, entry.col(), entry.value())) entry.valueRef() = 0;
  }
}

template <class Values>
void StoredBlock<Values>::put_back_entries(const SparseRowMatrixT<Scalar>& entries) {
  for (Index row = 0; row < entries.outerSize(); ++row) {
    if constexpr (std::is_same_v<Values, RowMatrixT<Scalar>>) {
      for (typename SparseRowMatrixT<Scalar>::InnerIterator entry(entries, row); entry; ++entry)
        values_(row, entry.col()) = entry.value();
    } else {
      // Both rows are in column order and `entries` lies within the pattern: one merge.
      typename Values::InnerIterator stored(values_, row);
      for (typename SparseRowMatrixT<Scalar>::InnerIterator entry(entries, row); entry; ++entry) {
        while (stored && stored.col() < entry.col()) ++stored;
        if (!stored || stored.col() != entry.col()) {
          throw std::logic_error("put_back_entries: an entry outside the pattern");
        }
        stored.valueRef() = entry.value();
      }
    }
  }
}

template <class Values>
Index StoredBlock<Values>::stored_entries() const {
  return storage::stored_entries(values_);
}

template <class Values>
double StoredBlock<Values>::product_flops(Index rank) const {
  return 4.0 * static_cast<double>(storage::stored_entries(values_)) * static_cast<double>(rank);
}

template <class Values>
Index StoredBlock<Values>::stacked_fits(Index rank) const {
  if constexpr (std::is_same_v<Values, RowMatrixT<Scalar>>) {
    return std::numeric_limits<Index>::max();
  } else {
    const double one_fit = static_cast<double>(rank) * static_cast<double>(values_.cols()) *
                           static_cast<double>(sizeof(Scalar));
    return std::max<Index>(1, static_cast<Index>(kSparseStackBytes / one_fit));
  }
}

template class StoredBlock<RowMatrixT<float>>;
template class StoredBlock<RowMatrixT<double>>;
template class StoredBlock<SparseRowMatrixT<float>>;
template class StoredBlock<SparseRowMatrixT<double>>;

}  // namespace dnmf::nmf
