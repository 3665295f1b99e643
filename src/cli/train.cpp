// dnmf train: a classifier (cnn, nmf or nmf-cnn) trained data-parallel over the MPI ranks.

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/stop_request.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/matrix_checks.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nn/data_parallel.hpp"
#include "dnmf/nn/image_data.hpp"
#include "dnmf/nn/model_file.hpp"
#include "dnmf/nn/nmf_encoder.hpp"

namespace dnmf::cli {
namespace {

constexpr const char* kUsage =
    "usage: dnmf train --data FILE --output MODEL.h5 [--model cnn|nmf|nmf-cnn] [options]\n"
    "Trains a classifier on FILE's /train/images and /train/labels, validating on /test, the\n"
    "global batch split over the MPI ranks (gradients summed by one allreduce a step). uint8\n"
    "images are divided by 255, other types used as stored. --resume continues a saved model\n"
    "bitwise exactly; the architecture and training settings then come from its file.";

/// Options that a resumed model fixes.
constexpr const char* kFixedByModel[] = {
    "model",      "nmf-basis", "freeze-basis", "nmf-rank", "nmf-steps", "conv-filters", "hidden",
    "batch-size", "optimizer", "lr",           "momentum", "seed",      "shuffle"};

struct TrainOptions {
  std::string data;
  std::string output;
  std::string resume;
  CheckpointOptions checkpoint;
  bool force = false;
  std::int64_t epochs = 5;
  bool nmf_rank_given = false;
  nn::ModelDescription model;
  ProgressMode progress = ProgressMode::Auto;
  bool quiet = false;
};

std::int64_t positive(const po::variables_map& values, const std::string& name) {
  const std::int64_t value = values[name].as<std::int64_t>();
  if (value < 1) throw UsageError("--" + name + " must be >= 1, got " + std::to_string(value));
  return value;
}

std::optional<TrainOptions> parse(const Invocation& invocation, mpi::Communicator& comm) {
  po::options_description options("dnmf train options");
  // clang-format off
  options.add_options()
      ("data", po::value<std::string>()->required(),
       "HDF5 file with /train/images, /train/labels, /test/images, /test/labels")
      ("model", po::value<std::string>()->default_value("cnn"), "cnn|nmf|nmf-cnn")
      ("nmf-basis", po::value<std::string>()->default_value(""),
       "start the NMF basis from /H (k x d) of a `dnmf factorize` output (default: random)")
      ("freeze-basis", po::bool_switch(), "keep the NMF basis fixed")
      ("nmf-rank", po::value<std::int64_t>()->default_value(50), "k, codes of the NMF encoder")
      ("nmf-steps", po::value<std::int64_t>()->default_value(10), "T, unrolled NMF updates")
      ("conv-filters", po::value<std::int64_t>()->default_value(32), "3x3 convolution filters")
      ("hidden", po::value<std::int64_t>()->default_value(128), "units of the hidden layer")
      ("epochs", po::value<std::int64_t>()->default_value(5),
       "train until this many epochs are done (counting resumed ones); 0 saves the initial model")
      ("batch-size", po::value<std::int64_t>()->default_value(64),
       "global batch, split over the ranks")
      ("optimizer", po::value<std::string>()->default_value("adam"), "adam|sgd")
      ("lr", po::value<double>()->default_value(1e-3), "learning rate")
      ("momentum", po::value<double>()->default_value(0.9), "SGD momentum")
      ("seed", po::value<std::int64_t>()->default_value(0), "initialisation and shuffle seed")
      ("shuffle", po::value<std::string>()->default_value("global"),
       "global (one permutation a epoch, same batches at any rank count) or local (within each "
       "rank's contiguous shard)")
      ("resume", po::value<std::string>()->default_value(""), "continue training this model file")
      ("output,o", po::value<std::string>()->required(), "model file to write")
      ("force,f", po::bool_switch(),
       "overwrite the output and checkpoint if they exist (never an input of the run)");
  // clang-format on
  add_checkpoint_options(options, "steps");
  add_progress_options(options);
  const auto values = parse_options(kUsage, options, {}, invocation, comm);
  if (!values) return std::nullopt;
  const po::variables_map& v = *values;
  TrainOptions parsed;
  parsed.data = v["data"].as<std::string>();
  parsed.output = v["output"].as<std::string>();
  parsed.resume = v["resume"].as<std::string>();
  parsed.checkpoint = checkpoint_options(v);
  parsed.force = v["force"].as<bool>();
  parsed.epochs = static_cast<std::int64_t>(non_negative(v, "epochs"));
  parsed.progress = progress_mode(v);
  parsed.quiet = v["quiet"].as<bool>();
  if (!parsed.resume.empty()) {
    for (const char* name : kFixedByModel) {
      if (!v[name].defaulted()) {
        throw UsageError("--" + std::string(name) + " is fixed by the resumed model " +
                         parsed.resume + "; leave it out");
      }
    }
    return parsed;
  }
  nn::ArchitectureOptions& a = parsed.model.architecture;
  nn::TrainingSettings& t = parsed.model.training;
  a.architecture = parse_named("--model", v["model"].as<std::string>(), nn::kArchitectureNames);
  t.shuffle = parse_named("--shuffle", v["shuffle"].as<std::string>(), nn::kShuffleNames);
  t.optimizer = parse_named("--optimizer", v["optimizer"].as<std::string>(), nn::kOptimizerNames);
  a.nmf_rank = positive(v, "nmf-rank");
  a.nmf_iterations = positive(v, "nmf-steps");
  a.filters = positive(v, "conv-filters");
  a.hidden = positive(v, "hidden");
  parsed.nmf_rank_given = !v["nmf-rank"].defaulted();
  t.batch_size = positive(v, "batch-size");
  t.learning_rate = v["lr"].as<double>();
  t.momentum = v["momentum"].as<double>();
  t.seed = non_negative(v, "seed");
  t.freeze_basis = v["freeze-basis"].as<bool>();
  const std::string basis = v["nmf-basis"].as<std::string>();
  if (!basis.empty()) t.nmf_basis = basis;
  if (a.architecture == nn::Architecture::Cnn && (!basis.empty() || t.freeze_basis)) {
    throw UsageError("--nmf-basis and --freeze-basis need --model nmf or nmf-cnn");
  }
  if (!(t.learning_rate > 0)) throw UsageError("--lr must be > 0");
  if (t.batch_size < comm.size()) {
    throw UsageError("--batch-size " + std::to_string(t.batch_size) +
                     " is smaller than the number of ranks " + std::to_string(comm.size()));
  }
  return parsed;
}

struct TrainingData {
  nn::ImageDataset train_images, test_images;
  io::DatasetInfo train_labels, test_labels;
};

TrainingData describe_data(const io::InputFile& file) {
  TrainingData data;
  data.train_images = nn::describe_images(file, "/train/images");
  data.train_labels = nn::describe_labels(file, "/train/labels", data.train_images);
  data.test_images = nn::describe_images(file, "/test/images");
  data.test_labels = nn::describe_labels(file, "/test/labels", data.test_images);
  if (data.test_images.sample.size() != data.train_images.sample.size()) {
    throw InputError(io::where(file.path(), "/test/images") + ": images of " +
                     data.test_images.sample.to_string() + ", but /train/images has " +
                     data.train_images.sample.to_string());
  }
  return data;
}

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

bool uses_nmf(const nn::ArchitectureOptions& options) {
  return options.architecture != nn::Architecture::Cnn;
}

/// The network to train and its description: read from --resume, or built from the options.
nn::LoadedModel initial_model(const TrainOptions& options, const TrainingData& data,
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
  if (uses_nmf(architecture) && description.training.nmf_basis) {
    basis = read_basis(*description.training.nmf_basis, options, architecture.input.size(), comm);
    architecture.nmf_rank = basis.rows();
  }
  std::optional<nn::Network<float>> network;
  mpi::agree(comm, [&] {
    network.emplace(nn::make_network<float>(architecture, description.training.seed));
    if (basis.size() > 0) network->layer<nn::NMFEncoder<float>>("nmf").load_basis(basis);
  });
  return {description, std::move(*network)};
}

/// Within-epoch progress: a bar on a terminal; no per-step lines in a log unless asked for.
ProgressMode step_progress(ProgressMode mode) {
  if (mode == ProgressMode::Auto)
    return isatty(STDERR_FILENO) ? ProgressMode::Bar : ProgressMode::None;
  return mode;
}

}  // namespace

int run_train(const Invocation& invocation, mpi::Communicator& comm) {
  // SIGTERM/SIGUSR1 stop the iterations cleanly; every other subcommand keeps the default action.
  install_stop_handlers();
  std::optional<TrainOptions> options;
  mpi::agree(comm, [&] { options = parse(invocation, comm); });
  if (!options) return 0;
  io::RunFiles files;
  files.input("--data", options->data)
      .input("--resume", options->resume)
      .input("--nmf-basis", options->model.training.nmf_basis.value_or(""))
      .output("--output", options->output)
      // The checkpoint of a resumed run may be the file it resumed from: it replaces that state.
      .output("--checkpoint", options->checkpoint.path, "--resume");
  files.check(options->force, comm);
  const io::InputFile file(options->data, comm);
  TrainingData data;
  mpi::agree(comm, [&] { data = describe_data(file); });
  nn::LoadedModel loaded = initial_model(*options, data, file, comm);
  nn::ModelDescription& model = loaded.description;
  nn::Network<float>& network = loaded.network;
  const nn::TrainingSettings& settings = model.training;
  nn::TrainingProgress& progress = model.progress;
  const bool nonnegative = uses_nmf(model.architecture);
  const std::int64_t classes = model.architecture.classes;

  std::unique_ptr<nn::Optimizer<float>> optimizer;
  std::optional<nn::EpochSchedule> schedule;
  mpi::agree(comm, [&] {
    optimizer = nn::make_optimizer(settings, network.parameter_count());
    schedule.emplace(data.train_images.count, settings.batch_size, comm.size(), comm.rank(),
                     settings.shuffle, settings.seed);
  });
  if (!options->resume.empty()) {
    const io::InputFile resumed(options->resume, comm);
    mpi::agree(comm, [&] { nn::read_optimizer_state(resumed, *optimizer, progress.step); });
  }
  nn::DataParallelTrainer<float> trainer(network, *optimizer, comm, schedule->max_local_batch());
  if (settings.freeze_basis) trainer.freeze("nmf/H");
  // Every buffer is sized here, before the first step (agreed: a rank may lack the memory).
  std::optional<nn::SampleBuffer> train_buffer, test_buffer;
  mpi::agree(comm, [&] {
    train_buffer.emplace(file, data.train_images, &data.train_labels, schedule->local_samples());
  });
  nn::SampleBuffer& train = *train_buffer;
  // Every epoch reads the same dataset again: keep its decompressed chunks (up to 256 MiB of them;
  // HDF5 keeps 1 MiB by default), and each rank inflates the digits' gzip chunks once a run,
  // not once an epoch.
  constexpr std::size_t kTrainingChunkCache = std::size_t{256} << 20;
  mpi::agree(comm, [&] {
    file.keep_open(data.train_images.info, kTrainingChunkCache);
    file.keep_open(data.train_labels, kTrainingChunkCache);
  });
  const std::vector<std::int64_t> test_rows = nn::block_rows(data.test_images.count, comm);
  mpi::agree(comm, [&] {
    test_buffer.emplace(file, data.test_images, &data.test_labels,
                        static_cast<std::int64_t>(test_rows.size()));
  });
  nn::SampleBuffer& test = *test_buffer;
  mpi::agree(comm, [&] { test.read(test_rows, nonnegative, classes); });
  const Index features = data.train_images.sample.size();
  if (comm.is_root() && !options->quiet) {
    const char* exchange = comm.size() == 1          ? ""
                           : trainer.shares_memory() ? " (sharing memory)"
                                                     : " (exchanging messages)";
    std::printf(
        "%s: %ld parameters, %ld classes, %ld training images of %s, batch %ld over %d "
        "rank%s%s, NMF basis %s%s\n",
        name_of(model.architecture.architecture, nn::kArchitectureNames).c_str(),
        static_cast<long>(network.parameter_count()), static_cast<long>(classes),
        static_cast<long>(data.train_images.count), data.train_images.sample.to_string().c_str(),
        static_cast<long>(settings.batch_size), comm.size(), comm.size() == 1 ? "" : "s", exchange,
        nonnegative ? settings.nmf_basis.value_or("random").c_str() : "(none)",
        nonnegative && !settings.nmf_basis ? " (no --nmf-basis: random start)" : "");
  }

  // Without --checkpoint a signal saves the model to --output. After the first checkpoint the
  // next one replaces this run's own.
  io::IfExists checkpoint_if_exists =
      files.if_exists(options->checkpoint.path.empty() ? "--output" : "--checkpoint");
  for (std::int64_t epoch = progress.epoch; epoch < options->epochs; ++epoch) {
    const Stopwatch clock;
    const std::vector<std::int64_t> order = schedule->local_order(epoch);
    mpi::agree(comm, [&] { train.read(order, nonnegative, classes); });
    ProgressPrinter bar(step_progress(options->progress), comm.is_root(),
                        static_cast<int>(schedule->steps()), "step");
    // Rank 0 carries the sums of a resumed partial epoch; the others start from 0.
    double loss_sum = comm.is_root() ? progress.epoch_loss_sum : 0;
    double correct = comm.is_root() ? progress.epoch_correct : 0;
    double seen = 0;
    for (Index step = progress.batch_in_epoch; step < schedule->steps(); ++step) {
      const Index begin = schedule->local_begin(step);
      const Index count = schedule->local_count(step);
      const nn::BatchView<float> images(train.images().data() + begin * features, features, count);
      const nn::LossResult<float> result =
          trainer.step(images, train.labels().segment(begin, count), schedule->global_count(step),
                       stop_signal() != 0);
      loss_sum += result.loss_sum;
      correct += static_cast<double>(result.correct);
      seen += static_cast<double>(count);
      ++progress.step;
      char status[16];  // short enough for the string's small buffer: no allocation
      std::snprintf(status, sizeof status, "loss %.4f", seen > 0 ? loss_sum / seen : 0.0);
      bar.update(static_cast<int>(step + 1), clock.seconds(), status);
      const bool stop = trainer.stop_requested();
      const int every = options->checkpoint.every;
      if (stop || (every > 0 && progress.step % every == 0)) {
        // Everything to continue exactly: the next batch, and the epoch's sums so far.
        double sums[2] = {loss_sum, correct};
        comm.allreduce_sum(sums, 2);
        progress.batch_in_epoch = step + 1;
        progress.epoch_loss_sum = sums[0];
        progress.epoch_correct = sums[1];
        const std::string& target =
            options->checkpoint.path.empty() ? options->output : options->checkpoint.path;
        trainer.gather_optimizer_state();
        nn::write_model(target, checkpoint_if_exists, model, network, *optimizer,
                        invocation.command_line, options->data, comm);
        checkpoint_if_exists = io::IfExists::Replace;
        if (stop) {
          bar.finish();
          if (comm.is_root()) {
            std::fprintf(stderr,
                         "dnmf: stopped by a signal after step %ld (epoch %ld); model "
                         "in %s, continue with --resume %s\n",
                         static_cast<long>(progress.step), static_cast<long>(epoch + 1),
                         target.c_str(), target.c_str());
          }
          return kExitStoppedBySignal;
        }
      }
    }
    bar.finish();
    const double train_seconds = clock.seconds();
    const nn::LossResult<float> validation = trainer.evaluate(test.images(), test.labels());
    double sums[3] = {loss_sum, correct, static_cast<double>(validation.correct)};
    comm.allreduce_sum(sums, 3);
    const double seconds = clock.seconds();
    const auto train_count = static_cast<double>(data.train_images.count);
    progress.epoch = epoch + 1;
    progress.batch_in_epoch = 0;
    progress.epoch_loss_sum = 0;
    progress.epoch_correct = 0;
    progress.history_epoch.push_back(static_cast<double>(epoch + 1));
    progress.history_loss.push_back(sums[0] / train_count);
    progress.history_train_accuracy.push_back(sums[1] / train_count);
    progress.history_validation_accuracy.push_back(sums[2] /
                                                   static_cast<double>(data.test_images.count));
    progress.history_images_per_second.push_back(train_count / train_seconds);
    progress.history_seconds.push_back(seconds);
    if (comm.is_root() && !options->quiet) {
      std::printf("epoch %ld/%ld  loss %.4f  train %.2f%%  test %.2f%%  %.0f images/s  %.2f s\n",
                  static_cast<long>(epoch + 1), static_cast<long>(options->epochs),
                  progress.history_loss.back(), 100 * progress.history_train_accuracy.back(),
                  100 * progress.history_validation_accuracy.back(),
                  progress.history_images_per_second.back(), seconds);
      std::fflush(stdout);
    }
  }
  trainer.gather_optimizer_state();
  nn::write_model(options->output, files.if_exists("--output"), model, network, *optimizer,
                  invocation.command_line, options->data, comm);
  if (comm.is_root() && !options->quiet) {
    std::printf(
        "wrote %s (%ld epochs, %ld steps; rank 0 spent %.2f s in collectives, %.1f MB "
        "sent)\n",
        options->output.c_str(), static_cast<long>(progress.epoch),
        static_cast<long>(progress.step), comm.seconds_in_collectives(),
        static_cast<double>(comm.bytes_in_collectives()) / 1e6);
  }
  return 0;
}

}  // namespace dnmf::cli
