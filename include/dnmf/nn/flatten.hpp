#pragma once
// Image batch -> feature batch. Samples are already stored as contiguous HWC columns
// (see tensor.hpp), so Flatten changes only the declared shape: its output is its input.
// The flattened order is therefore height, width, channel (channel fastest), like Keras'
// channels-last Flatten and unlike PyTorch's CHW.

#include "dnmf/nn/layer.hpp"

namespace dnmf::nn {

template <typename Scalar>
class Flatten final : public Layer<Scalar> {
 public:
  Flatten(std::string name, ImageShape input);

 private:
  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;
};

}  // namespace dnmf::nn
