#include "dnmf/nmf/sweep_file.hpp"

#include <functional>

#include "dnmf/io/input_file.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/resume.hpp"

namespace dnmf::nmf {
namespace {

void write_summary(io::OutputFile& out, const std::vector<RankSummary>& summaries,
                   const std::vector<RankConsensus>& consensus) {
  const auto column = [&](const std::function<double(std::size_t)>& value) {
    std::vector<double> values;
    for (std::size_t i = 0; i < summaries.size(); ++i) values.push_back(value(i));
    return values;
  };
  const auto count = static_cast<std::int64_t>(summaries.size());
  std::vector<std::int64_t> ks;
  std::vector<std::int64_t> kept;
  std::vector<std::int64_t> filtered;
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    ks.push_back(summaries[i].rank);
    kept.push_back(consensus[i].consensus.kept);
    filtered.push_back(consensus[i].filtered ? 1 : 0);
  }
  out.write_array("/summary/k", {count}, ks.data());
  out.write_vector("/summary/test_error_mean",
                   column([&](std::size_t i) { return summaries[i].test_error_mean; }));
  out.write_vector("/summary/test_error_sd",
                   column([&](std::size_t i) { return summaries[i].test_error_sd; }));
  out.write_vector("/summary/train_error_mean",
                   column([&](std::size_t i) { return summaries[i].train_error_mean; }));
  out.write_vector("/summary/stability",
                   column([&](std::size_t i) { return summaries[i].stability; }));
  out.write_vector("/summary/iterations_mean",
                   column([&](std::size_t i) { return summaries[i].iterations_mean; }));
  out.write_vector("/summary/seconds", column([&](std::size_t i) { return summaries[i].seconds; }));
  out.write_vector("/summary/consensus_error",
                   column([&](std::size_t i) { return consensus[i].error; }));
  out.write_array("/summary/kept", {count}, kept.data());
  out.write_array("/summary/density_filtered", {count}, filtered.data());
}

/// /<prefix>/replicates/... of one k.
void write_replicates(io::OutputFile& out, const std::string& prefix, const SweepOptions& options,
                      const RankReplicates& replicates) {
  out.write_matrix(prefix + "/replicates/H", replicates.H);
  std::vector<double> train, test, iterations, seconds;
  std::vector<std::int64_t> seeds, groups, done;
  for (std::size_t r = 0; r < replicates.fits.size(); ++r) {
    const ReplicateFit& fit = replicates.fits[r];
    train.push_back(fit.train_error);
    test.push_back(fit.test_error);
    iterations.push_back(fit.iterations);
    seconds.push_back(fit.seconds);
    seeds.push_back(static_cast<std::int64_t>(options.run.seed + r));
    groups.push_back(fit.group);
    done.push_back(fit.done ? 1 : 0);
  }
  out.write_vector(prefix + "/replicates/train_error", train);
  out.write_vector(prefix + "/replicates/test_error", test);
  out.write_vector(prefix + "/replicates/iterations", iterations);
  out.write_vector(prefix + "/replicates/seconds", seconds);
  const std::vector<std::int64_t> count = {static_cast<std::int64_t>(seeds.size())};
  out.write_array(prefix + "/replicates/seed", count, seeds.data());
  out.write_array(prefix + "/replicates/group", count, groups.data());
  out.write_array(prefix + "/replicates/done", count, done.data());
}

void write_rank(io::OutputFile& out, const SweepOptions& options, const io::MatrixSource& input,
                const RankReplicates& replicates, const RankConsensus& consensus) {
  const Index k = replicates.rank;
  const std::string prefix = "/k" + std::to_string(k);
  out.write_rows(prefix + "/W", input.rows, k, consensus.Wt.data(), input.row_begin,
                 consensus.Wt.cols());
  out.write_matrix(prefix + "/H", consensus.consensus.components);
  out.write_vector(prefix + "/density", consensus.consensus.density);
  const std::vector<std::int64_t> cluster(consensus.consensus.cluster.begin(),
                                          consensus.consensus.cluster.end());
  out.write_array(prefix + "/cluster", {static_cast<std::int64_t>(cluster.size())}, cluster.data());
  write_replicates(out, prefix, options, replicates);
}

/// The attributes of the options, and replicates.
void write_sweep_attributes(io::OutputFile& out, const SweepOptions& options,
                            const io::MatrixSource& input) {
  write_fit_option_attributes(out, options.run, input);
  out.set_attribute("replicates", static_cast<std::int64_t>(options.replicates));
  std::vector<std::int64_t> ks(options.ranks.begin(), options.ranks.end());
  out.write_array("/ranks", {static_cast<std::int64_t>(ks.size())}, ks.data());
}

}  // namespace

