#pragma once
// The output of dnmf sweep (dnmf_nmf_files), written atomically (io/output_file.hpp):
//   /summary/{k, test_error_mean, test_error_sd, train_error_mean, stability, iterations_mean,
//             seconds, consensus_error, kept, density_filtered}   one entry per k
//   /k<K>/W (m x k), /k<K>/H (k x n)     the consensus: H's rows of unit norm, W refitted
//   /k<K>/density, /k<K>/cluster         of each pooled component (-1: dropped as an outlier)
//   /k<K>/replicates/H (R k x n)         every replicate's H, replicate r in rows [r k, r k + k)
//   /k<K>/replicates/{train_error, test_error, iterations, seconds, seed, group}
// and the root attributes of the options (nmf/factor_file.hpp: write_fit_option_attributes,
// `seed` the first replicate's) with replicates, groups, batch, density_threshold, chosen_k
// (when there is a held-out set or a single k), mpi_ranks and wall_seconds.

#include <string>
#include <vector>

#include "dnmf/io/run_files.hpp"
#include "dnmf/nmf/sweep.hpp"

namespace dnmf::nmf {

/// How the sweep ran.
struct SweepLayout {
  int groups = 1;
  int batch = 1;
  double density_threshold = 0;
  double wall_seconds = 0;
};

/// Collective over `comm`, the ranks of `input`'s rows (the rows of every consensus Wt).
void write_sweep_file(const std::string& target, io::IfExists if_exists,
                      const SweepOptions& options, const SweepLayout& layout,
                      const io::MatrixSource& input, const std::vector<RankReplicates>& replicates,
                      const std::vector<RankConsensus>& consensus, mpi::Communicator& comm);

}  // namespace dnmf::nmf
