#include "dnmf/nn/sequential.hpp"

#include <utility>

#include "dnmf/core/error.hpp"

namespace dnmf::nn {
namespace {

template <typename Scalar>
const LayerList<Scalar>& checked(const std::string& name, const LayerList<Scalar>& layers) {
  if (layers.empty()) throw InputError("layer " + name + ": expected at least one layer, got none");
  for (std::size_t i = 1; i < layers.size(); ++i) {
    if (layers[i - 1]->output_size() != layers[i]->input_size()) {
      throw InputError("layer " + name + ": " + layers[i]->name() + " expects " +
                       std::to_string(layers[i]->input_size()) + " input features, but " +
                       layers[i - 1]->name() + " gives " +
                       std::to_string(layers[i - 1]->output_size()));
    }
  }
  return layers;
}

}  // namespace

template <typename Scalar>
Sequential<Scalar>::Sequential(std::string name, LayerList<Scalar> layers)
    : Layer<Scalar>(name, checked(name, layers).front()->input_size(),
                    layers.back()->output_size()),
      layers_(std::move(layers)) {}

template <typename Scalar>
void Sequential<Scalar>::set_input_gradient_needed(bool needed) {
  Layer<Scalar>::set_input_gradient_needed(needed);
  layers_.front()->set_input_gradient_needed(needed);
}

template <typename Scalar>
void Sequential<Scalar>::append_leaves(std::vector<Layer<Scalar>*>& leaves) {
  for (auto& layer : layers_) layer->append_leaves(leaves);
}

template <typename Scalar>
void Sequential<Scalar>::allocate(Index max_batch) {
  for (auto& layer : layers_) layer->reserve(max_batch);
}

template <typename Scalar>
BatchView<Scalar> Sequential<Scalar>::compute_forward(BatchView<Scalar> input) {
  BatchView<Scalar> activation = input;
  for (auto& layer : layers_) new (&activation) BatchView<Scalar>(layer->forward(activation));
  return activation;
}

template <typename Scalar>
BatchView<Scalar> Sequential<Scalar>::compute_backward(BatchView<Scalar> output_gradient) {
  BatchView<Scalar> gradient = output_gradient;
  for (auto layer = layers_.rbegin(); layer != layers_.rend(); ++layer) {
    new (&gradient) BatchView<Scalar>((*layer)->backward(gradient));
  }
  return gradient;
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace dnmf::nn
