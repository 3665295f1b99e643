#include "cli/train_options.hpp"

#include "dnmf/core/error.hpp"
#include "dnmf/core/named_values.hpp"

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

po::options_description train_options_description() {
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
  add_threads_option(options);
  return options;
}

std::int64_t positive(const po::variables_map& values, const std::string& name) {
  const std::int64_t value = values[name].as<std::int64_t>();
  if (value < 1) throw UsageError("--" + name + " must be >= 1, got " + std::to_string(value));
  return value;
}

/// The architecture and training settings of a new model.
nn::ModelDescription new_model(const po::variables_map& v, const mpi::Communicator& comm) {
  nn::ModelDescription model;
  nn::ArchitectureOptions& a = model.architecture;
  nn::TrainingSettings& t = model.training;
  a.architecture = parse_named("--model", v["model"].as<std::string>(), nn::kArchitectureNames);
  t.shuffle = parse_named("--shuffle", v["shuffle"].as<std::string>(), nn::kShuffleNames);
  a.nmf_rank = positive(v, "nmf-rank");
  a.nmf_iterations = positive(v, "nmf-steps");
  a.filters = positive(v, "conv-filters");
  a.hidden = positive(v, "hidden");
  t.batch_size = positive(v, "batch-size");
  t.learning_rate = v["lr"].as<double>();
  t.momentum = v["momentum"].as<double>();
  t.seed = non_negative(v, "seed");
  t.freeze_basis = v["freeze-basis"].as<bool>();
  const std::string basis = v["nmf-basis"].as<std::string>();
  if (!basis.empty()) t.nmf_basis = basis;
  if (!nn::uses_nmf(a.architecture) && (t.nmf_basis || t.freeze_basis)) {
    throw UsageError("--nmf-basis and --freeze-basis need --model nmf or nmf-cnn");
  }
  t.optimizer = parse_named("--optimizer", v["optimizer"].as<std::string>(), nn::kOptimizerNames);
  if (!(t.learning_rate > 0)) throw UsageError("--lr must be > 0");
  if (t.batch_size < comm.size()) {
    throw UsageError("--batch-size " + std::to_string(t.batch_size) +
                     " is smaller than the number of ranks " + std::to_string(comm.size()));
  }
  return model;
}

}  // namespace

std::optional<TrainOptions> parse_train_options(const Invocation& invocation,
                                                mpi::Communicator& comm) {
  const auto values = parse_options(kUsage, train_options_description(), {}, invocation, comm);
  if (!values) return std::nullopt;
  const po::variables_map& v = *values;
  apply_threads_option(v);
  TrainOptions parsed;
  parsed.data = v["data"].as<std::string>();
  parsed.output = v["output"].as<std::string>();
  parsed.resume = v["resume"].as<std::string>();
  parsed.checkpoint = checkpoint_options(v);
  parsed.force = v["force"].as<bool>();
  parsed.epochs = static_cast<std::int64_t>(non_negative(v, "epochs"));
  parsed.progress = progress_mode(v);
  parsed.quiet = v["quiet"].as<bool>();
  if (parsed.resume.empty()) {
    parsed.model = new_model(v, comm);
    parsed.nmf_rank_given = !v["nmf-rank"].defaulted();
    return parsed;
  }
  for (const char* name : kFixedByModel) {
    if (!v[name].defaulted()) {
      throw UsageError("--" + std::string(name) + " is fixed by the resumed model " +
                       parsed.resume + "; leave it out");
    }
  }
  return parsed;
}

}  // namespace dnmf::cli
