#pragma once
// Balanced block partition of [0, total) into `parts` contiguous blocks whose sizes differ by at
// most one; the first (total % parts) blocks get the extra element. A block may be empty.

#include <cstdint>
#include <vector>

namespace dnmf::mpi {

class BlockPartition {
 public:
  BlockPartition(std::int64_t total, int parts);
  std::int64_t total() const { return total_; }
  int parts() const { return parts_; }
  std::int64_t begin(int part) const;
  std::int64_t size(int part) const;
  std::int64_t end(int part) const { return begin(part) + size(part); }
  /// size(part) * scale for every part, as the int counts MPI's v-collectives take.
  std::vector<int> counts(std::int64_t scale) const;

 private:
  std::int64_t total_;
  int parts_;
};

}  // namespace dnmf::mpi
