// The model file at every rank count, on real HDF5 files: a model written and read back exactly
// (every attribute of its description, every parameter and optimizer state array bitwise, the
// history), a random NMF start stored as "random", and the refusals of a history that does not
// match the recorded epochs and of an attribute that names no architecture.

#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>

#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/nn/model_file.hpp"
#include "scratch_directory.hpp"

namespace dnmf::nn {
namespace {

/// An nmf-cnn model of 6x6 images, its basis from a file, in the middle of its third epoch.
ModelDescription description() {
  ModelDescription model;
  ArchitectureOptions& a = model.architecture;
  a.architecture = Architecture::NmfCnn;
  a.input = {6, 6, 1};
  a.classes = 3;
  a.filters = 2;
  a.hidden = 5;
  a.nmf_rank = 4;
  a.nmf_iterations = 2;
  a.nmf_epsilon = 1e-5;
  TrainingSettings& t = model.training;
  t.optimizer = OptimizerKind::Adam;
  t.learning_rate = 0.0125;
  t.beta1 = 0.875;
  t.batch_size = 7;
  t.seed = 12345;
  t.shuffle = Shuffle::Local;
  t.freeze_basis = true;
  t.nmf_basis = "basis.h5";
  TrainingProgress& p = model.progress;
  p.epoch = 2;
  p.step = 17;
  p.batch_in_epoch = 3;
  p.epoch_loss_sum = 12.375;
  p.epoch_correct = 9;
  p.history_epoch = {1, 2};
  p.history_loss = {1.5, 0.75};
  p.history_train_accuracy = {0.25, 0.5};
  p.history_validation_accuracy = {0.125, 0.375};
  p.history_images_per_second = {1000, 2000};
  p.history_seconds = {0.5, 0.25};
  return model;
}

/// Values that no initialisation gives: rising by 0.001 from `offset`, array after array.
void fill(std::vector<NamedArray<float>> arrays, float offset) {
  float next = offset;
  for (NamedArray<float>& array : arrays) {
    for (Index i = 0; i < array.values.size(); ++i) array.values[i] = (next += 0.001f);
  }
}

void expect_same_arrays(std::vector<NamedArray<float>> a, std::vector<NamedArray<float>> b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].shape, b[i].shape);
    EXPECT_TRUE(a[i].values == b[i].values) << a[i].name;
  }
}

void expect_same_description(const ModelDescription& a, const ModelDescription& b) {
  const ArchitectureOptions &x = a.architecture, &y = b.architecture;
  EXPECT_EQ(x.architecture, y.architecture);
  EXPECT_EQ(x.input.to_string(), y.input.to_string());
  EXPECT_EQ(x.classes, y.classes);
  EXPECT_EQ(x.filters, y.filters);
  EXPECT_EQ(x.kernel, y.kernel);
  EXPECT_EQ(x.hidden, y.hidden);
  EXPECT_EQ(x.nmf_rank, y.nmf_rank);
  EXPECT_EQ(x.nmf_iterations, y.nmf_iterations);
  EXPECT_EQ(x.nmf_epsilon, y.nmf_epsilon);
  const TrainingSettings &s = a.training, &t = b.training;
  EXPECT_EQ(s.optimizer, t.optimizer);
  EXPECT_EQ(s.learning_rate, t.learning_rate);
  EXPECT_EQ(s.momentum, t.momentum);
  EXPECT_EQ(s.beta1, t.beta1);
  EXPECT_EQ(s.beta2, t.beta2);
  EXPECT_EQ(s.adam_epsilon, t.adam_epsilon);
  EXPECT_EQ(s.batch_size, t.batch_size);
  EXPECT_EQ(s.seed, t.seed);
  EXPECT_EQ(s.shuffle, t.shuffle);
  EXPECT_EQ(s.freeze_basis, t.freeze_basis);
  EXPECT_EQ(s.nmf_basis, t.nmf_basis);
  const TrainingProgress &p = a.progress, &q = b.progress;
  EXPECT_EQ(p.epoch, q.epoch);
  EXPECT_EQ(p.step, q.step);
  EXPECT_EQ(p.batch_in_epoch, q.batch_in_epoch);
  EXPECT_EQ(p.epoch_loss_sum, q.epoch_loss_sum);
  EXPECT_EQ(p.epoch_correct, q.epoch_correct);
  EXPECT_EQ(p.history_epoch, q.history_epoch);
  EXPECT_EQ(p.history_loss, q.history_loss);
  EXPECT_EQ(p.history_train_accuracy, q.history_train_accuracy);
  EXPECT_EQ(p.history_validation_accuracy, q.history_validation_accuracy);
  EXPECT_EQ(p.history_images_per_second, q.history_images_per_second);
  EXPECT_EQ(p.history_seconds, q.history_seconds);
}

struct ModelFileTest : ::testing::Test {
  mpi::Communicator comm = mpi::Communicator::world();
  std::string directory = testing_support::scratch_directory(comm);

