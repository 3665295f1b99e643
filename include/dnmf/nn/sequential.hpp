#pragma once
// Layers applied one after the other; itself a layer, so a branch of a Concat is a Sequential.

#include <memory>
#include <vector>

#include "dnmf/nn/layer.hpp"

namespace dnmf::nn {

template <typename Scalar>
using LayerList = std::vector<std::unique_ptr<Layer<Scalar>>>;

template <typename Scalar>
class Sequential final : public Layer<Scalar> {
 public:
  /// Throws InputError if the list is empty or a layer's output does not fit the next's input.
  Sequential(std::string name, LayerList<Scalar> layers);

  void set_input_gradient_needed(bool needed) override;
  void append_leaves(std::vector<Layer<Scalar>*>& leaves) override;

 private:
  void allocate(Index max_batch) override;
  BatchView<Scalar> compute_forward(BatchView<Scalar> input) override;
  BatchView<Scalar> compute_backward(BatchView<Scalar> output_gradient) override;

  LayerList<Scalar> layers_;
};

}  // namespace dnmf::nn
