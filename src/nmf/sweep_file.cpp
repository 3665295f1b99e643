#include "dnmf/nmf/sweep_file.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include "dnmf/io/anndata_file.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/resume.hpp"

namespace dnmf::nmf {
namespace {

/// Writes the sweep's datasets below a prefix ("" in a sweep file, "/uns/dnmf_sweep" in an
/// AnnData file) and lists them, so that an AnnData file can tag each with its encoding.
class Elements {
 public:
  Elements(io::OutputFile& out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}

  void vector(const std::string& name, const std::vector<double>& values) {
    out_.write_vector(at(name, false), values);
  }
  void integers(const std::string& name, const std::vector<std::int64_t>& values) {
    out_.write_array(at(name, false), {static_cast<std::int64_t>(values.size())}, values.data());
  }
  void integer(const std::string& name, std::int64_t value) {
    out_.write_array(at(name, true), {}, &value);
  }
  void matrix(const std::string& name, const RowMatrix& values) {
    out_.write_matrix(at(name, false), values);
  }
  /// This rank's rows of a matrix of `input.rows` rows, from a k x rows column-major array.
  void rows(const std::string& name, const io::MatrixSource& input, const Matrix& Wt) {
    out_.write_rows(at(name, false), input.rows, Wt.rows(), Wt.data(), input.row_begin, Wt.cols());
  }
  const std::vector<std::pair<std::string, bool>>& written() const { return written_; }

 private:
  std::string at(const std::string& name, bool scalar) {
    written_.emplace_back(prefix_ + name, scalar);
    return prefix_ + name;
  }

