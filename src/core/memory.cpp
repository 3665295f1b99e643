#include "dnmf/core/memory.hpp"

#include <fstream>
#include <string>

namespace dnmf {

std::int64_t peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      std::int64_t kibibytes = 0;
      status >> kibibytes;
      return kibibytes * 1024;
    }
    status.ignore(1 << 12, '\n');
  }
  return -1;
}

}  // namespace dnmf
