// dnmf generate: a synthetic nonnegative matrix A = W0 H0 + noise, written in parallel, with the
// planted factors, so tests and benchmarks of any size need no download.

#include <cstdio>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/random.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/partition.hpp"

namespace dnmf::cli {
namespace {

constexpr const char* kUsage =
    "usage: dnmf generate --rows M --cols N --rank K [--noise S] [--seed S] --output FILE\n"
    "Writes /A = W0 H0 + S U (M x N), /W_true = W0 (M x K) and /H_true = H0 (K x N), where W0, H0\n"
    "and U have independent uniform [0, 1) entries. Every entry depends on the seed and its\n"
    "indices only, so the file is the same whatever the number of ranks writing it.";

struct GenerateOptions {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t rank = 0;
  double noise = 0;
  std::uint64_t seed = 0;
  std::string output;
  bool force = false;
  bool quiet = false;
};

std::optional<GenerateOptions> parse(const Invocation& invocation, mpi::Communicator& comm) {
  po::options_description options("dnmf generate options");
  // clang-format off
  options.add_options()
      ("rows,m", po::value<std::int64_t>()->required(), "M, rows of A")
      ("cols,n", po::value<std::int64_t>()->required(), "N, columns of A")
      ("rank,k", po::value<std::int64_t>()->required(), "K, inner dimension of the planted factors")
      ("noise", po::value<double>()->default_value(0.0), "S, scale of the uniform nonnegative noise")
      ("seed", po::value<std::int64_t>()->default_value(0), "random seed")
      ("output,o", po::value<std::string>()->required(), "HDF5 file to write")
      ("force,f", po::bool_switch(), "overwrite the output if it exists")
      ("quiet,q", po::bool_switch(), "print nothing but errors");
  // clang-format on
  const auto values = parse_options(kUsage, options, {}, invocation, comm);
  if (!values) return std::nullopt;
  const po::variables_map& v = *values;
  GenerateOptions parsed;
  parsed.rows = v["rows"].as<std::int64_t>();
  parsed.cols = v["cols"].as<std::int64_t>();
  parsed.rank = v["rank"].as<std::int64_t>();
  parsed.noise = v["noise"].as<double>();
  parsed.seed = non_negative(v, "seed");
  parsed.output = v["output"].as<std::string>();
  parsed.force = v["force"].as<bool>();
  parsed.quiet = v["quiet"].as<bool>();
  if (parsed.rows < 1 || parsed.cols < 1 || parsed.rank < 1) {
    throw UsageError("--rows, --cols and --rank must be >= 1");
  }
  if (!(parsed.noise >= 0)) throw UsageError("--noise must be >= 0");
  return parsed;
}

}  // namespace

int run_generate(const Invocation& invocation, mpi::Communicator& comm) {
  const std::optional<GenerateOptions> options =
      mpi::agreed(comm, [&] { return parse(invocation, comm); });
  if (!options) return 0;
  io::RunFiles files;
  files.output("--output", options->output).check(options->force, comm);

  const mpi::BlockPartition partition(options->rows, comm.size());
  const std::int64_t row_begin = partition.begin(comm.rank());
  const Index local_rows = partition.size(comm.rank());
  const Index k = options->rank;
  const Index n = options->cols;
  const std::uint64_t seed = options->seed;

  RowMatrix W(local_rows, k);
  RowMatrix H(k, n);
  for (Index i = 0; i < local_rows; ++i)
    for (Index j = 0; j < k; ++j)
      W(i, j) =
          counter_uniform(seed, RandomStream::TrueW, static_cast<std::uint64_t>(row_begin + i),
                          static_cast<std::uint64_t>(j));
  for (Index j = 0; j < k; ++j)
    for (Index c = 0; c < n; ++c)
      H(j, c) = counter_uniform(seed, RandomStream::TrueH, static_cast<std::uint64_t>(j),
                                static_cast<std::uint64_t>(c));
  RowMatrix A = W * H;
  if (options->noise > 0) {
    for (Index i = 0; i < local_rows; ++i)
      for (Index c = 0; c < n; ++c)
        A(i, c) += options->noise * counter_uniform(seed, RandomStream::Noise,
                                                    static_cast<std::uint64_t>(row_begin + i),
                                                    static_cast<std::uint64_t>(c));
  }

  io::OutputFile out(options->output, comm, files.if_exists("--output"));
  mpi::agree(comm, [&] {
    out.write_rows("/A", options->rows, n, A.data(), row_begin, local_rows);
    out.write_rows("/W_true", options->rows, k, W.data(), row_begin, local_rows);
    out.write_matrix("/H_true", H);
    out.set_attribute("dnmf_version", std::string(DNMF_VERSION));
    out.set_attribute("command_line", invocation.command_line);
    out.set_attribute("generator", std::string("A = W0 H0 + noise * U, uniform [0,1) entries"));
    out.set_attribute("rank", static_cast<std::int64_t>(k));
    out.set_attribute("noise", options->noise);
    out.set_attribute("seed", static_cast<std::int64_t>(seed));
  });
  out.commit();
  if (comm.is_root() && !options->quiet) {
    std::printf("wrote %s: /A %lldx%lld, /W_true, /H_true (rank %lld, noise %g, seed %llu)\n",
                options->output.c_str(), static_cast<long long>(options->rows),
                static_cast<long long>(n), static_cast<long long>(k), options->noise,
                static_cast<unsigned long long>(seed));
  }
  return 0;
}

}  // namespace dnmf::cli
