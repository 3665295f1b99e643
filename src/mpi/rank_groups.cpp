#include "dnmf/mpi/rank_groups.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "dnmf/core/memory.hpp"
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

int default_group_count(int ranks, int tasks, double copy_bytes, double budget_bytes) {
  if (!(budget_bytes > 0)) return 1;
  const double least_size = std::max(1.0, std::ceil(copy_bytes / budget_bytes));
  const int by_memory = static_cast<int>(std::floor(ranks / least_size));
  return std::clamp(std::min(by_memory, tasks), 1, std::max(ranks, 1));
}

double memory_budget_per_rank(Communicator& comm) {
  MPI_Comm node = MPI_COMM_NULL;
  Communicator::check(
      MPI_Comm_split_type(comm.raw(), MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &node),
      "MPI_Comm_split_type");
  int on_node = 1;
  MPI_Comm_size(node, &on_node);
  MPI_Comm_free(&node);
  const std::int64_t available = available_memory_bytes();
  const double budget = available > 0 ? 0.5 * static_cast<double>(available) / on_node : 0.0;
  return comm.min(budget);
}

RankGroups::~RankGroups() {
  if (raw_ != MPI_COMM_NULL) MPI_Comm_free(&raw_);
}

}  // namespace dnmf::mpi
