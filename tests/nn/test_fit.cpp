// nn::fit at every rank count on a real HDF5 file of 23 tiny images (batches of 5, the last
// one of 3): the hooks are called as documented (once, once an epoch, once a step), the history
// grows by one entry an epoch, every rank ends with bitwise the same parameters, a stop request
// on one rank after the first epoch stops every rank after the next step with the position of
// that step and one checkpoint, a run continued from a checkpoint ends bitwise where the
// uninterrupted one does, and a bad label fails on every rank naming the sample.

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/core/stop_request.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/nn/fit.hpp"
#include "image_files.hpp"
#include "scratch_directory.hpp"

namespace dnmf::nn {
namespace {

constexpr Index kSteps = 5;  // 23 samples in batches of 5

struct TrainingRun {
  LoadedModel model;
  std::unique_ptr<Optimizer<float>> optimizer;
};

/// A small cnn of 4x4 images and 3 classes, new or read back from a checkpoint.
TrainingRun new_run() {
  ModelDescription description;
  description.architecture.input = {4, 4, 1};
  description.architecture.classes = 3;
  description.architecture.filters = 2;
  description.architecture.hidden = 6;
  description.training.batch_size = 5;
  description.training.learning_rate = 0.01;
  description.training.seed = 7;
  Network<float> network = make_network<float>(description.architecture, 7);
  const Index parameters = network.parameter_count();
  return {{description, std::move(network)}, make_optimizer(description.training, parameters)};
}

TrainingRun read_run(const std::string& path, mpi::Communicator& comm) {
  const io::InputFile file(path, comm);
  LoadedModel model = read_model(file);
  std::unique_ptr<Optimizer<float>> optimizer =
      make_optimizer(model.description.training, model.network.parameter_count());
  read_optimizer_state(file, *optimizer, model.description.progress.step);
  return {std::move(model), std::move(optimizer)};
}

/// How often each hook was called, and the progress each saw.
struct Calls {
  int start = 0, epoch_start = 0, step = 0, checkpoint = 0, epoch_end = 0;
  std::vector<std::int64_t> epochs_started, epochs_ended;
  TrainingProgress at_checkpoint;
};

struct FitTest : ::testing::Test {
  mpi::Communicator comm = mpi::Communicator::world();
  std::string directory = testing_support::scratch_directory(comm);
  std::string path = testing_support::write_image_file(directory + "/images.h5", 23, 7, 4, 3, comm);
  io::InputFile file{path, comm};
  TrainingData data = describe_training_data(file);
  Calls calls;

  FitHooks counting_hooks() {
    FitHooks hooks;
    hooks.on_start = [this](const DataParallelTrainer<float>&) { ++calls.start; };
    hooks.on_epoch_start = [this](std::int64_t epoch, Index steps) {
      ++calls.epoch_start;
      calls.epochs_started.push_back(epoch);
      EXPECT_EQ(steps, kSteps);
    };
    hooks.on_step = [this](Index done, double mean_loss, double) {
      ++calls.step;
      EXPECT_GE(done, 1);
      EXPECT_LE(done, kSteps);
      EXPECT_GT(mean_loss, 0);
    };
    hooks.on_checkpoint = [this](const ModelDescription& model, Network<float>&,
                                 Optimizer<float>&) {
      ++calls.checkpoint;
      calls.at_checkpoint = model.progress;
    };
    hooks.on_epoch_end = [this](const TrainingProgress& progress) {
      ++calls.epoch_end;
      calls.epochs_ended.push_back(progress.epoch);
    };
    return hooks;
  }

