// dnmf generate: a synthetic nonnegative matrix A = W0 H0 + noise, written in parallel, with the
// planted factors, so tests and benchmarks of any size need no download.

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "dnmf/core/error.hpp"
#include "dnmf/core/named_values.hpp"
#include "dnmf/core/random.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/partition.hpp"

namespace dnmf::cli {
namespace {

constexpr const char* kUsage =
    "usage: dnmf generate --rows M --cols N --rank K [--noise S] [--noise-model MODEL] [--seed S]\n"
    "                     --output FILE\n"
    "Writes /A (M x N), /W_true (M x K) and /H_true = H0 (K x N), where W0 and H0 have "
    "independent\n"
    "uniform [0, 1) entries and the noise model says how A follows from them:\n"
    "  uniform   A = W0 H0 + S U, U uniform [0, 1) (noise of mean S/2), W_true = W0\n"
    "  centered  A = max(0, W0 H0 + S (U - 1/2)) (noise of mean 0 before the clip at 0), W_true = "
    "W0\n"
    "  poisson   A ~ Poisson(W0 H0 / S) entry by entry (S > 0), W_true = W0 / S, so that\n"
    "            E[A] = W_true H_true; the relative spread of an entry of mean m is 1/sqrt(m)\n"
    "Every entry depends on the seed and its indices only, so the file is the same whatever the\n"
    "number of ranks writing it.";

enum class NoiseModel { Uniform, Centered, Poisson };
/// The /generator attribute of each model.
constexpr NamedValue<NoiseModel> kGeneratorDescriptions[] = {
    {NoiseModel::Uniform, "A = W0 H0 + noise * U, uniform [0,1) entries"},
    {NoiseModel::Centered, "A = max(0, W0 H0 + noise * (U - 1/2)), uniform [0,1) entries"},
    {NoiseModel::Poisson,
     "A ~ Poisson(W0 H0 / noise), W_true = W0 / noise, uniform [0,1) entries of W0 and H0"}};
constexpr NamedValue<NoiseModel> kNoiseModelNames[] = {{NoiseModel::Uniform, "uniform"},
                                                       {NoiseModel::Centered, "centered"},
                                                       {NoiseModel::Poisson, "poisson"}};

struct GenerateOptions {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t rank = 0;
  double noise = 0;
  NoiseModel noise_model = NoiseModel::Uniform;
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
      ("noise", po::value<double>()->default_value(0.0), "S, the scale of the noise")
      ("noise-model", po::value<std::string>()->default_value("uniform"),
       "uniform|centered|poisson (see above)")
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
  parsed.noise_model =
      parse_named("--noise-model", v["noise-model"].as<std::string>(), kNoiseModelNames);
  parsed.seed = non_negative(v, "seed");
  parsed.output = v["output"].as<std::string>();
  parsed.force = v["force"].as<bool>();
  parsed.quiet = v["quiet"].as<bool>();
  if (parsed.rows < 1 || parsed.cols < 1 || parsed.rank < 1) {
    throw UsageError("--rows, --cols and --rank must be >= 1");
  }
  if (!(parsed.noise >= 0) || !std::isfinite(parsed.noise)) {
    throw UsageError("--noise must be finite and >= 0");
  }
  if (parsed.noise_model == NoiseModel::Poisson && parsed.noise == 0) {
    throw UsageError("--noise-model poisson needs --noise S > 0 (the counts have mean W0 H0 / S)");
  }
  return parsed;
}

/// A = W0 H0 with the noise of `options` applied, entry by entry (this rank's rows from
/// `row_begin`); W0 becomes W_true where the model scales it.
void apply_noise(RowMatrix& A, RowMatrix& W, std::int64_t row_begin,
                 const GenerateOptions& options) {
  const double s = options.noise;
  if (options.noise_model == NoiseModel::Uniform && s == 0) return;
  for (Index i = 0; i < A.rows(); ++i) {
    const auto row = static_cast<std::uint64_t>(row_begin + i);
    for (Index c = 0; c < A.cols(); ++c) {
      const auto col = static_cast<std::uint64_t>(c);
      double& a = A(i, c);
      switch (options.noise_model) {
        case NoiseModel::Uniform:
          a += s * counter_uniform(options.seed, RandomStream::Noise, row, col);
          break;
        case NoiseModel::Centered:
          a = std::max(
              0.0, a + s * (counter_uniform(options.seed, RandomStream::Noise, row, col) - 0.5));
          break;
        case NoiseModel::Poisson:
          a = counter_poisson(options.seed, RandomStream::Noise, row, col, a / s);
          break;
      }
    }
  }
  if (options.noise_model == NoiseModel::Poisson) W /= s;
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
  apply_noise(A, W, row_begin, *options);

  io::OutputFile out(options->output, comm, files.if_exists("--output"));
  mpi::agree(comm, [&] {
    out.write_rows("/A", options->rows, n, A.data(), row_begin, local_rows);
    out.write_rows("/W_true", options->rows, k, W.data(), row_begin, local_rows);
    out.write_matrix("/H_true", H);
    out.set_attribute("dnmf_version", std::string(DNMF_VERSION));
    out.set_attribute("command_line", invocation.command_line);
    out.set_attribute("generator", name_of(options->noise_model, kGeneratorDescriptions));
    out.set_attribute("rank", static_cast<std::int64_t>(k));
    out.set_attribute("noise", options->noise);
    out.set_attribute("noise_model", name_of(options->noise_model, kNoiseModelNames));
    out.set_attribute("seed", static_cast<std::int64_t>(seed));
  });
  out.commit();
  if (comm.is_root() && !options->quiet) {
    std::printf("wrote %s: /A %lldx%lld, /W_true, /H_true (rank %lld, %s noise %g, seed %llu)\n",
                options->output.c_str(), static_cast<long long>(options->rows),
                static_cast<long long>(n), static_cast<long long>(k),
                name_of(options->noise_model, kNoiseModelNames).c_str(), options->noise,
                static_cast<unsigned long long>(seed));
  }
  return 0;
}

}  // namespace dnmf::cli
