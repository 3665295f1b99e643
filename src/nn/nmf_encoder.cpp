#include "dnmf/nn/nmf_encoder.hpp"

#include <cmath>
#include <new>
#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/core/parallel_for.hpp"

namespace dnmf::nn {

template <typename Scalar>
NMFEncoder<Scalar>::NMFEncoder(std::string name, Index features, Index rank, Index iterations,
                               Scalar epsilon)
    : Layer<Scalar>(std::move(name), features, rank), iterations_(iterations), epsilon_(epsilon) {
  if (iterations < 1 || !(epsilon > 0)) {
    throw InputError("layer " + this->name() +
                     ": expected at least one iteration and a positive epsilon, got " +
                     std::to_string(iterations) + " and " + std::to_string(epsilon));
  }
}

template <typename Scalar>
std::vector<ArraySpec> NMFEncoder<Scalar>::parameter_arrays() const {
  return {{"H", {rank(), this->input_size()}, 0}};
}

template <typename Scalar>
void NMFEncoder<Scalar>::bind_parameters(Scalar* parameters, Scalar* gradients) {
  new (&basis_) BasisMap(parameters, rank(), this->input_size());
  new (&basis_gradient_) BasisMap(gradients, rank(), this->input_size());
}

template <typename Scalar>
void NMFEncoder<Scalar>::initialize(RandomEngine& engine) {
  fill_uniform(basis_, 0.0, 1.0, engine);
  normalize_rows();
}

template <typename Scalar>
void NMFEncoder<Scalar>::project_parameters() {
  basis_ = basis_.cwiseMax(Scalar(0));
}

template <typename Scalar>
void NMFEncoder<Scalar>::load_basis(const Eigen::Ref<const Eigen::MatrixXd>& basis) {
  if (basis.rows() != rank() || basis.cols() != this->input_size()) {
    throw InputError("layer " + this->name() + ": expected a basis of " + std::to_string(rank()) +
                     " x " + std::to_string(this->input_size()) + " (k x d), got " +
                     std::to_string(basis.rows()) + " x " + std::to_string(basis.cols()));
  }
  if (!basis.allFinite() || (basis.array() < 0).any()) {
    throw InputError(
        "layer " + this->name() +
        ": expected a nonnegative, finite basis, found a negative or non-finite entry");
  }
  basis_ = basis.cast<Scalar>();
  normalize_rows();
}

template <typename Scalar>
void NMFEncoder<Scalar>::normalize_rows() {
  for (Index row = 0; row < rank(); ++row) {
    const Scalar norm = basis_.row(row).norm();
    if (norm > Scalar(0)) basis_.row(row) /= norm;
  }
}

template <typename Scalar>
void NMFEncoder<Scalar>::allocate(Index max_batch) {
  const Index k = rank();
  projection_.resize(k, max_batch);
  gram_.resize(k, k);
  codes_.resize(k, (iterations_ + 1) * max_batch);
  denominators_.resize(k, iterations_ * max_batch);
  denominators_gradient_.resize(k, iterations_ * max_batch);
  code_gradient_.resize(k, max_batch);
  projection_gradient_.resize(k, max_batch);
  gram_gradient_.resize(k, k);
  if (this->input_gradient_needed()) input_gradient_.resize(this->input_size(), max_batch);
}

template <typename Scalar>
BatchMap<Scalar> NMFEncoder<Scalar>::step_block(Matrix<Scalar>& steps, Index t) const {
  return BatchMap<Scalar>(steps.data() + t * rank() * this->batch(), rank(), this->batch());
}

template <typename Scalar>
BatchView<Scalar> NMFEncoder<Scalar>::compute_forward(BatchView<Scalar> input) {
  input_ = input.data();
  parallel_for(rank(), this->kGradientGrain, [&](Index first, Index end) {
    gram_.middleCols(first, end - first).noalias() =
        basis_ * basis_.middleRows(first, end - first).transpose();
  });
  // Each sample's code depends on its input alone: a thread takes a run of samples through all
  // T steps.
  BatchMap<Scalar> projection = leading_columns(projection_, input.cols());
  parallel_for(input.cols(), this->kSampleGrain, [&](Index first, Index end) {
    const Index count = end - first;
    auto samples = projection.middleCols(first, count);
    samples.noalias() = basis_ * input.middleCols(first, count);
    step_block(codes_, 0).middleCols(first, count).setOnes();
    for (Index t = 1; t <= iterations_; ++t) {
      const auto previous = step_block(codes_, t - 1).middleCols(first, count);
      auto denominator = step_block(denominators_, t - 1).middleCols(first, count);
      denominator.noalias() = gram_ * previous;
      denominator.array() += epsilon_;
      step_block(codes_, t).middleCols(first, count).array() =
          previous.array() * samples.array() / denominator.array();
    }
  });
  return as_view(step_block(codes_, iterations_));
}

template <typename Scalar>
BatchView<Scalar> NMFEncoder<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  const Index batch_size = this->batch();
  const BatchView<Scalar> projection = leading_columns(std::as_const(projection_), batch_size);
  BatchMap<Scalar> code_gradient = leading_columns(code_gradient_, batch_size);
  BatchMap<Scalar> projection_gradient = leading_columns(projection_gradient_, batch_size);
  // Reverse through z_t = z_{t-1} * a / q_t with q_t = G z_{t-1} + eps; g holds dL/dz_t. Each
  // sample's path is its own, as in forward.
  parallel_for(batch_size, this->kSampleGrain, [&](Index first, Index end) {
    const Index count = end - first;
    auto g = code_gradient.middleCols(first, count);
    auto a_gradient = projection_gradient.middleCols(first, count);
    const auto a = projection.middleCols(first, count);
    g = output_gradient.middleCols(first, count);
    a_gradient.setZero();
    for (Index t = iterations_; t >= 1; --t) {
      const auto previous = step_block(codes_, t - 1).middleCols(first, count);
      const auto current = step_block(codes_, t).middleCols(first, count);
      const auto denominator = step_block(denominators_, t - 1).middleCols(first, count);
      auto denominator_gradient =
          step_block(denominators_gradient_, t - 1).middleCols(first, count);
      denominator_gradient.array() = -g.array() * current.array() / denominator.array();
      a_gradient.array() += g.array() * previous.array() / denominator.array();
      g.array() *= a.array() / denominator.array();
      g.noalias() += gram_ * denominator_gradient;  // G is symmetric: G^T dq = G dq
    }
  });
  // dL/dG = sum_t dq_t z_{t-1}^T, all steps in one GEMM over the stacked blocks, by rows.
  const Index stacked = iterations_ * batch_size;
  const BatchView<Scalar> stacked_gradients =
      leading_columns(std::as_const(denominators_gradient_), stacked);
  const BatchView<Scalar> stacked_codes = leading_columns(std::as_const(codes_), stacked);
  parallel_for(rank(), this->kGradientGrain, [&](Index first, Index end) {
    gram_gradient_.middleRows(first, end - first).noalias() =
        stacked_gradients.middleRows(first, end - first) * stacked_codes.transpose();
  });
  // Both paths into H: a = H x gives dA x^T; G = H H^T gives (dG + dG^T) H. By columns of H.
  const BatchView<Scalar> input(input_, this->input_size(), batch_size);
  parallel_for(this->input_size(), this->kGradientGrain, [&](Index first, Index end) {
    const Index count = end - first;
    auto columns = basis_gradient_.middleCols(first, count);
    const auto basis_columns = basis_.middleCols(first, count);
    columns.noalias() += projection_gradient * input.middleRows(first, count).transpose();
    columns.noalias() += gram_gradient_ * basis_columns;
    columns.noalias() += gram_gradient_.transpose() * basis_columns;
  });
  if (!this->input_gradient_needed()) return this->no_gradient();
  BatchMap<Scalar> input_gradient = leading_columns(input_gradient_, batch_size);
  parallel_for(batch_size, this->kSampleGrain, [&](Index first, Index end) {
    input_gradient.middleCols(first, end - first).noalias() =
        basis_.transpose() * projection_gradient.middleCols(first, end - first);
  });
  return as_view(input_gradient);
}

template class NMFEncoder<float>;
template class NMFEncoder<double>;

}  // namespace dnmf::nn
