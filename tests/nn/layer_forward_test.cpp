// Forward values of the image layers against direct loops over the documented layouts:
// images HWC, convolution weights {kernel, kernel, in_channels, filters} row-major.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "dnmf/nn/conv2d.hpp"
#include "dnmf/nn/max_pool2d.hpp"
#include "gradient_check.hpp"

namespace dnmf::nn::testing {
namespace {

double pixel(const double* image, ImageShape shape, Index y, Index x, Index c) {
  const bool inside = y >= 0 && y < shape.height && x >= 0 && x < shape.width;
  return inside ? image[(y * shape.width + x) * shape.channels + c] : 0.0;
}

void expect_direct_convolution(Padding padding) {
  RandomEngine engine(61);
  const ImageShape input_shape{5, 6, 2};
  const Index filters = 3;
  const Index kernel = 3;
  Conv2D<double> conv("conv", input_shape, filters, kernel, padding, WeightInit::He);
  BoundLayer bound(conv, engine);
  const MatrixD input = random_matrix(input_shape.size(), 2, -1, 1, engine);
  const MatrixD output = conv.forward(view(input));

  const double* weights = bound.parameters.data();  // {kernel, kernel, in_channels, filters}
  const double* bias = weights + kernel * kernel * input_shape.channels * filters;
  const ImageShape out = conv.output_shape();
  const Index shift = padding == Padding::Same ? kernel / 2 : 0;
  for (Index sample = 0; sample < input.cols(); ++sample) {
    for (Index y = 0; y < out.height; ++y) {
      for (Index x = 0; x < out.width; ++x) {
        for (Index f = 0; f < filters; ++f) {
          double expected = bias[f];
          double magnitude = std::abs(bias[f]);
          for (Index ky = 0; ky < kernel; ++ky) {
            for (Index kx = 0; kx < kernel; ++kx) {
              for (Index c = 0; c < input_shape.channels; ++c) {
                const double w =
                    weights[((ky * kernel + kx) * input_shape.channels + c) * filters + f];
                const double term = w * pixel(input.col(sample).data(), input_shape, y + ky - shift,
                                              x + kx - shift, c);
                expected += term;
                magnitude += std::abs(term);
              }
            }
          }
          // Two sums of the bias and the kernel's products, in any order (im2col and GEMM
          // against these loops): each within γ_terms of their magnitude.
          const double terms = static_cast<double>(kernel * kernel * input_shape.channels + 1);
          EXPECT_NEAR(output((y * out.width + x) * filters + f, sample), expected,
                      2 * error_bounds::gamma<double>(terms) * magnitude);
        }
      }
    }
  }
}

TEST(LayerForward, Conv2DValidMatchesDirectConvolution) {
  expect_direct_convolution(Padding::Valid);
}

TEST(LayerForward, Conv2DSameMatchesDirectConvolution) { expect_direct_convolution(Padding::Same); }

TEST(LayerForward, MaxPoolTakesTheMaximumOfEachWindowAndChannel) {
  RandomEngine engine(62);
  const ImageShape shape{5, 4, 3};
  MaxPool2D<double> pool("pool", shape);
  const MatrixD input = random_matrix(shape.size(), 2, -1, 1, engine);
  const MatrixD output = pool.forward(view(input));
  for (Index sample = 0; sample < input.cols(); ++sample) {
    const double* image = input.col(sample).data();
    for (Index y = 0; y < 2; ++y) {
      for (Index x = 0; x < 2; ++x) {
        for (Index c = 0; c < 3; ++c) {
          const double expected = std::max({pixel(image, shape, 2 * y, 2 * x, c),
                                            pixel(image, shape, 2 * y, 2 * x + 1, c),
                                            pixel(image, shape, 2 * y + 1, 2 * x, c),
                                            pixel(image, shape, 2 * y + 1, 2 * x + 1, c)});
          EXPECT_EQ(output((y * 2 + x) * 3 + c, sample), expected);
        }
      }
    }
  }
}

TEST(LayerForward, MaxPoolGivesTiesGradientOnlyAtTheFirstMaximum) {
  MaxPool2D<double> pool("pool", {2, 2, 1});
  const MatrixD input = MatrixD::Constant(4, 1, 0.5);
  pool.forward(view(input));
  const MatrixD output_gradient = MatrixD::Constant(1, 1, 2.0);
  const MatrixD input_gradient = pool.backward(view(output_gradient));
  EXPECT_EQ(input_gradient, (MatrixD(4, 1) << 2, 0, 0, 0).finished());
}

}  // namespace
}  // namespace dnmf::nn::testing