  io::OutputFile& out_;
  std::string prefix_;
  std::vector<std::pair<std::string, bool>> written_;  ///< path, and whether a scalar
};

void write_summary(Elements& out, const std::vector<RankSummary>& summaries,
                   const std::vector<RankConsensus>& consensus) {
  const auto column = [&](const std::function<double(std::size_t)>& value) {
    std::vector<double> values;
    for (std::size_t i = 0; i < summaries.size(); ++i) values.push_back(value(i));
    return values;
  };
  std::vector<std::int64_t> ks;
  std::vector<std::int64_t> kept;
  std::vector<std::int64_t> filtered;
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    ks.push_back(summaries[i].rank);
    kept.push_back(consensus[i].consensus.kept);
    filtered.push_back(consensus[i].consensus.filtered ? 1 : 0);
  }
  out.integers("/summary/k", ks);
  out.vector("/summary/test_error_mean",
             column([&](std::size_t i) { return summaries[i].test_error_mean; }));
  out.vector("/summary/test_error_sd",
             column([&](std::size_t i) { return summaries[i].test_error_sd; }));
  out.vector("/summary/train_error_mean",
             column([&](std::size_t i) { return summaries[i].train_error_mean; }));
  out.vector("/summary/stability", column([&](std::size_t i) { return summaries[i].stability; }));
  out.vector("/summary/iterations_mean",
             column([&](std::size_t i) { return summaries[i].iterations_mean; }));
  out.vector("/summary/seconds", column([&](std::size_t i) { return summaries[i].seconds; }));
  out.vector("/summary/consensus_error", column([&](std::size_t i) { return consensus[i].error; }));
  out.integers("/summary/kept", kept);
  out.integers("/summary/density_filtered", filtered);
}

/// <prefix>/replicates/... of one k.
void write_replicates(Elements& out, const std::string& prefix, const SweepOptions& options,
                      const RankReplicates& replicates) {
  out.matrix(prefix + "/replicates/H", replicates.H);
  std::vector<double> train, test, iterations, seconds;
  std::vector<std::int64_t> seeds, holdout_seeds, groups, done;
  for (std::size_t r = 0; r < replicates.fits.size(); ++r) {
    const ReplicateFit& fit = replicates.fits[r];
    train.push_back(fit.train_error);
    test.push_back(fit.test_error);
    iterations.push_back(fit.iterations);
    seconds.push_back(fit.seconds);
    seeds.push_back(static_cast<std::int64_t>(options.run.seed + r));
    if (options.run.mask.holdout > 0) {
      holdout_seeds.push_back(
          static_cast<std::int64_t>(replicate_holdout_seed(options, static_cast<int>(r))));
    }
    groups.push_back(fit.group);
    done.push_back(fit.done ? 1 : 0);
  }
  out.vector(prefix + "/replicates/train_error", train);
  out.vector(prefix + "/replicates/test_error", test);
  out.vector(prefix + "/replicates/iterations", iterations);
  out.vector(prefix + "/replicates/seconds", seconds);
  out.integers(prefix + "/replicates/seed", seeds);
  if (!holdout_seeds.empty()) out.integers(prefix + "/replicates/holdout_seed", holdout_seeds);
  out.integers(prefix + "/replicates/group", groups);
  out.integers(prefix + "/replicates/done", done);
}

void write_rank(Elements& out, const SweepOptions& options, const io::MatrixSource& input,
                const RankReplicates& replicates, const RankConsensus& consensus) {
  const std::string prefix = "/k" + std::to_string(replicates.rank);
  out.rows(prefix + "/W", input, consensus.Wt);
  out.matrix(prefix + "/H", consensus.consensus.components);
  out.vector(prefix + "/density", consensus.consensus.density);
  out.integers(prefix + "/cluster", std::vector<std::int64_t>(consensus.consensus.cluster.begin(),
                                                              consensus.consensus.cluster.end()));
  write_replicates(out, prefix, options, replicates);
}

/// The attributes of the options, the replicates, and /ranks.
void write_sweep_attributes(io::OutputFile& out, Elements& elements, const SweepOptions& options,
                            const io::MatrixSource& input) {
  write_fit_option_attributes(out, options.run, input);
  out.set_attribute("replicates", static_cast<std::int64_t>(options.replicates));
  out.set_attribute("batch", static_cast<std::int64_t>(options.batch));
  elements.integers("/ranks",
                    std::vector<std::int64_t>(options.ranks.begin(), options.ranks.end()));
}

/// The names of A's rows and columns: those of an AnnData input (obs and var, swapped by
/// --transpose), else their numbers, as anndata names them.
std::pair<std::vector<std::string>, std::vector<std::string>> axis_names(
    const io::MatrixSource& input, mpi::Communicator& comm) {
  const io::InputFile file(input.file, comm);
  auto names = mpi::agreed(comm, [&] {
    return std::pair{io::read_anndata_names(file, input.transposed ? "var" : "obs"),
                     io::read_anndata_names(file, input.transposed ? "obs" : "var")};
  });
  const auto numbers = [](std::int64_t count) {
    std::vector<std::string> numbered;
    for (std::int64_t i = 0; i < count; ++i) numbered.push_back(std::to_string(i));
    return numbered;
  };
  return {names.first.value_or(numbers(input.rows)), names.second.value_or(numbers(input.cols))};
}

/// The AnnData parts of an .h5ad output: the chosen k's consensus W in obsm["X_nmf"] and Hᵀ in
/// varm["nmf_loadings"], the sweep (written below /uns/dnmf_sweep) tagged, and the frame.
void write_anndata(io::OutputFile& out, Elements& elements, const io::MatrixSource& input,
                   const RankConsensus& chosen,
                   const std::pair<std::vector<std::string>, std::vector<std::string>>& names) {
  std::vector<std::pair<std::string, bool>> datasets = elements.written();
  out.write_rows("/obsm/X_nmf", input.rows, chosen.Wt.rows(), chosen.Wt.data(), input.row_begin,
                 chosen.Wt.cols());
  out.write_matrix("/varm/nmf_loadings", RowMatrix(chosen.consensus.components.transpose()));
  datasets.emplace_back("/obsm/X_nmf", false);
  datasets.emplace_back("/varm/nmf_loadings", false);
  const std::vector<std::string> groups = io::tag_anndata_elements(out, datasets);
  io::write_anndata_frame(out, names.first, names.second, groups);
}

/// UsageError naming the option unless the checkpoint `file` was made with `options`.
void require_same_sweep(const io::InputFile& file, const SweepOptions& options) {
  const std::string& path = file.path();
  require_same_fit(file, options.run);
  const auto differs = [&](const std::string& option, const std::string& made_with) {
    throw UsageError(path + ": was made with " + option + " " + made_with +
                     "; resume it with the same " + option);
  };
  const FactorRun& run = options.run;
  if (file.integer_attribute("seed") != static_cast<std::int64_t>(run.seed)) {
    differs("--seed", std::to_string(file.integer_attribute("seed")));
  }
  if (file.string_attribute("precision") != to_string(run.precision)) {
    differs("--precision", file.string_attribute("precision"));
  }
  if (file.string_attribute("init") != run.init) differs("--init", file.string_attribute("init"));
  if (file.integer_attribute("max_iter") != run.solver.stop.max_iterations) {
    differs("--max-iter", std::to_string(file.integer_attribute("max_iter")));
  }
  if (file.number_attribute("tol") != run.solver.stop.tolerance ||
      file.number_attribute("time_limit") != run.solver.stop.time_limit) {
    differs("--tol and --time-limit", "other values");
  }
  if (file.integer_attribute("replicates") != options.replicates) {
    differs("--replicates", std::to_string(file.integer_attribute("replicates")));
  }
  // The batches' windows draw the held-out sets.
  const std::int64_t batch =
      file.object_number_attribute("/", "batch") ? file.integer_attribute("batch") : 1;
  if (batch != options.batch) differs("--batch", std::to_string(batch));
  const std::vector<std::int64_t> ks = file.read_array<std::int64_t>(file.dataset("/ranks"));
  if (ks != std::vector<std::int64_t>(options.ranks.begin(), options.ranks.end())) {
    differs("--rank", "another list");
  }
}

}  // namespace

