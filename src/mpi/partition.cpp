#include "dnmf/mpi/partition.hpp"

#include <algorithm>
#include <limits>

#include "dnmf/core/error.hpp"

namespace dnmf::mpi {

BlockPartition::BlockPartition(std::int64_t total, int parts) : total_(total), parts_(parts) {
  if (total < 0 || parts < 1) {
    throw Error(ErrorKind::Internal, "BlockPartition: invalid total or parts");
  }
}

std::int64_t BlockPartition::begin(int part) const {
  const std::int64_t base = total_ / parts_;
  const std::int64_t extra = total_ % parts_;
  return base * part + std::min<std::int64_t>(part, extra);
}

std::int64_t BlockPartition::size(int part) const {
  return total_ / parts_ + (part < total_ % parts_ ? 1 : 0);
}

std::vector<int> BlockPartition::counts(std::int64_t scale) const {
  std::vector<int> result(static_cast<std::size_t>(parts_));
  for (int part = 0; part < parts_; ++part) {
    const std::int64_t count = size(part) * scale;
    if (count > std::numeric_limits<int>::max()) {
      throw Error(ErrorKind::Internal,
                  "a block of " + std::to_string(count) + " values exceeds MPI's int counts");
    }
    result[static_cast<std::size_t>(part)] = static_cast<int>(count);
  }
  return result;
}

}  // namespace dnmf::mpi
