#pragma once
// The model file: everything needed to use a trained network (evaluate, predict) and to continue
// training it exactly where it stopped (--resume, --checkpoint).
//
//   root attributes   format "dnmf model 1"; architecture, input_height, input_width,
//                     input_channels, classes, conv_filters, conv_kernel, hidden, nmf_rank,
//                     nmf_steps, nmf_epsilon, input_scaling; optimizer, learning_rate, momentum,
//                     beta1, beta2, adam_epsilon, batch_size, seed, shuffle, freeze_basis,
//                     nmf_basis (its file, or "random"); the position: epoch (completed),
//                     step (optimizer steps), batch_in_epoch (next global batch of the epoch,
//                     0 at an epoch boundary), epoch_loss_sum and epoch_correct (this epoch's
//                     sums so far);
//                     dnmf_version, command_line, data_file, mpi_ranks
//   /<layer>/<array>  each parameter as stored by the network (float32, row-major shapes:
//                     /conv1/W, /conv1/b, /nmf/H (k x d, so scripts can draw it), /dense1/W, ...)
//   /optimizer/...    the optimizer's state arrays (/optimizer/adam/m, /optimizer/adam/v or
//                     /optimizer/sgd/velocity), float32
//   /history/...      per completed epoch: epoch, loss, train_accuracy, validation_accuracy,
//                     images_per_second, seconds (float64)
//
// The shuffle order of an epoch is a pure function of (seed, epoch), so the position above plus
// the parameters and optimizer state continue a run bitwise exactly.

#include <cstdint>
#include <string>

#include "dnmf/io/input_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/nn/image_data.hpp"
#include "dnmf/nn/model_description.hpp"

namespace dnmf::nn {

/// Collective: writes the model atomically to `path` (replacing a file of that name only with
/// IfExists::Replace).
void write_model(const std::string& path, io::IfExists if_exists, const ModelDescription& model,
                 Network<float>& network, Optimizer<float>& optimizer,
                 const std::string& command_line, const std::string& data_file,
                 mpi::Communicator& comm);

/// A model read back: its description, and the network with the saved parameters.
struct LoadedModel {
  ModelDescription description;
  Network<float> network;
};

/// Collective; InputError naming the file and what is missing or of the wrong shape.
LoadedModel read_model(const io::InputFile& file);

/// InputError unless one image of `images` (in `data_path`) has as many values as the model's
/// input.
void require_fitting_images(const ArchitectureOptions& architecture, const std::string& model_path,
                            const ImageDataset& images, const std::string& data_path);

/// Collective: restores the optimizer's state from the model file, and its step count.
void read_optimizer_state(const io::InputFile& file, Optimizer<float>& optimizer,
                          std::int64_t step);

}  // namespace dnmf::nn
