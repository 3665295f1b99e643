#include "dnmf/nn/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>

#include "dnmf/core/error.hpp"
#include "dnmf/core/named_values.hpp"
#include "dnmf/io/history_check.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::nn {
namespace {

constexpr const char* kFormat = "dnmf model 1";

/// Calls visit(attribute name, field) for every field stored as a root attribute; the writer and
/// the reader share this one list.
template <class Visit>
void visit_attributes(ModelDescription& model, Visit&& visit) {
  ArchitectureOptions& a = model.architecture;
  TrainingSettings& t = model.training;
  TrainingProgress& p = model.progress;
  visit("architecture", a.architecture);
  visit("input_height", a.input.height);
  visit("input_width", a.input.width);
  visit("input_channels", a.input.channels);
  visit("classes", a.classes);
  visit("conv_filters", a.filters);
  visit("conv_kernel", a.kernel);
  visit("hidden", a.hidden);
  visit("nmf_rank", a.nmf_rank);
  visit("nmf_steps", a.nmf_iterations);
  visit("nmf_epsilon", a.nmf_epsilon);
  visit("optimizer", t.optimizer);
  visit("learning_rate", t.learning_rate);
  visit("momentum", t.momentum);
  visit("beta1", t.beta1);
  visit("beta2", t.beta2);
  visit("adam_epsilon", t.adam_epsilon);
  visit("batch_size", t.batch_size);
  visit("seed", t.seed);
  visit("shuffle", t.shuffle);
  visit("freeze_basis", t.freeze_basis);
  visit("nmf_basis", t.nmf_basis);
  visit("epoch", p.epoch);
  visit("step", p.step);
  visit("batch_in_epoch", p.batch_in_epoch);
  visit("epoch_loss_sum", p.epoch_loss_sum);
  visit("epoch_correct", p.epoch_correct);
}

template <class Visit>
void visit_history(TrainingProgress& p, Visit&& visit) {
  visit("/history/epoch", p.history_epoch);
  visit("/history/loss", p.history_loss);
  visit("/history/train_accuracy", p.history_train_accuracy);
  visit("/history/validation_accuracy", p.history_validation_accuracy);
  visit("/history/images_per_second", p.history_images_per_second);
  visit("/history/seconds", p.history_seconds);
}

/// The text attributes: the enums by their tables' names, and the basis's origin as the file's
/// path or "random" (what model files have always stored for a random start).
template <class T>
constexpr bool kIsText = std::is_enum_v<T> || std::is_same_v<T, std::optional<std::string>>;

constexpr const char* kRandomBasis = "random";

// The table of names of each enum stored as text.
constexpr const auto& names(Architecture) { return kArchitectureNames; }
constexpr const auto& names(OptimizerKind) { return kOptimizerNames; }
constexpr const auto& names(Shuffle) { return kShuffleNames; }

template <class Enum>
std::string as_text(Enum value) {
  return name_of(value, names(value));
}
std::string as_text(const std::optional<std::string>& basis) {
  return basis.value_or(kRandomBasis);
}

/// `what` names the attribute for the error ("FILE: attribute NAME").
template <class Enum>
void from_text(const std::string& what, const std::string& text, Enum& value) {
  value = parse_named(what, text, names(value), ErrorKind::Input);
}
void from_text(const std::string&, const std::string& text, std::optional<std::string>& basis) {
  basis = text == kRandomBasis ? std::nullopt : std::optional<std::string>(text);
}

std::vector<std::int64_t> shape_of(const std::vector<Index>& shape) {
  return {shape.begin(), shape.end()};
}

/// Reads the float32 array `name` of the given shape into `values`.
void read_named_array(const io::InputFile& file, const std::string& name,
                      const std::vector<Index>& shape, FlatMap<float> values) {
  const io::DatasetInfo info = file.dataset(name);
  const std::vector<std::uint64_t> expected(shape.begin(), shape.end());
  if (info.shape != expected || !info.numeric) {
    throw InputError(io::where(file.path(), info.path) + ": expected a numeric array of shape " +
                     io::shape_text(expected) + ", found " + io::shape_text(info.shape) + " " +
                     info.type);
  }
  const std::vector<float> stored = file.read_array<float>(info);
  // A NaN or Inf parameter (or optimizer state) makes every output NaN: refuse it on reading.
  const auto bad =
      std::find_if(stored.begin(), stored.end(), [](float v) { return !std::isfinite(v); });
  if (bad != stored.end()) {
    throw InputError(io::where(file.path(), info.path) + ": NaN or Inf at entry " +
                     std::to_string(bad - stored.begin()) +
                     " (counting from 0, row-major); the model cannot be used");
  }
  values = Eigen::Map<const Vector<float>>(stored.data(), values.size());
}

}  // namespace