void write_sweep_file(const std::string& target, io::IfExists if_exists,
                      const SweepOptions& options, const SweepLayout& layout,
                      const io::MatrixSource& input, const std::vector<RankReplicates>& replicates,
                      const std::vector<RankConsensus>& consensus, mpi::Communicator& comm) {
  std::vector<RankSummary> summaries;
  for (std::size_t i = 0; i < replicates.size(); ++i) {
    summaries.push_back(summarize(replicates[i], consensus[i]));
  }
  io::OutputFile out(target, comm, if_exists);
  mpi::agree(comm, [&] {
    write_summary(out, summaries, consensus);
    for (std::size_t i = 0; i < replicates.size(); ++i) {
      write_rank(out, options, input, replicates[i], consensus[i]);
    }
    write_sweep_attributes(out, options, input);
    out.set_attribute("groups", static_cast<std::int64_t>(layout.groups));
    out.set_attribute("batch", static_cast<std::int64_t>(layout.batch));
    out.set_attribute("density_threshold", layout.density_threshold);
    if (const std::optional<Index> chosen = chosen_k(summaries, options)) {
      out.set_attribute("chosen_k", static_cast<std::int64_t>(*chosen));
    }
    out.set_attribute("mpi_ranks", static_cast<std::int64_t>(comm.size()));
    out.set_attribute("wall_seconds", layout.wall_seconds);
  });
  out.commit();
}

}  // namespace dnmf::nmf

namespace dnmf::nmf {

void write_sweep_checkpoint(const std::string& path, io::IfExists if_exists,
                            const SweepOptions& options, const io::MatrixSource& input,
                            const ScaledInput& prepared,
                            const std::vector<RankReplicates>& replicates,
                            mpi::Communicator& comm) {
  io::OutputFile out(path, comm, if_exists);
  mpi::agree(comm, [&] {
    for (const RankReplicates& of_k : replicates) {
      write_replicates(out, "/k" + std::to_string(of_k.rank), options, of_k);
    }
    write_sweep_attributes(out, options, input);
    out.set_attribute("checkpoint", static_cast<std::int64_t>(1));
    out.set_attribute("input_scale_exponent", static_cast<std::int64_t>(prepared.scaling.exponent));
    out.set_attribute("input_sum", prepared.statistics.sum);
    out.set_attribute("input_squared_norm", prepared.statistics.squared_norm);
  });
  out.commit();
}

namespace {

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
  const std::vector<std::int64_t> ks = file.read_array<std::int64_t>(file.dataset("/ranks"));
  if (ks != std::vector<std::int64_t>(options.ranks.begin(), options.ranks.end())) {
    differs("--rank", "another list");
  }
}

}  // namespace

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
        return file.read_array<double>(file.dataset(prefix + name));
      };
      const std::vector<double> train = column("train_error"), test = column("test_error"),
                                iterations = column("iterations"), seconds = column("seconds"),
                                group = column("group"), done = column("done");
      for (std::size_t r = 0; r < done.size(); ++r) {
        of_k.fits.push_back({train[r], test[r], iterations[r], seconds[r],
                             static_cast<int>(group[r]), done[r] != 0});
      }
      if (of_k.H.rows() != options.replicates * k ||
          of_k.fits.size() != static_cast<std::size_t>(options.replicates)) {
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