  /// Writes `model` with parameters and Adam state of fill() to NAME in the scratch directory.
  std::string write(const std::string& name, const ModelDescription& model) {
    Network<float> network = make_network<float>(model.architecture, model.training.seed);
    fill(network.named_parameters(), -0.5f);
    const std::unique_ptr<Optimizer<float>> optimizer =
        make_optimizer(model.training, network.parameter_count());
    fill(optimizer->named_state(), 0.25f);
    const std::string path = directory + "/" + name;
    write_model(path, io::IfExists::Fail, model, network, *optimizer, "dnmf train ...", "data.h5",
                comm);
    return path;
  }

  /// The message of the InputError that reading `path` throws, or "".
  std::string read_error(const std::string& path) {
    const io::InputFile file(path, comm);
    try {
      read_model(file);
    } catch (const InputError& error) {
      return error.what();
    }
    return "";
  }

  /// Rank 0 replaces the text attribute `name` of the file at `path`; the others wait.
  void replace_text_attribute(const std::string& path, const char* name, const std::string& text) {
    if (comm.is_root()) {
      const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      ASSERT_GE(H5Adelete(file, name), 0);
      const hid_t type = H5Tcopy(H5T_C_S1);
      H5Tset_size(type, text.size());
      const hid_t space = H5Screate(H5S_SCALAR);
      const hid_t attribute = H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(attribute, type, text.data());
      H5Aclose(attribute);
      H5Sclose(space);
      H5Tclose(type);
      H5Fclose(file);
    }
    MPI_Barrier(comm.raw());
  }
};

TEST_F(ModelFileTest, ReadsBackWhatItWrote) {
  const ModelDescription model = description();
  const std::string path = write("model.h5", model);
  const io::InputFile file(path, comm);
  LoadedModel loaded = read_model(file);
  expect_same_description(model, loaded.description);
  Network<float> network = make_network<float>(model.architecture, model.training.seed);
  fill(network.named_parameters(), -0.5f);
  expect_same_arrays(network.named_parameters(), loaded.network.named_parameters());

  std::unique_ptr<Optimizer<float>> written =
      make_optimizer(model.training, network.parameter_count());
  fill(written->named_state(), 0.25f);
  std::unique_ptr<Optimizer<float>> state =
      make_optimizer(loaded.description.training, network.parameter_count());
  read_optimizer_state(file, *state, loaded.description.progress.step);
  expect_same_arrays(written->named_state(), state->named_state());
  EXPECT_EQ(state->step_count(), 17);
  EXPECT_EQ(file.string_attribute("format"), "dnmf model 1");
  EXPECT_EQ(file.string_attribute("architecture"), "nmf-cnn");
  EXPECT_EQ(file.string_attribute("optimizer"), "adam");
  EXPECT_EQ(file.string_attribute("shuffle"), "local");
  EXPECT_EQ(file.string_attribute("data_file"), "data.h5");
  EXPECT_EQ(file.integer_attribute("mpi_ranks"), comm.size());
}

TEST_F(ModelFileTest, StoresARandomStartAsRandom) {
  ModelDescription model = description();
  model.training.nmf_basis.reset();
  model.training.optimizer = OptimizerKind::Sgd;
  model.training.momentum = 0.5;
  const std::string path = write("random.h5", model);
  const io::InputFile file(path, comm);
  EXPECT_EQ(file.string_attribute("nmf_basis"), "random");
  EXPECT_EQ(file.string_attribute("optimizer"), "sgd");
  expect_same_description(model, read_model(file).description);
  EXPECT_NO_THROW(file.dataset("/optimizer/sgd/velocity"));
}

TEST_F(ModelFileTest, RefusesAHistoryThatDoesNotMatchTheEpochs) {
  ModelDescription model = description();
  model.progress.epoch = 3;
  const std::string path = write("short_history.h5", model);
  EXPECT_EQ(read_error(path), path +
                                  ": records 3 epochs, but /history/epoch holds 2; the file is "
                                  "inconsistent");
  model = description();
  model.progress.history_epoch = {1, 3};
  const std::string gap = write("gap.h5", model);
  EXPECT_EQ(read_error(gap), gap +
                                 ":/history/epoch: not 1, 2, ..., 2 (entry 1 is 3); the file is "
                                 "inconsistent");
  model = description();
  model.progress.history_loss = {1.5};
  const std::string column = write("column.h5", model);
  EXPECT_EQ(read_error(column), column +
                                    ":/history/loss: holds 1 entries, but /history/epoch holds "
                                    "2; the file is inconsistent");
}

TEST_F(ModelFileTest, RefusesAnAttributeThatNamesNoArchitecture) {
  const std::string path = write("resnet.h5", description());
  replace_text_attribute(path, "architecture", "resnet");
  EXPECT_EQ(read_error(path),
            path + ": attribute architecture: 'resnet' is not one of cnn, nmf, nmf-cnn");
}

}  // namespace
}  // namespace dnmf::nn