bool writes_anndata(const std::string& target) {
  const std::string suffix = ".h5ad";
  return target.size() >= suffix.size() &&
         target.compare(target.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void write_sweep_file(const std::string& target, io::IfExists if_exists,
                      const SweepOptions& options, const SweepLayout& layout,
                      const io::MatrixSource& input, const std::vector<RankReplicates>& replicates,
                      const std::vector<RankConsensus>& consensus, mpi::Communicator& comm) {
  std::vector<RankSummary> summaries;
  for (std::size_t i = 0; i < replicates.size(); ++i) {
    summaries.push_back(summarize(replicates[i], consensus[i]));
  }
  const std::optional<Index> chosen = chosen_k(summaries, options);
  const bool anndata = writes_anndata(target);
  const auto names = anndata ? axis_names(input, comm)
                             : std::pair<std::vector<std::string>, std::vector<std::string>>{};
  io::OutputFile out(target, comm, if_exists);
  mpi::agree(comm, [&] {
    Elements elements(out, anndata ? "/uns/dnmf_sweep" : "");
    write_summary(elements, summaries, consensus);
    for (std::size_t i = 0; i < replicates.size(); ++i) {
      write_rank(elements, options, input, replicates[i], consensus[i]);
    }
    write_sweep_attributes(out, elements, options, input);
    out.set_attribute("groups", static_cast<std::int64_t>(layout.groups));
    out.set_attribute("density_threshold", layout.density_threshold);
    if (chosen) {
      out.set_attribute("chosen_k", static_cast<std::int64_t>(*chosen));
      elements.integer("/chosen_k", *chosen);
    }
    out.set_attribute("mpi_ranks", static_cast<std::int64_t>(comm.size()));
    out.set_attribute("wall_seconds", layout.wall_seconds);
    if (anndata) {
      const auto at = static_cast<std::size_t>(
          std::find(options.ranks.begin(), options.ranks.end(), *chosen) - options.ranks.begin());
      write_anndata(out, elements, input, consensus[at], names);
    }
  });
  out.commit();
}

void write_sweep_checkpoint(const std::string& path, io::IfExists if_exists,
                            const SweepOptions& options, const io::MatrixSource& input,
                            const ScaledInput& prepared,
                            const std::vector<RankReplicates>& replicates,
                            mpi::Communicator& comm) {
  io::OutputFile out(path, comm, if_exists);
  mpi::agree(comm, [&] {
    Elements elements(out, "");
    for (const RankReplicates& of_k : replicates) {
      write_replicates(elements, "/k" + std::to_string(of_k.rank), options, of_k);
    }
    write_sweep_attributes(out, elements, options, input);
    out.set_attribute("checkpoint", static_cast<std::int64_t>(1));
    out.set_attribute("input_scale_exponent", static_cast<std::int64_t>(prepared.scaling.exponent));
    out.set_attribute("input_sum", prepared.statistics.sum);
    out.set_attribute("input_squared_norm", prepared.statistics.squared_norm);
  });
  out.commit();
}

ResumedReplicates read_sweep_checkpoint(const std::string& path, const SweepOptions& options,
                                        mpi::Communicator& comm) {
  const io::InputFile file(path, comm);
  return mpi::agreed(comm, [&] {
    if (file.object_number_attribute("/", "checkpoint").value_or(std::vector{0.0})[0] == 0 ||
        !file.is_dataset("/ranks")) {
      throw InputError(path + ": not a checkpoint of dnmf sweep");
    }
    require_same_sweep(file, options);
    ResumedReplicates checkpoint;
    checkpoint.path = path;
    checkpoint.matrix = read_recorded_matrix(file);
    for (const Index k : options.ranks) {
      const std::string prefix = "/k" + std::to_string(k) + "/replicates/";
      RankReplicates of_k;
      of_k.rank = k;
      of_k.H = file.read_all<double>(file.dataset(prefix + "H"));
      const auto column = [&](const std::string& name) {
        std::vector<double> values = file.read_array<double>(file.dataset(prefix + name));
        if (values.size() != static_cast<std::size_t>(options.replicates)) {
          throw InputError(path + ": " + prefix + name + " holds " + std::to_string(values.size()) +
                           " values, not one for each of the " +
                           std::to_string(options.replicates) + " replicates");
        }
        return values;
      };
      const std::vector<double> train = column("train_error"), test = column("test_error"),
                                iterations = column("iterations"), seconds = column("seconds"),
                                group = column("group"), done = column("done");
      for (std::size_t r = 0; r < done.size(); ++r) {
        of_k.fits.push_back({train[r], test[r], iterations[r], seconds[r],
                             static_cast<int>(group[r]), done[r] != 0});
      }
      if (of_k.H.rows() != options.replicates * k) {
        throw InputError(path + ": " + prefix + " does not hold " +
                         std::to_string(options.replicates) +
                         " replicates of k = " + std::to_string(k));
      }
      checkpoint.replicates.push_back(std::move(of_k));
    }
    return checkpoint;
  });
}

}  // namespace dnmf::nmf
