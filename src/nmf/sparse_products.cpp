#include "dnmf/nmf/sparse_products.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "dnmf/core/parallel_for.hpp"

namespace dnmf::nmf {
namespace {

using Eigen::Index;

// The k-vectors are cut into slices of at most this many entries, each a fixed-size Eigen
// vector, so the compiler emits straight-line AVX code held in registers: 24 doubles are 6 AVX
// registers, and the gather kernel's two accumulator sets then take 12 of the 16.
constexpr int kMaxSliceWidth = 24;

// Nonzeros ahead whose H (or accumulator) slice is prefetched: the columns are random, so the
// hardware prefetcher cannot guess them, and H (k x n) is larger than L2 at realistic n.
constexpr int kPrefetchDistance = 8;

// Rows a thread takes at the least (core/parallel_for): a few microseconds of work at 0.1 %
// density, more than waking a thread costs.
constexpr Index kRowsPerChunk = 32;

// k-vectors longer than this (a batch of fits' stacked factors, nmf/solver.hpp: solve_batch) are
// taken whole: per nonzero one run along its contiguous vector, which the hardware prefetcher
// follows, instead of one pass over the block a slice, each pass a random access per nonzero
// into a factor that at such widths no longer fits in cache (10 fits of k = 30 on the sparse
// benchmark: 1.6 times slower than one fit after another with slices).
constexpr Index kWholeVectors = 4 * kMaxSliceWidth;

template <class Scalar, int Width>
using Slice = Eigen::Matrix<Scalar, Width, 1>;

template <class Scalar, int Width>
Eigen::Map<const Slice<Scalar, Width>> slice_at(const Scalar* data) {
  return Eigen::Map<const Slice<Scalar, Width>>(data);
}

template <class Scalar, int Width>
Eigen::Map<Slice<Scalar, Width>> slice_at(Scalar* data) {
  return Eigen::Map<Slice<Scalar, Width>>(data);
}

/// Brings the cache lines of the Width scalars at `data` towards L1.
template <class Scalar, int Width>
void prefetch_slice(const Scalar* data) {
  constexpr int bytes = Width * static_cast<int>(sizeof(Scalar));
  const char* first = reinterpret_cast<const char*>(data);
  for (int offset = 0; offset < bytes; offset += 64) __builtin_prefetch(first + offset);
  __builtin_prefetch(first + bytes - 1);
}

/// Calls kernel(std::integral_constant<int, width>) for a run-time width in [1, Width].
template <int Width, class Kernel>
void with_width(int width, Kernel& kernel) {
  if constexpr (Width > 0) {
    if (width == Width) {
      kernel(std::integral_constant<int, Width>{});
    } else {
      with_width<Width - 1>(width, kernel);
    }
  }
}

/// Calls kernel(width_constant, k0) for slices [k0, k0 + width) of [0, k), as few as
/// kMaxSliceWidth allows and of near-equal widths (k = 30: 15 + 15, not 24 + 6).
template <class Kernel>
void for_each_slice(Index k, Kernel&& kernel) {
  const Index slices = (k + kMaxSliceWidth - 1) / kMaxSliceWidth;
  Index k0 = 0;
  for (Index s = 0; s < slices; ++s) {
    const int width = static_cast<int>(k / slices + (s < k % slices ? 1 : 0));
    auto run = [&](auto width_constant) { kernel(width_constant, k0); };
    with_width<kMaxSliceWidth>(width, run);
    k0 += width;
  }
}

/// The raw compressed arrays of rows [row_begin, row_begin + row_count) of A.
template <class Scalar>
struct CsrArrays {
  CsrArrays(const CsrRows<Scalar>& A, Index row_begin, Index row_count)
      : starts(A.outerIndexPtr() + row_begin),
        columns(A.innerIndexPtr()),
        values(A.valuePtr()),
        last(std::max(starts[row_count] - 1, starts[0])) {
    if (!A.isCompressed()) throw std::logic_error("sparse products: A is not compressed");
  }
  const int* starts;  // row i's nonzeros are [starts[i], starts[i + 1])
  const int* columns;
  const Scalar* values;
  int last;  // the block's last nonzero, where prefetching stops
  int ahead(int p) const { return columns[std::min(p + kPrefetchDistance, last)]; }
};

/// out[k0 : k0 + Width, i] = Σ_p values[p] H[k0 : k0 + Width, columns[p]] over row i; two
/// accumulators (even and odd nonzeros) halve the chain of dependent FMAs.
template <class Scalar, int Width>
void gather_slice(const CsrArrays<Scalar>& A, Index row_count, const Scalar* H, Index h_stride,
                  Index k0, Scalar* out, Index out_stride) {
  const Scalar* const H_slice = H + k0;
  for (Index i = 0; i < row_count; ++i) {
    Slice<Scalar, Width> even = Slice<Scalar, Width>::Zero();
    Slice<Scalar, Width> odd = Slice<Scalar, Width>::Zero();
    int p = A.starts[i];
    const int end = A.starts[i + 1];
    for (; p + 1 < end; p += 2) {
      prefetch_slice<Scalar, Width>(H_slice + h_stride * A.ahead(p));
      prefetch_slice<Scalar, Width>(H_slice + h_stride * A.ahead(p + 1));
      even.noalias() += A.values[p] * slice_at<Scalar, Width>(H_slice + h_stride * A.columns[p]);
      odd.noalias() +=
          A.values[p + 1] * slice_at<Scalar, Width>(H_slice + h_stride * A.columns[p + 1]);
    }
    if (p < end) {
      even.noalias() += A.values[p] * slice_at<Scalar, Width>(H_slice + h_stride * A.columns[p]);
    }
    slice_at<Scalar, Width>(out + out_stride * i + k0) = even + odd;
  }
}

/// accumulator[k0 : k0 + Width, columns[p]] += values[p] Wt_b[k0 : k0 + Width, i] over row i.
template <class Scalar, int Width>
void scatter_slice(const CsrArrays<Scalar>& A, Index row_count, const Scalar* Wt_b, Index w_stride,
                   Index k0, Scalar* accumulator, Index accumulator_stride) {
  Scalar* const accumulator_slice = accumulator + k0;
  for (Index i = 0; i < row_count; ++i) {
    const Slice<Scalar, Width> w = slice_at<Scalar, Width>(Wt_b + w_stride * i + k0);
    for (int p = A.starts[i]; p < A.starts[i + 1]; ++p) {
      prefetch_slice<Scalar, Width>(accumulator_slice + accumulator_stride * A.ahead(p));
      slice_at<Scalar, Width>(accumulator_slice + accumulator_stride * A.columns[p]).noalias() +=
          A.values[p] * w;
    }
  }
}

/// out[:, i] = Σ_p values[p] H[:, columns[p]] over row i, the k-vectors whole.
template <class Scalar>
void gather_whole(const CsrArrays<Scalar>& A, Index row_count,
                  Eigen::Ref<const FactorColumns<Scalar>> H,
                  Eigen::Ref<FactorColumns<Scalar>> out) {
  for (Index i = 0; i < row_count; ++i) {
    auto sum = out.col(i);
    sum.setZero();
    for (int p = A.starts[i]; p < A.starts[i + 1]; ++p) {
      __builtin_prefetch(H.col(A.ahead(p)).data());
      sum.noalias() += A.values[p] * H.col(A.columns[p]);
    }
  }
}

/// accumulator[:, columns[p]] += values[p] Wt_b[:, i] over row i, the k-vectors whole.
template <class Scalar>
void scatter_whole(const CsrArrays<Scalar>& A, Index row_count,
                   Eigen::Ref<const FactorColumns<Scalar>> Wt_b,
                   Eigen::Ref<FactorColumns<Scalar>> accumulator) {
  for (Index i = 0; i < row_count; ++i) {
    const auto w = Wt_b.col(i);
    for (int p = A.starts[i]; p < A.starts[i + 1]; ++p) {
      __builtin_prefetch(accumulator.col(A.ahead(p)).data());
      accumulator.col(A.columns[p]).noalias() += A.values[p] * w;
    }
  }
}

/// products[p] (+)= Wt_b[k0 : k0 + Width, i] · H[k0 : k0 + Width, columns[p]] over row i; the
/// first slice assigns.
template <class Scalar, int Width>
void dot_slice(const CsrArrays<Scalar>& A, Index row_count, const Scalar* Wt_b, Index w_stride,
               const Scalar* H, Index h_stride, Index k0, Scalar* products) {
  const Scalar* const H_slice = H + k0;
  for (Index i = 0; i < row_count; ++i) {
    const Slice<Scalar, Width> w = slice_at<Scalar, Width>(Wt_b + w_stride * i + k0);
    for (int p = A.starts[i]; p < A.starts[i + 1]; ++p) {
      prefetch_slice<Scalar, Width>(H_slice + h_stride * A.ahead(p));
      const Scalar dot = w.dot(slice_at<Scalar, Width>(H_slice + h_stride * A.columns[p]));
      products[p] = k0 == 0 ? dot : products[p] + dot;
    }
  }
}

}  // namespace

template <class Scalar>
void sparse_rows_times_transposed(const CsrRows<Scalar>& A, Index row_begin, Index row_count,
                                  Eigen::Ref<const FactorColumns<Scalar>> H,
                                  Eigen::Ref<FactorColumns<Scalar>> out) {
  // Each row's product alone: rows split among the kernel threads give the same bits.
  parallel_for(row_count, kRowsPerChunk, [&](Index begin, Index end) {
    const CsrArrays<Scalar> arrays(A, row_begin + begin, end - begin);
    if (H.rows() > kWholeVectors) {
      gather_whole<Scalar>(arrays, end - begin, H, out.middleCols(begin, end - begin));
      return;
    }
    for_each_slice(H.rows(), [&](auto width, Index k0) {
      gather_slice<Scalar, decltype(width)::value>(arrays, end - begin, H.data(), H.outerStride(),
                                                   k0, out.data() + out.outerStride() * begin,
                                                   out.outerStride());
    });
  });
}

template <class Scalar>
void add_product_with_sparse_rows(const CsrRows<Scalar>& A, Index row_begin, Index row_count,
                                  Eigen::Ref<const FactorColumns<Scalar>> Wt_b,
                                  Eigen::Ref<FactorColumns<Scalar>> accumulator) {
  const CsrArrays<Scalar> arrays(A, row_begin, row_count);
  if (Wt_b.rows() > kWholeVectors) {
    scatter_whole<Scalar>(arrays, row_count, Wt_b, accumulator);
    return;
  }
  for_each_slice(Wt_b.rows(), [&](auto width, Index k0) {
    scatter_slice<Scalar, decltype(width)::value>(arrays, row_count, Wt_b.data(),
                                                  Wt_b.outerStride(), k0, accumulator.data(),
                                                  accumulator.outerStride());
  });
}

template <class Scalar>
double divide_sparse_rows_by_product(const CsrRows<Scalar>& A, Index row_begin, Index row_count,
                                     Eigen::Ref<const FactorColumns<Scalar>> Wt_b,
                                     Eigen::Ref<const FactorColumns<Scalar>> H, Scalar guard,
                                     CsrRows<Scalar>& ratio) {
  const CsrArrays<Scalar> arrays(A, row_begin, row_count);
  if (!ratio.isCompressed() || ratio.nonZeros() != A.nonZeros()) {
    throw std::logic_error("divide_sparse_rows_by_product: ratio has not A's pattern");
  }
  // (W H)_ij at every nonzero of the block, written where the ratio goes.
  Scalar* const products = ratio.valuePtr();
  parallel_for(row_count, kRowsPerChunk, [&](Index begin, Index end) {
    const CsrArrays<Scalar> rows(A, row_begin + begin, end - begin);
    for_each_slice(H.rows(), [&](auto width, Index k0) {
      dot_slice<Scalar, decltype(width)::value>(
          rows, end - begin, Wt_b.data() + Wt_b.outerStride() * begin, Wt_b.outerStride(), H.data(),
          H.outerStride(), k0, products);
    });
  });
  // Then, vectorised over the block's nonzeros (A >= 0): Σ A (log A - log max(WH, guard)), as
  // the difference of the logs because A / WH underflows to 0 for a tiny A (1e-323) and an
  // ordinary WH; a stored zero adds 0 (select, not 0 · -inf). Then ratio = A / max(WH, guard),
  // which is 0 at a stored zero.
  const Index first = arrays.starts[0];
  const Index count = arrays.starts[row_count] - first;
  using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
  const Eigen::Map<const Array> a(arrays.values + first, count);
  Eigen::Map<Array> q(products + first, count);
  const double log_sum = (a > Scalar(0))
                             .select(a * (a.log() - q.max(guard).log()), Scalar(0))
                             .template cast<double>()
                             .sum();
  q = a / q.max(guard);
  return log_sum;
}

template void sparse_rows_times_transposed<float>(const CsrRows<float>&, Index, Index,
                                                  Eigen::Ref<const FactorColumns<float>>,
                                                  Eigen::Ref<FactorColumns<float>>);
template void sparse_rows_times_transposed<double>(const CsrRows<double>&, Index, Index,
                                                   Eigen::Ref<const FactorColumns<double>>,
                                                   Eigen::Ref<FactorColumns<double>>);
template void add_product_with_sparse_rows<float>(const CsrRows<float>&, Index, Index,
                                                  Eigen::Ref<const FactorColumns<float>>,
                                                  Eigen::Ref<FactorColumns<float>>);
template void add_product_with_sparse_rows<double>(const CsrRows<double>&, Index, Index,
                                                   Eigen::Ref<const FactorColumns<double>>,
                                                   Eigen::Ref<FactorColumns<double>>);
template double divide_sparse_rows_by_product<float>(const CsrRows<float>&, Index, Index,
                                                     Eigen::Ref<const FactorColumns<float>>,
                                                     Eigen::Ref<const FactorColumns<float>>, float,
                                                     CsrRows<float>&);
template double divide_sparse_rows_by_product<double>(const CsrRows<double>&, Index, Index,
                                                      Eigen::Ref<const FactorColumns<double>>,
                                                      Eigen::Ref<const FactorColumns<double>>,
                                                      double, CsrRows<double>&);

}  // namespace dnmf::nmf
