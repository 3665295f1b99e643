// dnmf train: a classifier (cnn, nmf or nmf-cnn) trained data-parallel over the MPI ranks.

#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/train_options.hpp"
#include "cli/train_report.hpp"
#include "dnmf/core/stop_request.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/thread_layout.hpp"
#include "dnmf/nn/fit.hpp"
#include "dnmf/nn/training_start.hpp"

namespace dnmf::cli {
namespace {

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
  nn::TrainingStart start =
      options->resume.empty()
          ? nn::start_training(options->model, options->nmf_rank_given, file, data, comm)
          : nn::resume_training(options->resume, file, data, comm);
  nn::LoadedModel& model = start.model;
  nn::Optimizer<float>& optimizer = *start.optimizer;

  TrainReport report(*options, model, data, comm, mpi::describe_layout(comm));
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
  if (nn::fit(model, optimizer, file, data, fit_options, hooks, comm) ==
      nn::FitEnd::StopRequested) {
    report.stopped(checkpoint);
    return kExitStoppedBySignal;
  }
  nn::write_model(options->output, files.if_exists("--output"), model.description, model.network,
                  optimizer, invocation.command_line, options->data, comm);
  report.wrote();
  return 0;
}

}  // namespace dnmf::cli
