#include "dnmf/nn/training_start.hpp"

#include <optional>
#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/io/matrix_checks.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nn/nmf_encoder.hpp"

namespace dnmf::nn {
namespace {

/// The k x d basis /H of a factorize output, checked against the images (d) and, if
/// `rank_given`, against `rank`.
dnmf::RowMatrix read_basis(const std::string& path, Index rank, bool rank_given, Index features,
                           mpi::Communicator& comm) {
  const io::InputFile file(path, comm);
  dnmf::RowMatrix basis;
  mpi::agree(comm, [&] {
    const io::DatasetInfo info = file.dataset("/H");
    const Index k = info.shape.size() == 2 ? static_cast<Index>(info.shape[0]) : 0;
    if (info.shape.size() != 2 || !info.numeric ||
        info.shape[1] != static_cast<std::uint64_t>(features) || k < 1 ||
        (rank_given && k != rank)) {
      throw InputError(io::where(path, "/H") + ": expected an NMF basis of " +
                       (rank_given ? std::to_string(rank) : std::string("k")) + " x " +
                       std::to_string(features) +
                       " (k x d, d the pixels of one training image), found " +
                       io::shape_text(info.shape) + " " + info.type);
    }
    basis = file.read_rows(info, 0, k);
  });
  // Named here: the encoder that checks it again knows no file.
  mpi::agree(comm, [&] { io::check_nonnegative_finite(basis, 0, io::where(path, "/H"), comm); });
  return basis;
}

std::unique_ptr<Optimizer<float>> new_optimizer(const LoadedModel& model, mpi::Communicator& comm) {
  std::unique_ptr<Optimizer<float>> optimizer;
  mpi::agree(comm, [&] {
    optimizer = make_optimizer(model.description.training, model.network.parameter_count());
  });
  return optimizer;
}

}  // namespace

TrainingStart resume_training(const std::string& model_path, const io::InputFile& file,
                              const TrainingData& data, mpi::Communicator& comm) {
  const io::InputFile resumed(model_path, comm);
  std::optional<LoadedModel> model;
  mpi::agree(comm, [&] {
    model.emplace(read_model(resumed));
    require_fitting_images(model->description.architecture, model_path, data.train_images,
                           file.path());
  });
  std::unique_ptr<Optimizer<float>> optimizer = new_optimizer(*model, comm);
  mpi::agree(comm,
             [&] { read_optimizer_state(resumed, *optimizer, model->description.progress.step); });
  return {std::move(*model), std::move(optimizer)};
}

TrainingStart start_training(ModelDescription description, bool rank_given,
                             const io::InputFile& file, const TrainingData& data,
                             mpi::Communicator& comm) {
  ArchitectureOptions& architecture = description.architecture;
  architecture.input = data.train_images.sample;
  mpi::agree(comm, [&] { architecture.classes = count_classes(file, data.train_labels, comm); });
  dnmf::RowMatrix basis;
  const std::optional<std::string>& basis_file = description.training.nmf_basis;
  if (uses_nmf(architecture.architecture) && basis_file) {
    basis =
        read_basis(*basis_file, architecture.nmf_rank, rank_given, architecture.input.size(), comm);
    architecture.nmf_rank = basis.rows();
  }
  std::optional<Network<float>> network;
  mpi::agree(comm, [&] {
    network.emplace(make_network<float>(architecture, description.training.seed));
    if (basis.size() > 0) network->layer<NMFEncoder<float>>("nmf").load_basis(basis);
  });
  LoadedModel model{std::move(description), std::move(*network)};
  std::unique_ptr<Optimizer<float>> optimizer = new_optimizer(model, comm);
  return {std::move(model), std::move(optimizer)};
}

}  // namespace dnmf::nn
