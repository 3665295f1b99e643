// dnmf evaluate: the accuracy and confusion matrix of a trained model on labelled images.

#include <cmath>
#include <cstdio>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nn/inference.hpp"

namespace dnmf::cli {
namespace {

constexpr const char* kUsage =
    "usage: dnmf evaluate --model MODEL.h5 --data FILE [--split test]\n"
    "Prints the accuracy (a line starting 'accuracy'), the mean cross-entropy and the confusion\n"
    "matrix of the model on FILE's /SPLIT/images and /SPLIT/labels, scaled as in training.";

}  // namespace

int run_evaluate(const Invocation& invocation, mpi::Communicator& comm) {
  po::options_description options("dnmf evaluate options");
  // clang-format off
  options.add_options()
      ("model,m", po::value<std::string>()->required(), "model file written by dnmf train")
      ("data", po::value<std::string>()->required(), "HDF5 file with /SPLIT/images and /SPLIT/labels")
      ("split", po::value<std::string>()->default_value("test"), "group of the data file: test, train, ...");
  // clang-format on
  add_threads_option(options);
  const std::optional<po::variables_map> values =
      mpi::agreed(comm, [&] { return parse_options(kUsage, options, {}, invocation, comm); });
  if (!values) return 0;
  apply_threads_option(*values);
  const std::string model_path = (*values)["model"].as<std::string>();
  const std::string data_path = (*values)["data"].as<std::string>();
  const std::string split = "/" + (*values)["split"].as<std::string>();

  nn::InferenceInput input =
      nn::load_inference_input(model_path, data_path, split + "/images", split + "/labels", comm);
  const nn::ArchitectureOptions& architecture = input.model->description.architecture;
  const nn::SampleBuffer& samples = *input.samples;

  const nn::Index classes = architecture.classes;
  std::vector<std::int64_t> confusion(static_cast<std::size_t>(classes * classes), 0);
  double loss_sum = 0;
  nn::for_each_chunk(
      input.model->network, samples.images(), [&](nn::Index first, const auto& logits) {
        for (nn::Index j = 0; j < logits.cols(); ++j) {
          nn::Index predicted = 0;
          const float largest = logits.col(j).maxCoeff(&predicted);
          const int truth = samples.labels()[first + j];
          const double log_sum =
              largest +
              std::log((logits.col(j).array() - largest).exp().template cast<double>().sum());
          loss_sum += log_sum - logits(truth, j);
          ++confusion[static_cast<std::size_t>(truth * classes + predicted)];
        }
      });
  comm.allreduce_sum(confusion.data(), static_cast<std::int64_t>(confusion.size()));
  loss_sum = comm.sum(loss_sum);
  if (!comm.is_root()) return 0;
  std::int64_t correct = 0;
  for (nn::Index c = 0; c < classes; ++c)
    correct += confusion[static_cast<std::size_t>(c * classes + c)];
  std::printf("accuracy %.4f (%lld of %lld images of %s:%s)\n",
              static_cast<double>(correct) / static_cast<double>(input.images.count),
              static_cast<long long>(correct), static_cast<long long>(input.images.count),
              data_path.c_str(), input.images.info.path.c_str());
  std::printf("loss %.6f (mean cross-entropy)\n",
              loss_sum / static_cast<double>(input.images.count));
  std::printf("confusion matrix (rows: true label, columns: predicted label)\n%6s", "");
  for (nn::Index c = 0; c < classes; ++c) std::printf(" %6ld", static_cast<long>(c));
  std::printf("\n");
  for (nn::Index t = 0; t < classes; ++t) {
    std::printf("%6ld", static_cast<long>(t));
    for (nn::Index c = 0; c < classes; ++c) {
      std::printf(" %6lld",
                  static_cast<long long>(confusion[static_cast<std::size_t>(t * classes + c)]));
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace dnmf::cli
