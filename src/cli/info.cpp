// dnmf info: what an HDF5 file holds (datasets, shapes, types), the summary of a sweep output,
// and its root attributes.

#include <cstdio>
#include <iostream>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/sparse_input.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::cli {
namespace {

/// The summary table of a dnmf sweep output (or of the sweep inside an .h5ad it wrote), if
/// `file` is one: a line per k. Collective.
std::string sweep_summary(const io::InputFile& file, mpi::Communicator& comm) {
  return mpi::agreed(comm, [&] {
    std::string prefix;
    for (const char* candidate : {"", "/uns/dnmf_sweep"}) {
      if (file.is_group(std::string(candidate) + "/summary") &&
          file.is_dataset(std::string(candidate) + "/summary/k")) {
        prefix = std::string(candidate) + "/summary/";
      }
    }
    if (prefix.empty()) return std::string();
    const auto column = [&](const char* name) {
      return file.read_array<double>(file.dataset(prefix + name));
    };
    const std::vector<double> k = column("k"), test = column("test_error_mean"),
                              spread = column("test_error_sd"), train = column("train_error_mean"),
                              stability = column("stability");
    std::string table =
        "sweep summary:\n       k   test_error      test_sd  train_error  stability\n";
    char line[128];
    for (std::size_t i = 0; i < k.size(); ++i) {
      std::snprintf(line, sizeof line, "  %6.0f %12.6f %12.6f %12.6f %10.4f\n", k[i], test[i],
                    spread[i], train[i], stability[i]);
      table += line;
    }
    return table;
  });
}

}  // namespace

int run_info(const Invocation& invocation, mpi::Communicator& comm) {
  po::options_description options("dnmf info options");
  options.add_options()("file", po::value<std::string>()->required(), "HDF5 file to describe");
  po::positional_options_description positional;
  positional.add("file", 1);
  const std::optional<po::variables_map> values = mpi::agreed(comm, [&] {
    return parse_options("usage: dnmf info FILE", options, positional, invocation, comm);
  });
  if (!values) return 0;
  const std::string path = (*values)["file"].as<std::string>();
  const io::InputFile file(path, comm);
  const std::vector<io::DatasetInfo> datasets = mpi::agreed(comm, [&] { return file.datasets(); });
  const std::vector<io::SparseLayout> sparse =
      mpi::agreed(comm, [&] { return io::find_sparse_groups(file); });
  const std::vector<io::AttributeText> attributes =
      mpi::agreed(comm, [&] { return file.attributes(); });
  const std::string sweep = sweep_summary(file, comm);
  if (!comm.is_root()) return 0;
  std::cout << path << "\n";
  for (const io::DatasetInfo& dataset : datasets) {
    std::string shape;
    for (std::size_t i = 0; i < dataset.shape.size(); ++i) {
      shape += (i ? " x " : "") + std::to_string(dataset.shape[i]);
    }
    std::cout << "  " << dataset.path << "  " << (shape.empty() ? "scalar" : shape) << "  "
              << dataset.type << "\n";
  }
  if (!sparse.empty()) std::cout << "sparse matrices:\n";
  for (const io::SparseLayout& layout : sparse) {
    std::cout << "  " << layout.group << "  " << layout.rows << " x " << layout.cols << "  "
              << layout.format << ", " << io::shape_text(layout.data.shape) << " stored values ("
              << layout.data.type << ")\n";
  }
  std::cout << sweep;
  if (!attributes.empty()) std::cout << "attributes:\n";
  for (const io::AttributeText& attribute : attributes) {
    std::cout << "  " << attribute.name << " = " << attribute.value << "\n";
  }
  return 0;
}

}  // namespace dnmf::cli
