// dnmf convert: outside formats into the HDF5 layout the other subcommands read.

#include <cstdio>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/io/idx_file.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::cli {
namespace {

constexpr const char* kUsage =
    "usage: dnmf convert mnist --images IDX --labels IDX [--test-images IDX --test-labels IDX]\n"
    "                          --output FILE\n"
    "Converts MNIST's IDX files (gzip-compressed or not) into /train/images (N x 28 x 28 uint8)\n"
    "and /train/labels (N uint8), and /test/... from the test files, as dnmf train reads them.";

/// Reads a pair of IDX files: N images and N labels.
void read_pair(const std::string& images_path, const std::string& labels_path, io::IdxArray& images,
               io::IdxArray& labels) {
  images = io::read_idx(images_path);
  labels = io::read_idx(labels_path);
  if (images.shape.size() < 2) {
    throw InputError(images_path + ": expected images (N x rows x columns), found " +
                     std::to_string(images.shape.size()) + "-D data");
  }
  if (labels.shape.size() != 1 || labels.shape[0] != images.shape[0]) {
    throw InputError(labels_path + ": expected " + std::to_string(images.shape[0]) +
                     " labels (one per image of " + images_path + "), found " +
                     std::to_string(labels.values.size()));
  }
}

}  // namespace

int run_convert(const Invocation& invocation, mpi::Communicator& comm) {
  po::options_description options("dnmf convert options");
  // clang-format off
  options.add_options()
      ("format", po::value<std::string>()->required(), "mnist")
      ("images", po::value<std::string>()->required(), "IDX images (e.g. train-images-idx3-ubyte.gz)")
      ("labels", po::value<std::string>()->required(), "IDX labels (e.g. train-labels-idx1-ubyte.gz)")
      ("test-images", po::value<std::string>()->default_value(""), "IDX test images (t10k-...)")
      ("test-labels", po::value<std::string>()->default_value(""), "IDX test labels")
      ("output,o", po::value<std::string>()->required(), "HDF5 file to write")
      ("force,f", po::bool_switch(), "overwrite the output if it exists")
      ("quiet,q", po::bool_switch(), "print nothing but errors");
  // clang-format on
  po::positional_options_description positional;
  positional.add("format", 1);
  const std::optional<po::variables_map> values = mpi::agreed(comm, [&] {
    std::optional<po::variables_map> parsed =
        parse_options(kUsage, options, positional, invocation, comm);
    if (!parsed) return parsed;
    if ((*parsed)["format"].as<std::string>() != "mnist") {
      throw UsageError("convert: unknown format '" + (*parsed)["format"].as<std::string>() +
                       "' (known: mnist)");
    }
    if ((*parsed)["test-images"].as<std::string>().empty() !=
        (*parsed)["test-labels"].as<std::string>().empty()) {
      throw UsageError("--test-images and --test-labels go together");
    }
    return parsed;
  });
  if (!values) return 0;
  const po::variables_map& v = *values;
  const std::string output = v["output"].as<std::string>();
  io::RunFiles files;
  for (const char* option : {"images", "labels", "test-images", "test-labels"}) {
    files.input(std::string("--") + option, v[option].as<std::string>());
  }
  files.output("--output", output).check(v["force"].as<bool>(), comm);

  // Every rank reads the (small) files, so every rank sees the same errors and shapes.
  struct Split {
    std::string group;
    io::IdxArray images, labels;
  };
  const std::vector<Split> splits = mpi::agreed(comm, [&] {
    std::vector<Split> read;
    read.push_back({"/train", {}, {}});
    read_pair(v["images"].as<std::string>(), v["labels"].as<std::string>(), read.back().images,
              read.back().labels);
    if (v["test-images"].as<std::string>().empty()) return read;
    read.push_back({"/test", {}, {}});
    read_pair(v["test-images"].as<std::string>(), v["test-labels"].as<std::string>(),
              read.back().images, read.back().labels);
    return read;
  });
  io::OutputFile out(output, comm, files.if_exists("--output"));
  mpi::agree(comm, [&] {
    for (const Split& split : splits) {
      out.write_array(split.group + "/images", split.images.shape, split.images.values.data());
      out.write_array(split.group + "/labels", split.labels.shape, split.labels.values.data());
    }
    out.set_attribute("dnmf_version", std::string(DNMF_VERSION));
    out.set_attribute("command_line", invocation.command_line);
  });
  out.commit();
  if (comm.is_root() && !v["quiet"].as<bool>()) {
    for (const Split& split : splits) {
      std::printf("%s:%s: %lld images, %lld labels\n", output.c_str(), split.group.c_str(),
                  static_cast<long long>(split.images.shape[0]),
                  static_cast<long long>(split.labels.shape[0]));
    }
  }
  return 0;
}

}  // namespace dnmf::cli
