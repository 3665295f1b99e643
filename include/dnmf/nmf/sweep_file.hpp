#pragma once
// The output of dnmf sweep (dnmf_nmf_files), written atomically (io/output_file.hpp):
//   /summary/{k, test_error_mean, test_error_sd, train_error_mean, stability, iterations_mean,
//             seconds, consensus_error, kept, density_filtered}   one entry per k
//   /k<K>/W (m x k), /k<K>/H (k x n)     the consensus: H's rows of unit norm, W refitted
//   /k<K>/density, /k<K>/cluster         of each pooled component (-1: dropped as an outlier)
//   /k<K>/replicates/H (R k x n)         every replicate's H, replicate r in rows [r k, r k + k)
//   /k<K>/replicates/{train_error, test_error, iterations, seconds, seed, group, done}
//   /ranks                               the k of --rank
// and the root attributes of the options (nmf/factor_file.hpp: write_fit_option_attributes,
// `seed` the first replicate's) with replicates, groups, batch, density_threshold, chosen_k
// (when there is a held-out set or a single k), mpi_ranks and wall_seconds.

#include <string>
#include <vector>

#include "dnmf/io/run_files.hpp"
#include "dnmf/nmf/resume.hpp"
#include "dnmf/nmf/sweep.hpp"

namespace dnmf::nmf {

/// How the sweep ran.
struct SweepLayout {
  int groups = 1;
  double density_threshold = 0;
  double wall_seconds = 0;
};

/// Whether `target` names an AnnData file (".h5ad"): write_sweep_file then writes the chosen k's
/// consensus W into obsm["X_nmf"] and Hᵀ into varm["nmf_loadings"], the whole sweep (the layout
/// above, and chosen_k) below uns["dnmf_sweep"], and obs and var indexed by the names of an
/// AnnData input (else 0, 1, ...); anndata.read_h5ad opens it. It needs a chosen k.
bool writes_anndata(const std::string& target);

/// Collective over `comm`, the ranks of `input`'s rows (the rows of every consensus Wt).
void write_sweep_file(const std::string& target, io::IfExists if_exists,
                      const SweepOptions& options, const SweepLayout& layout,
                      const io::MatrixSource& input, const std::vector<RankReplicates>& replicates,
                      const std::vector<RankConsensus>& consensus, mpi::Communicator& comm);

// The checkpoint of a stopped sweep (--checkpoint, --resume): every k's replicates as the output
// holds them (/k<K>/replicates/..., with `done`), the options' attributes and /ranks, and the
// statistics of the prepared input (nmf/resume.hpp: RecordedMatrix).

/// Collective over `comm`: writes the checkpoint atomically.
void write_sweep_checkpoint(const std::string& path, io::IfExists if_exists,
                            const SweepOptions& options, const io::MatrixSource& input,
                            const ScaledInput& prepared,
                            const std::vector<RankReplicates>& replicates, mpi::Communicator& comm);

/// Collective over `comm`: reads a checkpoint. A UsageError naming the option unless it was made
/// with `options` (the fit's, the seed, the precision, the stopping rule, the start, the
/// replicates and the ranks); an InputError if it is not a sweep's checkpoint. The matrix is
/// checked once read (nmf/sweep.hpp: fit_sweep).
ResumedReplicates read_sweep_checkpoint(const std::string& path, const SweepOptions& options,
                                        mpi::Communicator& comm);

}  // namespace dnmf::nmf