void write_model(const std::string& path, io::IfExists if_exists, const ModelDescription& model,
                 Network<float>& network, Optimizer<float>& optimizer,
                 const std::string& command_line, const std::string& data_file,
                 mpi::Communicator& comm) {
  ModelDescription fields = model;
  io::OutputFile out(path, comm, if_exists);
  mpi::agree(comm, [&] {
    out.set_attribute("format", std::string(kFormat));
    visit_attributes(fields, [&](const char* name, const auto& value) {
      using T = std::decay_t<decltype(value)>;
      if constexpr (kIsText<T>)
        out.set_attribute(name, as_text(value));
      else if constexpr (std::is_floating_point_v<T>)
        out.set_attribute(name, static_cast<double>(value));
      else
        out.set_attribute(name, static_cast<std::int64_t>(value));
    });
    out.set_attribute("input_scaling", std::string(kInputScaling));
    out.set_attribute("dnmf_version", std::string(DNMF_VERSION));
    out.set_attribute("command_line", command_line);
    out.set_attribute("data_file", data_file);
    out.set_attribute("mpi_ranks", static_cast<std::int64_t>(comm.size()));
    for (const NamedArray<float>& array : network.named_parameters()) {
      out.write_array("/" + array.name, shape_of(array.shape), array.values.data());
    }
    for (const NamedArray<float>& array : optimizer.named_state()) {
      out.write_array("/optimizer/" + array.name, shape_of(array.shape), array.values.data());
    }
    visit_history(fields.progress, [&](const char* name, const std::vector<double>& values) {
      out.write_vector(name, values);
    });
  });
  out.commit();
}

LoadedModel read_model(const io::InputFile& file) {
  std::string format;
  try {
    format = file.string_attribute("format");
  } catch (const InputError&) {
    format.clear();
  }
  if (format != kFormat) {
    throw InputError(file.path() + ": not a dnmf model file (no format attribute \"" + kFormat +
                     "\")");
  }
  ModelDescription model;
  visit_attributes(model, [&](const char* name, auto& value) {
    using T = std::decay_t<decltype(value)>;
    if constexpr (kIsText<T>) {
      from_text(file.path() + ": attribute " + name, file.string_attribute(name), value);
    } else {
      const double number = file.number_attribute(name);
      if (!std::isfinite(number)) {
        throw InputError(file.path() + ": attribute " + name + " is not a finite number");
      }
      value = static_cast<T>(number);
    }
  });
  std::vector<std::pair<std::string, std::size_t>> lengths;
  visit_history(model.progress, [&](const char* name, std::vector<double>& values) {
    values = file.read_array<double>(file.dataset(name));
    lengths.emplace_back(name, values.size());
  });
  const TrainingProgress& progress = model.progress;
  io::require_consistent_history(file.path(), "/history/epoch", progress.history_epoch,
                                 static_cast<double>(progress.epoch), "epochs", lengths);
  Network<float> network = make_network<float>(model.architecture, model.training.seed);
  for (const NamedArray<float>& array : network.named_parameters()) {
    read_named_array(file, "/" + array.name, array.shape, array.values);
  }
  return {model, std::move(network)};
}

void require_fitting_images(const ArchitectureOptions& architecture, const std::string& model_path,
                            const ImageDataset& images, const std::string& data_path) {
  if (images.sample.size() == architecture.input.size()) return;
  throw InputError(io::where(data_path, images.info.path) + ": images of " +
                   images.sample.to_string() + " do not fit the model " + model_path + " (" +
                   architecture.input.to_string() + ")");
}

void read_optimizer_state(const io::InputFile& file, Optimizer<float>& optimizer,
                          std::int64_t step) {
  for (const NamedArray<float>& array : optimizer.named_state()) {
    read_named_array(file, "/optimizer/" + array.name, array.shape, array.values);
  }
  optimizer.set_step_count(step);
}

}  // namespace dnmf::nn
