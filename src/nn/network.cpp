#include "dnmf/nn/network.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace dnmf::nn {

template <typename Scalar>
Network<Scalar>::Network(LayerList<Scalar> layers)
    : body_(std::make_unique<Sequential<Scalar>>("network", std::move(layers))) {
  body_->append_leaves(leaves_);
  std::set<std::string> names;
  Index parameter_count = 0;
  Index buffer_count = 0;
  for (const Layer<Scalar>* leaf : leaves_) {
    if (!names.insert(leaf->name()).second) {
      throw InputError("network: expected unique layer names, found " + leaf->name() + " twice");
    }
    parameter_count += leaf->parameter_count();
    buffer_count += leaf->buffer_count();
  }
  parameter_count_ = parameter_count;
  parameters_.setZero(parameter_count + kControlSlots);
  gradients_.setZero(parameter_count + kControlSlots);
  buffers_.setZero(buffer_count);
  parameter_data_ = parameters_.data();
  bind_leaves();
  Index buffer_offset = 0;
  for (Layer<Scalar>* leaf : leaves_) {
    leaf->bind_buffers(buffers_.data() + buffer_offset);
    buffer_offset += leaf->buffer_count();
  }
  // Nothing consumes the gradient of the network's input.
  body_->set_input_gradient_needed(false);
}

template <typename Scalar>
void Network<Scalar>::bind_leaves() {
  Index offset = 0;
  for (Layer<Scalar>* leaf : leaves_) {
    leaf->bind_parameters(parameter_data_ + offset, gradients_.data() + offset);
    offset += leaf->parameter_count();
  }
}

template <typename Scalar>
void Network<Scalar>::place_parameters(Scalar* storage, bool copy) {
  Scalar* target = storage != nullptr ? storage : parameters_.data();
  if (target == parameter_data_) return;
  if (copy || storage == nullptr) std::copy_n(parameter_data_, parameters_.size(), target);
  parameter_data_ = target;
  bind_leaves();
}

template <typename Scalar>
std::vector<NamedArray<Scalar>> Network<Scalar>::named_arrays(Scalar* values,
                                                              ArrayDeclaration declared) {
  std::vector<NamedArray<Scalar>> arrays;
  Index offset = 0;
  for (const Layer<Scalar>* leaf : leaves_) {
    const std::vector<ArraySpec> specs = (leaf->*declared)();
    Index leaf_size = 0;
    for (const ArraySpec& spec : specs) {
      arrays.push_back({leaf->name() + "/" + spec.name, spec.shape,
                        FlatMap<Scalar>(values + offset + spec.offset, spec.size())});
      leaf_size += spec.size();
    }
    offset += leaf_size;
  }
  return arrays;
}

template <typename Scalar>
std::vector<NamedArray<Scalar>> Network<Scalar>::named_parameters() {
  return named_arrays(parameter_data_, &Layer<Scalar>::parameter_arrays);
}

template <typename Scalar>
std::vector<NamedArray<Scalar>> Network<Scalar>::named_gradients() {
  return named_arrays(gradients_.data(), &Layer<Scalar>::parameter_arrays);
}

template <typename Scalar>
std::vector<NamedArray<Scalar>> Network<Scalar>::named_buffers() {
  return named_arrays(buffers_.data(), &Layer<Scalar>::buffer_arrays);
}

template <typename Scalar>
void Network<Scalar>::initialize(std::uint64_t seed) {
  RandomEngine engine(seed);
  for (Layer<Scalar>* leaf : leaves_) leaf->initialize(engine);
}

template <typename Scalar>
void Network<Scalar>::reserve(Index max_batch) {
  body_->reserve(max_batch);
}

template <typename Scalar>
BatchView<Scalar> Network<Scalar>::forward(BatchView<Scalar> input) {
  return body_->forward(input);
}

template <typename Scalar>
void Network<Scalar>::backward(BatchView<Scalar> output_gradient) {
  body_->backward(output_gradient);
}

template <typename Scalar>
void Network<Scalar>::project_parameters() {
  for (Layer<Scalar>* leaf : leaves_) leaf->project_parameters();
}

template <typename Scalar>
Layer<Scalar>* Network<Scalar>::find_leaf(const std::string& name) const {
  for (Layer<Scalar>* leaf : leaves_) {
    if (leaf->name() == name) return leaf;
  }
  return nullptr;
}

template class Network<float>;
template class Network<double>;

}  // namespace dnmf::nn
