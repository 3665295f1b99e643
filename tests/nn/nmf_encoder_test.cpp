// The NMF encoder against a naive loop implementation; basis loading and projection.

#include "dnmf/nn/nmf_encoder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "dnmf/core/error.hpp"
#include "gradient_check.hpp"

namespace dnmf::nn::testing {
namespace {

/// z <- z * (H x) / (H H^T z + eps) from z = 1, T times, written out with plain loops.
std::vector<double> naive_codes(const MatrixD& basis, const double* x, int iterations,
                                double epsilon) {
  const Index k = basis.rows();
  const Index d = basis.cols();
  std::vector<double> projection(k, 0.0);
  std::vector<std::vector<double>> gram(k, std::vector<double>(k, 0.0));
  for (Index i = 0; i < k; ++i) {
    for (Index j = 0; j < d; ++j) projection[i] += basis(i, j) * x[j];
    for (Index l = 0; l < k; ++l) {
      for (Index j = 0; j < d; ++j) gram[i][l] += basis(i, j) * basis(l, j);
    }
  }
  std::vector<double> z(k, 1.0);
  for (int t = 0; t < iterations; ++t) {
    std::vector<double> next(k);
    for (Index i = 0; i < k; ++i) {
      double denominator = epsilon;
      for (Index l = 0; l < k; ++l) denominator += gram[i][l] * z[l];
      next[i] = z[i] * projection[i] / denominator;
    }
    z = next;
  }
  return z;
}

struct EncoderFixture {
  EncoderFixture(Index features, Index rank, Index iterations)
      : encoder("nmf", features, rank, iterations, 1e-4),
        parameters(VectorD::Zero(encoder.parameter_count())),
        gradients(VectorD::Zero(encoder.parameter_count())) {
    encoder.bind_parameters(parameters.data(), gradients.data());
  }
  /// H as a k x d matrix (the flat buffer is row-major k x d).
  MatrixD basis() const {
    return Eigen::Map<const RowMatrix<double>>(parameters.data(), encoder.rank(),
                                               encoder.input_size());
  }

  NMFEncoder<double> encoder;
  VectorD parameters;
  VectorD gradients;
};

TEST(NMFEncoder, ForwardMatchesNaiveLoops) {
  RandomEngine engine(21);
  EncoderFixture fixture(9, 4, 6);
  fixture.encoder.initialize(engine);
  const MatrixD input = random_matrix(9, 5, 0, 1, engine);
  const MatrixD codes = fixture.encoder.forward(view(input));
  ASSERT_EQ(codes.rows(), 4);
  ASSERT_EQ(codes.cols(), 5);
  // Everything is nonnegative, so every rounding is relative: z <- z (H x) / (H Hᵀ z + eps)
  // leaves z's relative error at most r' = 2 r + c, c = 2 γ_d (H x and H Hᵀ) + γ_{k+1} (the
  // denominator) + 2u (the product and quotient), from r = 0 at z = 1: after T iterations
  // (2^T - 1) c, for each of the two computations.
  const double d = 9, k = 4, T = 6;
  const double per_iteration = 2 * error_bounds::gamma<double>(d) +
                               error_bounds::gamma<double>(k + 1) +
                               2 * error_bounds::unit_roundoff<double>();
  const double tolerance = 2 * (std::pow(2.0, T) - 1) * per_iteration;
  for (Index sample = 0; sample < input.cols(); ++sample) {
    const std::vector<double> expected =
        naive_codes(fixture.basis(), input.col(sample).data(), 6, 1e-4);
    for (Index i = 0; i < 4; ++i) {
      EXPECT_NEAR(codes(i, sample), expected[i], tolerance * std::abs(expected[i]));
    }
  }
}

TEST(NMFEncoder, InitialBasisIsNonnegativeWithUnitRows) {
  RandomEngine engine(22);
  EncoderFixture fixture(7, 3, 2);
  fixture.encoder.initialize(engine);
  const MatrixD basis = fixture.basis();
  EXPECT_GE(basis.minCoeff(), 0.0);
  // Rows scaled by 1 / ||row|| (the norm within γ_{d+1} / 2 + u, the scaling u) and measured
  // again here (γ_{d+1} / 2 + u): within γ_{d+4} of 1, d = 7.
  for (Index row = 0; row < 3; ++row) {
    EXPECT_NEAR(basis.row(row).norm(), 1.0, error_bounds::gamma<double>(7 + 4));
  }
}

TEST(NMFEncoder, LoadBasisScalesRowsToUnitNorm) {
  EncoderFixture fixture(3, 2, 2);
  const MatrixD outside = (MatrixD(2, 3) << 3, 0, 4, 0, 0, 0).finished();
  fixture.encoder.load_basis(outside);
  const MatrixD expected = (MatrixD(2, 3) << 0.6, 0, 0.8, 0, 0, 0).finished();
  // (3, 0, 4) / 5: the norm is exact (25 is a square), the scaling rounds once or twice (a
  // reciprocal, a product) and the literals 0.6 and 0.8 once: within γ_3, relatively.
  EXPECT_TRUE(fixture.basis().isApprox(expected, error_bounds::gamma<double>(3)));
}

TEST(NMFEncoder, LoadBasisRejectsWrongShapeAndNegativeEntries) {
  EncoderFixture fixture(3, 2, 2);
  EXPECT_THROW(fixture.encoder.load_basis(MatrixD::Ones(3, 2)), InputError);
  EXPECT_THROW(fixture.encoder.load_basis(-MatrixD::Ones(2, 3)), InputError);
}

TEST(NMFEncoder, ProjectionKeepsBasisNonnegative) {
  EncoderFixture fixture(4, 3, 2);
  RandomEngine engine(23);
  fill_uniform(fixture.parameters, -1.0, 1.0, engine);
  const VectorD before = fixture.parameters;
  fixture.encoder.project_parameters();
  EXPECT_GE(fixture.parameters.minCoeff(), 0.0);
  for (Index i = 0; i < before.size(); ++i) {
    EXPECT_EQ(fixture.parameters[i], before[i] > 0 ? before[i] : 0.0);
  }
}

TEST(NMFEncoder, RejectsInputOfTheWrongSize) {
  EncoderFixture fixture(4, 3, 2);
  const MatrixD input = MatrixD::Ones(5, 2);
  EXPECT_THROW(fixture.encoder.forward(view(input)), InputError);
}

}  // namespace
}  // namespace dnmf::nn::testing
