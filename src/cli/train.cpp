// dnmf train: a classifier (cnn, nmf or nmf-cnn) trained data-parallel over the MPI ranks.

#include <memory>
#include <optional>

#include "cli/command.hpp"
#include "cli/train_options.hpp"
#include "cli/train_report.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/stop_request.hpp"
#include "dnmf/io/matrix_checks.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nn/fit.hpp"
#include "dnmf/nn/nmf_encoder.hpp"

namespace dnmf::cli {
namespace {

/// The k x d basis /H of a factorize output, checked against the images (d) and --nmf-rank.
RowMatrix read_basis(const std::string& path, const TrainOptions& options, Index features,
                     mpi::Communicator& comm) {
  const io::InputFile file(path, comm);
  RowMatrix basis;
  mpi::agree(comm, [&] {
    const io::DatasetInfo info = file.dataset("/H");
    const Index k = info.shape.size() == 2 ? static_cast<Index>(info.shape[0]) : 0;
    const bool rank_fits = !options.nmf_rank_given || k == options.model.architecture.nmf_rank;
    if (info.shape.size() != 2 || !info.numeric ||
        info.shape[1] != static_cast<std::uint64_t>(features) || k < 1 || !rank_fits) {
      throw InputError(io::where(path, "/H") + ": expected an NMF basis of " +
                       (options.nmf_rank_given ? std::to_string(options.model.architecture.nmf_rank)
                                               : std::string("k")) +
                       " x " + std::to_string(features) +
                       " (k x d, d the pixels of one training image), found " +
                       io::shape_text(info.shape) + " " + info.type);
    }
    basis = file.read_rows(info, 0, k);
  });
  // Named here: the encoder that checks it again knows no file.
  mpi::agree(comm, [&] { io::check_nonnegative_finite(basis, 0, io::where(path, "/H"), comm); });
  return basis;
}

/// The network to train and its description: read from --resume, or built from the options.
nn::LoadedModel initial_model(const TrainOptions& options, const nn::TrainingData& data,
                              const io::InputFile& file, mpi::Communicator& comm) {
  if (!options.resume.empty()) {
    const io::InputFile resumed(options.resume, comm);
    std::optional<nn::LoadedModel> model;
    mpi::agree(comm, [&] {
      model.emplace(nn::read_model(resumed));
      nn::require_fitting_images(model->description.architecture, options.resume, data.train_images,
                                 file.path());
    });
    return std::move(*model);
  }
  nn::ModelDescription description = options.model;
  nn::ArchitectureOptions& architecture = description.architecture;
  architecture.input = data.train_images.sample;
  mpi::agree(comm,
             [&] { architecture.classes = nn::count_classes(file, data.train_labels, comm); });
  RowMatrix basis;
  const std::optional<std::string>& basis_file = description.training.nmf_basis;
  if (nn::uses_nmf(architecture.architecture) && basis_file) {
    basis = read_basis(*basis_file, options, architecture.input.size(), comm);
    architecture.nmf_rank = basis.rows();
  }
  std::optional<nn::Network<float>> network;
  mpi::agree(comm, [&] {
    network.emplace(nn::make_network<float>(architecture, description.training.seed));
    if (basis.size() > 0) network->layer<nn::NMFEncoder<float>>("nmf").load_basis(basis);
  });
  return {description, std::move(*network)};
}

/// The optimizer of the model's settings, its state restored from --resume.
std::unique_ptr<nn::Optimizer<float>> initial_optimizer(const TrainOptions& options,
                                                        const nn::LoadedModel& model,
                                                        mpi::Communicator& comm) {
  std::unique_ptr<nn::Optimizer<float>> optimizer;
  mpi::agree(comm, [&] {
    optimizer = nn::make_optimizer(model.description.training, model.network.parameter_count());
  });
  if (!options.resume.empty()) {
    const io::InputFile resumed(options.resume, comm);
    mpi::agree(comm, [&] {
      nn::read_optimizer_state(resumed, *optimizer, model.description.progress.step);
    });
  }
  return optimizer;
}

io::RunFiles run_files(const TrainOptions& options) {
  io::RunFiles files;
  files.input("--data", options.data)
      .input("--resume", options.resume)
      .input("--nmf-basis", options.model.training.nmf_basis.value_or(""))
      .output("--output", options.output)
      // The checkpoint of a resumed run may be the file it resumed from: it replaces that state.
      .output("--checkpoint", options.checkpoint.path, "--resume");
  return files;
}

}  // namespace

int run_train(const Invocation& invocation, mpi::Communicator& comm) {
  // SIGTERM/SIGUSR1 stop the iterations cleanly; every other subcommand keeps the default action.
  install_stop_handlers();
  std::optional<TrainOptions> options;
  mpi::agree(comm, [&] { options = parse_train_options(invocation, comm); });
  if (!options) return 0;
  io::RunFiles files = run_files(*options);
  files.check(options->force, comm);
  const io::InputFile file(options->data, comm);
  nn::TrainingData data;
  mpi::agree(comm, [&] { data = nn::describe_training_data(file); });
  nn::LoadedModel model = initial_model(*options, data, file, comm);
  const std::unique_ptr<nn::Optimizer<float>> optimizer = initial_optimizer(*options, model, comm);

  TrainReport report(*options, model, data, comm);
  nn::FitHooks hooks;
  report.attach(hooks);
  // Without --checkpoint a stop saves the model to --output. After the first checkpoint the
  // next one replaces this run's own.
  const bool own_checkpoint = !options->checkpoint.path.empty();
  const std::string& checkpoint = own_checkpoint ? options->checkpoint.path : options->output;
  io::IfExists checkpoint_if_exists = files.if_exists(own_checkpoint ? "--checkpoint" : "--output");
  hooks.on_checkpoint = [&](const nn::ModelDescription& description, nn::Network<float>& network,
                            nn::Optimizer<float>& state) {
    nn::write_model(checkpoint, checkpoint_if_exists, description, network, state,
                    invocation.command_line, options->data, comm);
    checkpoint_if_exists = io::IfExists::Replace;
  };
  const nn::FitOptions fit_options{options->epochs, options->checkpoint.every};
  if (nn::fit(model, *optimizer, file, data, fit_options, hooks, comm) ==
      nn::FitEnd::StopRequested) {
    report.stopped(checkpoint);
    return kExitStoppedBySignal;
  }
  nn::write_model(options->output, files.if_exists("--output"), model.description, model.network,
                  *optimizer, invocation.command_line, options->data, comm);
  report.wrote();
  return 0;
}

}  // namespace dnmf::cli
