#pragma once
// The layer interface. A layer maps a batch (features x batch) to a batch; backward takes the
// gradient of the output, accumulates the gradients of the layer's own parameters (+=, so the
// caller zeroes them once a step) and returns the gradient of the input.
//
// Parameters and gradients are not owned by the layer: the Network holds them in one flat
// buffer each and binds every layer to its slice (mlpack's ANN layout), so the gradient of the
// whole model is one contiguous array, one allreduce. Scratch and output buffers are owned by
// the layer and sized once for the largest batch (reserve); forward and backward then never
// allocate. A returned batch is a view into the layer's buffers (or its input, for layers that
// do not change data), valid until the next forward; forward keeps a view of its input, which
// must stay alive until backward.
//
// Layers split their work over the kernel threads (core/parallel_for.hpp): a batch by samples,
// a parameter gradient (a sum over the batch) by its rows or columns, so that every value is
// computed by one thread. The bits are then the same at a given thread count, and differ across
// counts only as the BLAS rounds differently for a narrower product.

#include <string>
#include <vector>

#include "dnmf/nn/initialization.hpp"
#include "dnmf/nn/named_array.hpp"
#include "dnmf/nn/tensor.hpp"

namespace dnmf::nn {

template <typename Scalar>
class Layer {
 public:
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  /// Features of one input / output sample.
  Index input_size() const { return input_size_; }
  Index output_size() const { return output_size_; }
  /// Largest batch the buffers hold; 0 before the first reserve.
  Index capacity() const { return capacity_; }

  /// Sizes the buffers for batches of up to `max_batch` samples. forward calls it by itself
  /// when a larger batch arrives; call it up front to keep allocation out of the step loop.
  void reserve(Index max_batch);

  /// Checks the input's shape, then computes the output of `input` (input_size x batch).
  BatchView<Scalar> forward(BatchView<Scalar> input);
  /// Checks the gradient's shape against the last forward, accumulates parameter gradients
  /// and returns the input gradient (an empty view when it is not needed).
  BatchView<Scalar> backward(BatchView<Scalar> output_gradient);

  /// Whether backward must compute the input gradient. The first layer of a network does not;
  /// skipping it saves the col2im of a first convolution, for instance.
  virtual void set_input_gradient_needed(bool needed);
  bool input_gradient_needed() const { return input_gradient_needed_; }

  /// The arrays this layer itself holds (composite layers hold none; their leaves do).
  virtual std::vector<ArraySpec> parameter_arrays() const { return {}; }
  /// Non-trained state kept beside the parameters (libtorch's "buffers"): saved with the model,
  /// never touched by optimizers nor summed over ranks.
  virtual std::vector<ArraySpec> buffer_arrays() const { return {}; }
  Index parameter_count() const;
  Index buffer_count() const;

  /// Points the layer at its slices of the flat buffers (parameter_count() values each).
  virtual void bind_parameters(Scalar* /*parameters*/, Scalar* /*gradients*/) {}
  virtual void bind_buffers(Scalar* /*buffers*/) {}
  /// Draws the initial parameters from `engine`, consuming it in a fixed order.
  virtual void initialize(RandomEngine& /*engine*/) {}
  /// Restores the parameters' constraints after an optimizer step (e.g. H >= 0).
  virtual void project_parameters() {}

  /// Appends the leaf layers (those that compute) in forward order; a leaf appends itself.
  virtual void append_leaves(std::vector<Layer*>& leaves) { leaves.push_back(this); }

 protected:
  Layer(std::string name, Index input_size, Index output_size);

  /// Resizes the layer's buffers to hold `max_batch` samples.
  virtual void allocate(Index max_batch) = 0;
  /// input has input_size() rows and batch() <= capacity() columns.
  virtual BatchView<Scalar> compute_forward(BatchView<Scalar> input) = 0;
  /// output_gradient has output_size() rows and batch() columns.
  virtual BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) = 0;

  /// The least work a thread takes: samples of a batch, rows or columns of a parameter gradient.
  /// Two already make a product worth a thread at the sizes trained (28x28 images, 32 filters);
  /// small, so that the tests' small networks split too.
  static constexpr Index kSampleGrain = 2;
  static constexpr Index kGradientGrain = 2;

  /// Samples in the last forward.
  Index batch() const { return batch_; }
  /// An empty view: what backward returns when the input gradient is not needed.
  static BatchView<Scalar> no_gradient() { return BatchView<Scalar>(nullptr, 0, 0); }

 private:
  std::string name_;
  Index input_size_;
  Index output_size_;
  Index capacity_ = 0;
  Index batch_ = 0;
  bool input_gradient_needed_ = true;
};

}  // namespace dnmf::nn
