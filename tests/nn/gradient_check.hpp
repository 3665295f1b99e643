#pragma once
// Finite-difference gradient checks in double (mlpack's ann_test_tools.hpp, tiny-dnn's
// gradient_check.h): central differences, relative error |a - n| / max(|a + n|, tiny).

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "../error_bounds.hpp"
#include "dnmf/nn/layer.hpp"

namespace dnmf::nn::testing {

using MatrixD = Matrix<double>;
using VectorD = Vector<double>;

// Central differences (f(x + h) - f(x - h)) / 2h are off f' by the truncation h² |f'''| / 6
// and by the rounding of the two evaluations of f, c u F / h (c roundings along the way, F the
// magnitude of f's terms), and the step x ± h is itself rounded (u |x| / h relatively). The
// checks here are of small layers on values of order 1 (|x| ≤ 1, |f'''| ≲ 1): for a gradient
// entry of order 1 the truncation is 1.7e-13 at h = 1e-6 and the rounding (c F + 1) 1.1e-10,
// where c F stays below kRoundings: c is about 20 along an output of Dense or Conv2D, whose f
// sums at most 72 terms of size ≲ 1/2 (F ≲ 36), and about 200 for the NMF encoder (4
// iterations, its relative rounding doubling with each), whose f sums 9 (F ≲ 5). The tolerance
// is kSafety times that sum, 1.1e-6; a wrong gradient (a missing term, a transposed index) is
// off by order 1.
constexpr double kStep = 1e-6;
constexpr double kRoundings = 1000;
constexpr double kTolerance =
    error_bounds::kSafety *
    (kStep * kStep / 6 + (kRoundings + 1) * error_bounds::unit_roundoff<double>() / kStep);

inline double relative_error(const VectorD& analytic, const VectorD& numeric) {
  return (analytic - numeric).norm() / std::max((analytic + numeric).norm(), 1e-300);
}

/// The check itself; a zero gradient would pass vacuously, so it must not be zero.
inline void expect_same_gradient(const VectorD& analytic, const VectorD& numeric,
                                 const std::string& what) {
  EXPECT_GT(numeric.norm(), 0.0) << what;
  EXPECT_LT(relative_error(analytic, numeric), kTolerance) << what;
}

/// Central differences of f at `values`, perturbing each entry in place (restored after).
inline VectorD numeric_gradient(double* values, Index count, const std::function<double()>& f) {
  VectorD gradient(count);
  for (Index i = 0; i < count; ++i) {
    const double saved = values[i];
    values[i] = saved + kStep;
    const double up = f();
    values[i] = saved - kStep;
    const double down = f();
    values[i] = saved;
    gradient[i] = (up - down) / (2 * kStep);
  }
  return gradient;
}

inline MatrixD random_matrix(Index rows, Index cols, double low, double high,
                             RandomEngine& engine) {
  MatrixD values(rows, cols);
  fill_uniform(values, low, high, engine);
  return values;
}

inline BatchView<double> view(const MatrixD& values) {
  return BatchView<double>(values.data(), values.rows(), values.cols());
}

/// A layer (and, for a composite, its leaves) bound to parameter and gradient buffers of its
/// own, to check it outside a Network.
struct BoundLayer {
  BoundLayer(Layer<double>& layer, RandomEngine& engine) {
    std::vector<Layer<double>*> leaves;
    layer.append_leaves(leaves);
    Index count = 0;
    for (const Layer<double>* leaf : leaves) count += leaf->parameter_count();
    parameters.setZero(count);
    gradients.setZero(count);
    Index offset = 0;
    for (Layer<double>* leaf : leaves) {
      leaf->bind_parameters(parameters.data() + offset, gradients.data() + offset);
      leaf->initialize(engine);
      offset += leaf->parameter_count();
    }
    // Move off the initial point (zero biases), staying >= 0 so an NMF basis remains valid.
    for (Index i = 0; i < count; ++i) parameters[i] += uniform(engine, 0.0, 0.1);
  }

  VectorD parameters;
  VectorD gradients;
};

/// Checks input and parameter gradients of f(x, p) = <weights, layer(x)>, weights random.
inline void expect_layer_gradients(Layer<double>& layer, MatrixD input, RandomEngine& engine) {
  BoundLayer bound(layer, engine);
  layer.set_input_gradient_needed(true);
  const MatrixD weights = random_matrix(layer.output_size(), input.cols(), -1, 1, engine);
  const auto objective = [&] {
    return (layer.forward(view(input)).array() * weights.array()).sum();
  };

  objective();
  const VectorD input_gradient = layer.backward(view(weights)).reshaped();
  const VectorD parameter_gradient = bound.gradients;

  const VectorD numeric_input = numeric_gradient(input.data(), input.size(), objective);
  expect_same_gradient(input_gradient, numeric_input, layer.name() + " input");
  if (bound.parameters.size() > 0) {
    const VectorD numeric_parameters =
        numeric_gradient(bound.parameters.data(), bound.parameters.size(), objective);
    expect_same_gradient(parameter_gradient, numeric_parameters, layer.name() + " parameters");
  }
}

}  // namespace dnmf::nn::testing
