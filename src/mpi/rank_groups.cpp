#include "dnmf/mpi/rank_groups.hpp"

#include <string>

#include <stdexcept>
#include "dnmf/mpi/partition.hpp"

namespace dnmf::mpi {
namespace {

int group_of(int rank, int ranks, int count) {
  const BlockPartition partition(ranks, count);
  int group = 0;
  while (rank >= partition.end(group)) ++group;
  return group;
}

MPI_Comm split(Communicator& comm, int count) {
  if (count < 1 || count > comm.size()) {
    throw std::invalid_argument("RankGroups: " + std::to_string(count) + " groups of " +
                                std::to_string(comm.size()) + " ranks");
  }
  MPI_Comm group = MPI_COMM_NULL;
  Communicator::check(
      MPI_Comm_split(comm.raw(), group_of(comm.rank(), comm.size(), count), comm.rank(), &group),
      "MPI_Comm_split");
  return group;
}

}  // namespace

RankGroups::RankGroups(Communicator& comm, int count)
    : count_(count),
      index_(count >= 1 && count <= comm.size() ? group_of(comm.rank(), comm.size(), count) : 0),
      raw_(split(comm, count)),
      group_(raw_) {}

RankGroups::~RankGroups() {
  if (raw_ != MPI_COMM_NULL) MPI_Comm_free(&raw_);
}

}  // namespace dnmf::mpi
