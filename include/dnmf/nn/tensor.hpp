#pragma once
// The data types every layer shares.
//
// A batch is a column-major matrix with one sample a column (features x batch). Buffers are
// allocated for the largest batch and a smaller batch uses their leading columns, which stay
// contiguous: no reallocation when the last batch of an epoch is short.
//
// An image sample is stored height, width, channel with the channel fastest (HWC). A 3x3 patch
// row is then kw*channels contiguous values (cheap im2col), a convolution's GEMM output
// (filters x positions, column-major) is already HWC, and Flatten costs nothing.

#include <Eigen/Core>
#include <string>

namespace dnmf::nn {

using Index = Eigen::Index;

template <typename Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

/// A read-only batch (features x batch, contiguous, column-major).
template <typename Scalar>
using BatchView = Eigen::Map<const Matrix<Scalar>>;
/// A writable batch (features x batch, contiguous, column-major).
template <typename Scalar>
using BatchMap = Eigen::Map<Matrix<Scalar>>;
/// A flat contiguous run of values: the parameter, gradient and optimizer-state buffers.
template <typename Scalar>
using FlatMap = Eigen::Map<Vector<Scalar>>;

/// The first `columns` columns of a buffer, as a batch.
template <typename Scalar>
BatchView<Scalar> leading_columns(const Matrix<Scalar>& buffer, Index columns) {
  return BatchView<Scalar>(buffer.data(), buffer.rows(), columns);
}
template <typename Scalar>
BatchMap<Scalar> leading_columns(Matrix<Scalar>& buffer, Index columns) {
  return BatchMap<Scalar>(buffer.data(), buffer.rows(), columns);
}

/// The read-only view of a writable batch.
template <typename Scalar>
BatchView<Scalar> as_view(const BatchMap<Scalar>& batch) {
  return BatchView<Scalar>(batch.data(), batch.rows(), batch.cols());
}

/// The shape of one image sample, stored HWC (see above).
struct ImageShape {
  Index height = 0;
  Index width = 0;
  Index channels = 0;

  Index size() const { return height * width * channels; }
  std::string to_string() const {
    return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
  }
};

}  // namespace dnmf::nn