  /// Whether every rank holds bitwise these parameters (their sum and a weighted sum agree).
  bool same_on_every_rank(const Network<float>& network) {
    double sum = 0, weighted = 0;
    const auto parameters = network.parameters();
    for (Index i = 0; i < parameters.size(); ++i) {
      sum += parameters[i];
      weighted += static_cast<double>(i + 1) * parameters[i];
    }
    return comm.min(sum) == comm.max(sum) && comm.min(weighted) == comm.max(weighted);
  }
};

TEST_F(FitTest, CallsEachHookAsDocumented) {
  TrainingRun run = new_run();
  EXPECT_EQ(fit(run.model, *run.optimizer, file, data, {2, 0}, counting_hooks(), comm),
            FitEnd::Completed);
  EXPECT_EQ(calls.start, 1);
  EXPECT_EQ(calls.epochs_started, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(calls.step, 2 * kSteps);
  EXPECT_EQ(calls.checkpoint, 0);
  EXPECT_EQ(calls.epochs_ended, (std::vector<std::int64_t>{1, 2}));
  const TrainingProgress& progress = run.model.description.progress;
  EXPECT_EQ(progress.epoch, 2);
  EXPECT_EQ(progress.step, 2 * kSteps);
  EXPECT_EQ(progress.batch_in_epoch, 0);
  EXPECT_EQ(progress.history_epoch, (std::vector<double>{1, 2}));
  EXPECT_EQ(progress.history_validation_accuracy.size(), 2u);
  EXPECT_TRUE(same_on_every_rank(run.model.network));
}

TEST_F(FitTest, AStopRequestOnOneRankStopsEveryRankAfterTheNextStep) {
  install_stop_handlers();
  TrainingRun run = new_run();
  FitHooks hooks = counting_hooks();
  hooks.on_epoch_end = [&](const TrainingProgress& progress) {
    ++calls.epoch_end;
    if (comm.rank() == comm.size() - 1) std::raise(SIGUSR1);
    EXPECT_EQ(progress.epoch, 1);
  };
  const FitEnd end = fit(run.model, *run.optimizer, file, data, {3, 0}, hooks, comm);
  clear_stop_signal();
  EXPECT_EQ(end, FitEnd::StopRequested);
  EXPECT_EQ(calls.epoch_end, 1);
  EXPECT_EQ(calls.step, kSteps + 1);
  EXPECT_EQ(calls.checkpoint, 1);
  const TrainingProgress& progress = run.model.description.progress;
  EXPECT_EQ(progress.epoch, 1);
  EXPECT_EQ(progress.batch_in_epoch, 1);
  EXPECT_EQ(progress.step, kSteps + 1);
  EXPECT_EQ(calls.at_checkpoint.step, kSteps + 1);
  EXPECT_EQ(calls.at_checkpoint.batch_in_epoch, 1);
  EXPECT_GT(progress.epoch_loss_sum, 0);  // the sums over the ranks of the step done
  EXPECT_TRUE(same_on_every_rank(run.model.network));
}

TEST_F(FitTest, ContinuesFromACheckpointBitwise) {
  TrainingRun whole = new_run();
  ASSERT_EQ(fit(whole.model, *whole.optimizer, file, data, {2, 0}, {}, comm), FitEnd::Completed);

  // Checkpoints every 3 steps; the one after step 6 (second epoch, batch 1) is kept.
  const std::string checkpoint = directory + "/step6.h5";
  TrainingRun first = new_run();
  FitHooks hooks;
  hooks.on_checkpoint = [&](const ModelDescription& model, Network<float>& network,
                            Optimizer<float>& optimizer) {
    if (model.progress.step != 6) return;
    write_model(checkpoint, io::IfExists::Fail, model, network, optimizer, "test", path, comm);
  };
  ASSERT_EQ(fit(first.model, *first.optimizer, file, data, {2, 3}, hooks, comm), FitEnd::Completed);
  TrainingRun continued = read_run(checkpoint, comm);
  EXPECT_EQ(continued.model.description.progress.batch_in_epoch, 1);
  ASSERT_EQ(fit(continued.model, *continued.optimizer, file, data, {2, 0}, {}, comm),
            FitEnd::Completed);
  EXPECT_TRUE(continued.model.network.parameters() == whole.model.network.parameters());
  EXPECT_TRUE(first.model.network.parameters() == whole.model.network.parameters());
  const std::vector<NamedArray<float>> a = whole.optimizer->named_state();
  const std::vector<NamedArray<float>> b = continued.optimizer->named_state();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].values == b[i].values) << a[i].name;
  const TrainingProgress &p = whole.model.description.progress,
                         &q = continued.model.description.progress;
  EXPECT_EQ(p.step, q.step);
  EXPECT_EQ(p.history_loss, q.history_loss);
  EXPECT_EQ(p.history_train_accuracy, q.history_train_accuracy);
  EXPECT_EQ(p.history_validation_accuracy, q.history_validation_accuracy);
}

TEST_F(FitTest, ABadLabelFailsOnEveryRank) {
  const std::string bad = directory + "/bad_label.h5";
  {
    io::OutputFile out(bad, comm);
    testing_support::write_split(out, "train", 23, 4, 3, 0);
    testing_support::write_split(out, "test", 7, 4, 2, 0);  // labels 0, 1: fine
    out.commit();
  }
  const io::InputFile bad_file(bad, comm);
  const TrainingData bad_data = describe_training_data(bad_file);
  TrainingRun run = new_run();
  run.model.description.architecture.classes = 2;  // the training labels reach 2
  run.model.network = make_network<float>(run.model.description.architecture, 7);
  run.optimizer =
      make_optimizer(run.model.description.training, run.model.network.parameter_count());
  try {
    fit(run.model, *run.optimizer, bad_file, bad_data, {1, 0}, {}, comm);
    ADD_FAILURE() << "a label out of range was accepted";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(bad + ":/train/labels: label 2 in sample"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace dnmf::nn
