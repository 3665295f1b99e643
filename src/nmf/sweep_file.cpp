#include "dnmf/nmf/sweep_file.hpp"

#include <functional>

#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/factor_file.hpp"

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
  out.write_matrix(prefix + "/replicates/H", replicates.H);
  std::vector<double> train, test, iterations, seconds;
  std::vector<std::int64_t> seeds, groups;
  for (std::size_t r = 0; r < replicates.fits.size(); ++r) {
    const ReplicateFit& fit = replicates.fits[r];
    train.push_back(fit.train_error);
    test.push_back(fit.test_error);
    iterations.push_back(fit.iterations);
    seconds.push_back(fit.seconds);
    seeds.push_back(static_cast<std::int64_t>(options.run.seed + r));
    groups.push_back(fit.group);
  }
  out.write_vector(prefix + "/replicates/train_error", train);
  out.write_vector(prefix + "/replicates/test_error", test);
  out.write_vector(prefix + "/replicates/iterations", iterations);
  out.write_vector(prefix + "/replicates/seconds", seconds);
  const std::vector<std::int64_t> count = {static_cast<std::int64_t>(seeds.size())};
  out.write_array(prefix + "/replicates/seed", count, seeds.data());
  out.write_array(prefix + "/replicates/group", count, groups.data());
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
    write_fit_option_attributes(out, options.run, input);
    out.set_attribute("replicates", static_cast<std::int64_t>(options.replicates));
    out.set_attribute("groups", static_cast<std::int64_t>(layout.groups));
    out.set_attribute("batch", static_cast<std::int64_t>(layout.batch));
    out.set_attribute("density_threshold", layout.density_threshold);
    if (options.run.mask.holdout > 0 || summaries.size() == 1) {
      out.set_attribute(
          "chosen_k", static_cast<std::int64_t>(summaries.size() == 1
                                                    ? summaries.front().rank
                                                    : chosen_rank(summaries, options.replicates)));
    }
    out.set_attribute("mpi_ranks", static_cast<std::int64_t>(comm.size()));
    out.set_attribute("wall_seconds", layout.wall_seconds);
  });
  out.commit();
}

}  // namespace dnmf::nmf
