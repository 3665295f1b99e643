#pragma once
// NMF encoder by deep unfolding (Hershey, Le Roux & Weninger 2014, "Deep unfolding"; Le Roux
// et al. 2015, "Deep NMF for speech separation"): the code z (k) of a nonnegative input x (d)
// against a nonnegative basis H (k x d) is T multiplicative updates (Lee & Seung 2001),
//   z0 = 1,   z_t = z_{t-1} * (H x) / (H H^T z_{t-1} + eps),   t = 1..T   (elementwise * and /),
// and the output is z_T. Every step is differentiable, so H is trained through all T steps;
// it enters twice, through a = H x and G = H H^T, and backward follows both paths.
// After each optimizer step, project_parameters() clips H to >= 0.
//
// x must be nonnegative (the codes are then nonnegative); it is not checked per batch.
// Array: "H" shape {k, d} (row-major: one basis vector a row, as `dnmf factorize` writes H).

#include "dnmf/nn/layer.hpp"

namespace dnmf::nn {

template <typename Scalar>
class NMFEncoder final : public Layer<Scalar> {
 public:
  NMFEncoder(std::string name, Index features, Index rank, Index iterations, Scalar epsilon);

  Index rank() const { return this->output_size(); }
  Index iterations() const { return iterations_; }
  Scalar epsilon() const { return epsilon_; }

  std::vector<ArraySpec> parameter_arrays() const override;
  void bind_parameters(Scalar* parameters, Scalar* gradients) override;
  /// H uniform in [0, 1), each row then scaled to unit L2 norm.
  void initialize(RandomEngine& engine) override;
  /// H <- max(H, 0).
  void project_parameters() override;

  /// Sets H from an outside k x d basis (e.g. from `dnmf factorize`), each row scaled to unit
  /// L2 norm (an all-zero row stays zero). Throws InputError on a wrong shape, or a negative or
  /// non-finite entry.
  void load_basis(const Eigen::Ref<const Eigen::MatrixXd>& basis);

 private:
  using BasisMap = Eigen::Map<RowMatrix<Scalar>>;

  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;
  void normalize_rows();
  /// Step t's block (k x batch) of a buffer holding one block a step.
  BatchMap<Scalar> step_block(Matrix<Scalar>& steps, Index t) const;

  Index iterations_;
  Scalar epsilon_;
  BasisMap basis_{nullptr, 0, 0};
  BasisMap basis_gradient_{nullptr, 0, 0};
  const Scalar* input_ = nullptr;  // the last forward's x
  // Sized at allocate; blocks of `batch` columns, step t at columns [t*batch, (t+1)*batch).
  Matrix<Scalar> projection_;             // a = H x                 k x capacity
  Matrix<Scalar> gram_;                   // G = H H^T               k x k
  Matrix<Scalar> codes_;                  // z_0 .. z_T              k x (T+1)*capacity
  Matrix<Scalar> denominators_;           // q_t = G z_{t-1} + eps   k x T*capacity
  Matrix<Scalar> denominators_gradient_;  // dL/dq_t                 k x T*capacity
  Matrix<Scalar> code_gradient_;          // dL/dz_t, current t      k x capacity
  Matrix<Scalar> projection_gradient_;    // dL/da                   k x capacity
  Matrix<Scalar> gram_gradient_;          // dL/dG                   k x k
  Matrix<Scalar> input_gradient_;
};

}  // namespace dnmf::nn
