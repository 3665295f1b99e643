#include "dnmf/nn/inference.hpp"

#include "dnmf/mpi/agree.hpp"

namespace dnmf::nn {

InferenceInput load_inference_input(const std::string& model_path, const std::string& data_path,
                                    const std::string& images_name, const std::string& labels_name,
                                    mpi::Communicator& comm) {
  InferenceInput input;
  const io::InputFile model_file(model_path, comm);
  mpi::agree(comm, [&] { input.model = std::make_unique<LoadedModel>(read_model(model_file)); });
  const ArchitectureOptions& architecture = input.model->description.architecture;
  input.file = std::make_unique<io::InputFile>(data_path, comm);
  mpi::agree(comm, [&] {
    input.images = describe_images(*input.file, images_name);
    if (!labels_name.empty())
      input.labels = describe_labels(*input.file, labels_name, input.images);
    require_fitting_images(architecture, model_path, input.images, data_path);
  });
  input.rows = block_rows(input.images.count, comm);
  mpi::agree(comm, [&] {
    input.samples = std::make_unique<SampleBuffer>(*input.file, input.images,
                                                   labels_name.empty() ? nullptr : &input.labels,
                                                   static_cast<std::int64_t>(input.rows.size()));
  });
  const bool nonnegative = uses_nmf(architecture.architecture);
  mpi::agree(comm, [&] { input.samples->read(input.rows, nonnegative, architecture.classes); });
  return input;
}

}  // namespace dnmf::nn
