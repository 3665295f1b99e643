#pragma once
// Where a training run starts: a model file read back to continue it, with its optimizer's
// state, or a new model built from its description, its classes counted from the labels and its
// NMF basis, if the description names a file, read from that file's /H (a `dnmf factorize`
// output).

#include <memory>
#include <string>

#include "dnmf/io/input_file.hpp"
#include "dnmf/nn/image_data.hpp"
#include "dnmf/nn/model_file.hpp"

namespace dnmf::nn {

struct TrainingStart {
  LoadedModel model;
  std::unique_ptr<Optimizer<float>> optimizer;
};

/// Collective: the model in `model_path` and its optimizer. InputError naming the files if the
/// images of `data` (in `file`) do not fit the model, or as read_model.
TrainingStart resume_training(const std::string& model_path, const io::InputFile& file,
                              const TrainingData& data, mpi::Communicator& comm);

/// Collective: a new model of `description`, its input and classes from `data`; with a basis
/// file, its nmf_rank is the basis's, which must equal the description's if `rank_given`.
/// InputError naming the file for a basis of the wrong shape, negative or not finite.
TrainingStart start_training(ModelDescription description, bool rank_given,
                             const io::InputFile& file, const TrainingData& data,
                             mpi::Communicator& comm);

}  // namespace dnmf::nn
