#pragma once
// A model: layers applied in order, with every parameter in one flat buffer and every gradient
// in another (mlpack's ANN layout; see layer.hpp), and non-trained state in a third (libtorch's
// "buffers"). The flat buffers are what optimizers step and what a data-parallel trainer sums
// over ranks in one allreduce; named_parameters() is what a file writer saves and loads.
//
// Parameter order: leaf layers in forward order (a Concat's first branch before its second),
// each leaf's arrays in the order it declares them.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/nn/sequential.hpp"

namespace dnmf::nn {

template <typename Scalar>
class Network {
 public:
  /// Binds every layer to its slices. Throws InputError on an empty list, mismatched sizes or
  /// two leaf layers with one name. Parameters start at zero: call initialize.
  explicit Network(LayerList<Scalar> layers);
  // Layers hold views into the flat buffers; a move keeps the buffers' storage, a copy could not.
  Network(Network&&) noexcept = default;
  Network& operator=(Network&&) noexcept = default;

  Index input_size() const { return body_->input_size(); }
  Index output_size() const { return body_->output_size(); }
  Index parameter_count() const { return parameter_count_; }

  FlatMap<Scalar> parameters() { return FlatMap<Scalar>(parameter_data_, parameter_count()); }
  FlatMap<Scalar> gradients() { return FlatMap<Scalar>(gradients_.data(), parameter_count()); }
  /// The gradients followed by kControlSlots values that are not gradients (a stop vote, say):
  /// a data-parallel trainer sums all of it in its collectives a step, so control values ride
  /// along with no collective of their own.
  FlatMap<Scalar> gradients_with_control() {
    return FlatMap<Scalar>(gradients_.data(), gradients_.size());
  }
  /// The parameters followed by kControlSlots values, for the same purpose (the summed control
  /// values go out with the parameters when a trainer's ranks gather them).
  FlatMap<Scalar> parameters_with_control() {
    return FlatMap<Scalar>(parameter_data_, parameters_.size());
  }
  static constexpr Index kControlSlots = 1;
  FlatMap<Scalar> buffers() { return FlatMap<Scalar>(buffers_.data(), buffers_.size()); }
  Eigen::Map<const Vector<Scalar>> parameters() const {
    return Eigen::Map<const Vector<Scalar>>(parameter_data_, parameter_count());
  }
  Eigen::Map<const Vector<Scalar>> gradients() const {
    return Eigen::Map<const Vector<Scalar>>(gradients_.data(), parameter_count());
  }

  /// Every parameter array by name ("conv1/W", "nmf/H", ...), viewing the flat buffer.
  std::vector<NamedArray<Scalar>> named_parameters();
  /// The same for the gradients ("conv1/W" is the gradient of conv1/W).
  std::vector<NamedArray<Scalar>> named_gradients();
  /// Every buffer array by name.
  std::vector<NamedArray<Scalar>> named_buffers();

  /// Moves the parameters (with the control slots) to `storage`, which the caller keeps alive
  /// (memory the ranks of a node share, say), copying the current values there if `copy`;
  /// nullptr moves them back to the network's own buffer, always copying. Layers are rebound.
  void place_parameters(Scalar* storage, bool copy);

  /// Draws every layer's parameters from one generator seeded with `seed`.
  void initialize(std::uint64_t seed);
  /// Sizes every layer's buffers for batches of up to `max_batch` samples.
  void reserve(Index max_batch);
  void zero_gradients() { gradients_.setZero(); }

  /// Output (output_size x batch) of `input` (input_size x batch); valid until the next forward.
  BatchView<Scalar> forward(BatchView<Scalar> input);
  /// Accumulates into gradients() the gradient of a loss whose gradient with respect to the
  /// last forward's output is `output_gradient`.
  void backward(BatchView<Scalar> output_gradient);
  /// Restores the parameters' constraints (NMF basis >= 0); optimizers call it after a step.
  void project_parameters();

  /// The leaf layer called `name`, as LayerType. Throws InputError if there is none of that type.
  template <typename LayerType>
  LayerType& layer(const std::string& name);
  /// Every leaf layer of type LayerType, in forward order.
  template <typename LayerType>
  std::vector<LayerType*> layers_of_type();

 private:
  Layer<Scalar>* find_leaf(const std::string& name) const;
  using ArrayDeclaration = std::vector<ArraySpec> (Layer<Scalar>::*)() const;
  std::vector<NamedArray<Scalar>> named_arrays(Scalar* values, ArrayDeclaration declared);
  /// Points every leaf at its slices of the parameter and gradient buffers.
  void bind_leaves();

  std::unique_ptr<Sequential<Scalar>> body_;
  std::vector<Layer<Scalar>*> leaves_;
  Index parameter_count_ = 0;
  Vector<Scalar> parameters_;
  Scalar* parameter_data_ = nullptr;  // parameters_, or storage from place_parameters
  Vector<Scalar> gradients_;
  Vector<Scalar> buffers_;
};

template <typename Scalar>
template <typename LayerType>
LayerType& Network<Scalar>::layer(const std::string& name) {
  auto* found = dynamic_cast<LayerType*>(find_leaf(name));
  if (found == nullptr) {
    throw InputError("network: expected a layer called " + name + " of the requested type");
  }
  return *found;
}

template <typename Scalar>
template <typename LayerType>
std::vector<LayerType*> Network<Scalar>::layers_of_type() {
  std::vector<LayerType*> found;
  for (Layer<Scalar>* leaf : leaves_) {
    if (auto* typed = dynamic_cast<LayerType*>(leaf)) found.push_back(typed);
  }
  return found;
}

}  // namespace dnmf::nn
