#pragma once
// The ranks of a communicator in groups of consecutive ranks, each with a communicator of its
// own (MPI_Comm_split): dnmf sweep runs one factorization at a time in each group. Consecutive
// ranks are the ones a launcher places on one node (--map-by core, srun's block distribution),
// so a group's collectives stay on a node when a group fits in one.

#include "dnmf/mpi/communicator.hpp"

namespace dnmf::mpi {

class RankGroups {
 public:
  /// Collective over `comm`: `count` groups (1 <= count <= comm.size()), as
  /// BlockPartition(comm.size(), count) splits the ranks (std::invalid_argument for a count out
  /// of range: callers check it first).
  RankGroups(Communicator& comm, int count);
  ~RankGroups();
  RankGroups(const RankGroups&) = delete;
  RankGroups& operator=(const RankGroups&) = delete;

  int count() const { return count_; }
  int index() const { return index_; }  ///< of this rank's group
  Communicator& group() { return group_; }

 private:
  int count_;
  int index_;
  MPI_Comm raw_ = MPI_COMM_NULL;
  Communicator group_;
};

/// The groups dnmf sweep runs when --groups is not given: as many as the ranks and the `tasks`
/// allow while each group holds one copy of the input: a group of s ranks holds `copy_bytes` / s
/// on each, which must stay within `budget_bytes` a rank, so a group has at least
/// ceil(copy_bytes / budget_bytes) ranks. A budget <= 0 (unknown) allows one group.
int default_group_count(int ranks, int tasks, double copy_bytes, double budget_bytes);

/// Collective: half of what this rank's node can still give (core/memory.hpp:
/// available_memory_bytes) shared by the ranks on the node, the least over `comm`; 0 where the
/// OS does not say.
double memory_budget_per_rank(Communicator& comm);

}  // namespace dnmf::mpi
