#include "dnmf/nn/nmf_encoder.hpp"

#include <cmath>
#include <new>
#include <utility>

#include "dnmf/core/error.hpp"

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
  BatchMap<Scalar> projection = leading_columns(projection_, input.cols());
  projection.noalias() = basis_ * input;
  gram_.noalias() = basis_ * basis_.transpose();
  step_block(codes_, 0).setOnes();
  for (Index t = 1; t <= iterations_; ++t) {
    BatchMap<Scalar> previous = step_block(codes_, t - 1);
    BatchMap<Scalar> denominator = step_block(denominators_, t - 1);
    denominator.noalias() = gram_ * previous;
    denominator.array() += epsilon_;
    step_block(codes_, t).array() = previous.array() * projection.array() / denominator.array();
  }
  return as_view(step_block(codes_, iterations_));
}

template <typename Scalar>
BatchView<Scalar> NMFEncoder<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  const Index batch_size = this->batch();
  const BatchView<Scalar> projection = leading_columns(std::as_const(projection_), batch_size);
  BatchMap<Scalar> code_gradient = leading_columns(code_gradient_, batch_size);
  BatchMap<Scalar> projection_gradient = leading_columns(projection_gradient_, batch_size);
  code_gradient = output_gradient;
  projection_gradient.setZero();
  // Reverse through z_t = z_{t-1} * a / q_t with q_t = G z_{t-1} + eps; g holds dL/dz_t.
  for (Index t = iterations_; t >= 1; --t) {
    const BatchMap<Scalar> previous = step_block(codes_, t - 1);
    const BatchMap<Scalar> current = step_block(codes_, t);
    const BatchMap<Scalar> denominator = step_block(denominators_, t - 1);
    BatchMap<Scalar> denominator_gradient = step_block(denominators_gradient_, t - 1);
    denominator_gradient.array() = -code_gradient.array() * current.array() / denominator.array();
    projection_gradient.array() += code_gradient.array() * previous.array() / denominator.array();
    code_gradient.array() *= projection.array() / denominator.array();
    code_gradient.noalias() += gram_ * denominator_gradient;  // G is symmetric: G^T dq = G dq
  }
  // dL/dG = sum_t dq_t z_{t-1}^T, all steps in one GEMM over the stacked blocks.
  const Index stacked = iterations_ * batch_size;
  gram_gradient_.noalias() = leading_columns(std::as_const(denominators_gradient_), stacked) *
                             leading_columns(std::as_const(codes_), stacked).transpose();
  // Both paths into H: a = H x gives dA x^T; G = H H^T gives (dG + dG^T) H.
  const BatchView<Scalar> input(input_, this->input_size(), batch_size);
  basis_gradient_.noalias() += projection_gradient * input.transpose();
  basis_gradient_.noalias() += gram_gradient_ * basis_;
  basis_gradient_.noalias() += gram_gradient_.transpose() * basis_;
  if (!this->input_gradient_needed()) return this->no_gradient();
  BatchMap<Scalar> input_gradient = leading_columns(input_gradient_, batch_size);
  input_gradient.noalias() = basis_.transpose() * projection_gradient;
  return as_view(input_gradient);
}

template class NMFEncoder<float>;
template class NMFEncoder<double>;

}  // namespace dnmf::nn
