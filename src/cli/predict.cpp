// dnmf predict: class probabilities of a trained model for unlabelled images.

#include <cstdio>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nn/inference.hpp"

namespace dnmf::cli {
namespace {

constexpr const char* kUsage =
    "usage: dnmf predict --model MODEL.h5 --input FILE [--dataset /images] --output FILE\n"
    "Writes /probabilities (N x classes, float64): the softmax of the model's output for each\n"
    "of the N images, one row an image, scaled as in training.";

}  // namespace

int run_predict(const Invocation& invocation, mpi::Communicator& comm) {
  po::options_description options("dnmf predict options");
  // clang-format off
  options.add_options()
      ("model,m", po::value<std::string>()->required(), "model file written by dnmf train")
      ("input,i", po::value<std::string>()->required(), "HDF5 file holding the images")
      ("dataset,d", po::value<std::string>()->default_value("/images"), "path of the images")
      ("output,o", po::value<std::string>()->required(), "HDF5 file to write")
      ("force,f", po::bool_switch(), "overwrite the output if it exists")
      ("quiet,q", po::bool_switch(), "print nothing but errors");
  // clang-format on
  add_threads_option(options);
  const std::optional<po::variables_map> values =
      mpi::agreed(comm, [&] { return parse_options(kUsage, options, {}, invocation, comm); });
  if (!values) return 0;
  apply_threads_option(*values);
  const po::variables_map& v = *values;
  const std::string model_path = v["model"].as<std::string>();
  const std::string input_path = v["input"].as<std::string>();
  const std::string output_path = v["output"].as<std::string>();
  io::RunFiles files;
  files.input("--model", model_path).input("--input", input_path).output("--output", output_path);
  files.check(v["force"].as<bool>(), comm);

  nn::InferenceInput input =
      nn::load_inference_input(model_path, input_path, v["dataset"].as<std::string>(), "", comm);
  const nn::ArchitectureOptions& architecture = input.model->description.architecture;
  const std::vector<std::int64_t>& rows = input.rows;
  const nn::ImageDataset& images = input.images;

  // Row-major N_local x classes: the rows this rank writes.
  RowMatrix probabilities(static_cast<Index>(rows.size()), architecture.classes);
  nn::for_each_chunk(
      input.model->network, input.samples->images(), [&](nn::Index first, const auto& logits) {
        for (nn::Index j = 0; j < logits.cols(); ++j) {
          const Eigen::ArrayXd shifted =
              (logits.col(j).array() - logits.col(j).maxCoeff()).template cast<double>();
          probabilities.row(first + j) = (shifted.exp() / shifted.exp().sum()).matrix().transpose();
        }
      });
  io::OutputFile out(output_path, comm, files.if_exists("--output"));
  mpi::agree(comm, [&] {
    out.write_rows("/probabilities", images.count, architecture.classes, probabilities.data(),
                   rows.empty() ? 0 : rows.front(), static_cast<std::int64_t>(rows.size()));
    out.set_attribute("dnmf_version", std::string(DNMF_VERSION));
    out.set_attribute("command_line", invocation.command_line);
    out.set_attribute("model_file", model_path);
    out.set_attribute("input_file", input_path);
    out.set_attribute("input_dataset", images.info.path);
    out.set_attribute("input_scaling", std::string(nn::kInputScaling));
  });
  out.commit();
  if (comm.is_root() && !v["quiet"].as<bool>()) {
    std::printf("wrote %s: /probabilities %lldx%ld\n", output_path.c_str(),
                static_cast<long long>(images.count), static_cast<long>(architecture.classes));
  }
  return 0;
}

}  // namespace dnmf::cli
