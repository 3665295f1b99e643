#pragma once
// What evaluate and predict share: a trained model and this rank's balanced block of the images
// (and labels) to run it on, read and checked as training reads them, and the forward pass in
// chunks.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "dnmf/nn/image_data.hpp"
#include "dnmf/nn/model_file.hpp"

namespace dnmf::nn {

struct InferenceInput {
  std::unique_ptr<LoadedModel> model;
  std::unique_ptr<io::InputFile> file;
  ImageDataset images;
  io::DatasetInfo labels;          ///< unset without labels
  std::vector<std::int64_t> rows;  ///< this rank's samples, a contiguous block
  std::unique_ptr<SampleBuffer> samples;
};

/// Collective. `labels_name` empty: no labels (predict). InputError naming file and dataset for
/// missing datasets, images that do not fit the model, or bad values.
InferenceInput load_inference_input(const std::string& model_path, const std::string& data_path,
                                    const std::string& images_name, const std::string& labels_name,
                                    mpi::Communicator& comm);

/// Calls visit(first sample, logits) for the network's logits (classes x chunk) over chunks of
/// at most 256 columns of `images`.
template <class Visit>
void for_each_chunk(Network<float>& network, const BatchView<float>& images, Visit&& visit) {
  constexpr Index kChunk = 256;
  for (Index first = 0; first < images.cols(); first += kChunk) {
    const Index count = std::min(kChunk, images.cols() - first);
    visit(first, network.forward(BatchView<float>(images.data() + first * images.rows(),
                                                  images.rows(), count)));
  }
}

}  // namespace dnmf::nn
