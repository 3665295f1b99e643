#pragma once
// The replicates of dnmf sweep (dnmf_nmf_files): many factorizations of one input, at a list of
// ranks k, replicate r of every k started from seed + r, so that each is the run
// `dnmf factorize --rank k --seed seed+r` with the same options would make. A group of ranks
// holds the input once and fits its share of the (k, replicate) tasks (nmf/sweep_plan.hpp) one
// after another; what each fit leaves is gathered for the consensus (nmf/consensus.hpp).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dnmf/core/matrix.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/mpi/rank_groups.hpp"
#include "dnmf/nmf/consensus.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/input_matrix.hpp"
#include "dnmf/nmf/resume.hpp"
#include "dnmf/nmf/start.hpp"
#include "dnmf/nmf/sweep_plan.hpp"

namespace dnmf::nmf {

struct SweepOptions {
  std::string input_file;     ///< A: as io/matrix_rows.hpp reads it
  std::string input_dataset;  ///< empty: the default one
  bool transpose = false;
  FactorRun run;  ///< every fit's options; solver.rank and seed are set per replicate
  Init init;      ///< random or NNDSVD: a file would start every replicate alike
  std::vector<Index> ranks;
  int replicates = 10;
  /// Replicates of one k fitted together (solve_batch: one pass over A for all), in windows
  /// [b B, b B + B) of the replicate numbers; each window shares one held-out set.
  int batch = 1;
  std::string output;  ///< named by the error a fit that overflowed raises
};

/// The seed of replicate r's held-out set: --holdout-seed when given, else seed + (the first
/// replicate of r's batch window), so seed + r without batches.
std::uint64_t replicate_holdout_seed(const SweepOptions& options, int replicate);

/// What one fit leaves besides its H.
struct ReplicateFit {
  double train_error = 0;  ///< final relative error on the entries fitted
  double test_error = 0;   ///< on the held-out entries; 0 without a held-out set
  double iterations = 0;
  double seconds = 0;  ///< wall seconds of the fit (the group's slowest rank)
  int group = 0;       ///< of the ranks that fitted it (mpi/rank_groups.hpp)
  bool done = false;   ///< fitted to its end (not yet, or stopped by a signal: false)
};

/// Every replicate of one k: H of replicate r in rows [r k, r k + k) of the R k x n matrix, in
/// A's units, and its fit. Filled in by the group that fitted it, zero elsewhere until pooled.
struct RankReplicates {
  Index rank = 0;
  RowMatrix H;
  std::vector<ReplicateFit> fits;
};

/// The replicates a sweep fitted, and what they were fitted to.
struct SweepFits {
  std::vector<RankReplicates> replicates;  ///< every k's, pooled on every rank
  bool stopped = false;    ///< by a signal, on some group: not every replicate is done
  io::MatrixSource input;  ///< its description (rows and columns, file, dataset, orientation)
  ScaledInput prepared;    ///< its scale and the statistics of the whole scaled input (rank 0's)
};

/// What a checkpoint gives back to a resumed sweep: its replicates (those `done` are not fitted
/// again) and where they came from, checked against the input (nmf/resume.hpp).
struct ResumedReplicates {
  std::string path;
  std::vector<RankReplicates> replicates;
  RecordedMatrix matrix;
};

/// What a sweep tells its caller as it goes, on every rank of a group.
struct SweepHooks {
  std::function<void()> ready;  ///< the input read and checked, before the first fit
  std::function<void(Index, int, const ReplicateFit&)> progress;  ///< after each fit
};

/// Collective over `world`, in `groups`: each group reads A in Scalar, checks every k against
/// its shape (and a `resumed` checkpoint against A), prepares it once, and fits its share of
/// the replicates not done (nmf/sweep_plan.hpp: assign_tasks, in batches of options.batch); the
/// fits are pooled, the resumed ones added: afterwards every rank holds every replicate. Each
/// batch takes out its held-out set (replicate_holdout_seed) and puts it back after its fits;
/// a batch of one is fitted by solve(), as dnmf factorize does, more by solve_batch. A SIGTERM
/// or SIGUSR1 (core/stop_request.hpp) stops each group after its batch in progress (`stopped`;
/// a batch a signal interrupted is not done). An error in
/// any group (a fit that overflowed: an InputError naming the input and options.output) is
/// thrown on every rank, once every group has finished.
template <class Scalar>
SweepFits fit_sweep(const SweepOptions& options, const ResumedReplicates* resumed,
                    const SweepHooks& hooks, mpi::RankGroups& groups, mpi::Communicator& world);

/// The consensus of one k and the codes refitted to it.
struct RankConsensus {
  /// Its components (unit rows: the consensus H), densities, clusters; `filtered` false where
  /// the density threshold kept fewer than k (none was dropped then).
  Consensus consensus;
  Matrix Wt;         ///< k x this rank's rows: W refitted to A with H fixed, in A's units
  double error = 0;  ///< the refit's relative error on the observed entries
};

/// The input of the refits: this rank's rows of A in double (with its missing entries taken
/// out, nmf/input_matrix.hpp: scale_masked_input with ScaledFactors::CodesOnly), its scale and
/// its mask.
struct RefitInput {
  const LocalBlock& block;
  const ScaledInput& scaled;
  const EntryMask& mask;
};

/// Collective over `comm` (the ranks of `input`): the consensus (nmf/consensus.hpp) of the pooled
/// replicates of one k with `density_threshold`, R/3 neighbours and k-means seeded by
/// options.run.seed, then W = argmin loss(A, W H) + W's penalty with H the consensus
/// (nmf/transform.hpp).
RankConsensus consensus_fit(const RankReplicates& replicates, double density_threshold,
                            const SweepOptions& options, const RefitInput& input,
                            mpi::Communicator& comm);

/// The summary row of one k.
struct RankSummary {
  Index rank = 0;
  double test_error_mean = 0;
  double test_error_sd = 0;  ///< sample standard deviation over the replicates
  double train_error_mean = 0;
  double stability = 0;  ///< the silhouette of the consensus clustering
  double iterations_mean = 0;
  double seconds = 0;  ///< summed over the replicates
};

RankSummary summarize(const RankReplicates& replicates, const RankConsensus& consensus);

/// The k a sweep chooses: the one-standard-error choice (nmf/sweep_plan.hpp: chosen_rank) over
/// the summaries' test errors with a held-out set; the k itself when only one was swept;
/// nothing otherwise (without a held-out set there is no test error to choose by).
std::optional<Index> chosen_k(const std::vector<RankSummary>& summaries,
                              const SweepOptions& options);

}  // namespace dnmf::nmf
