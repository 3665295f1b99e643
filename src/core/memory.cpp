#include "dnmf/core/memory.hpp"

#include <algorithm>
#include <fstream>
#include <string>

namespace dnmf {
namespace {

/// The value of the "KEY: N kB" line of a /proc file, in bytes; -1 if it has none.
std::int64_t kibibyte_line(const char* path, const std::string& key) {
  std::ifstream file(path);
  std::string word;
  while (file >> word) {
    if (word == key) {
      std::int64_t kibibytes = 0;
      file >> kibibytes;
      return kibibytes * 1024;
    }
    file.ignore(1 << 12, '\n');
  }
  return -1;
}

/// The first number in `path` (a cgroup file), or -1 ("max", missing, unreadable).
std::int64_t number_in(const std::string& path) {
  std::ifstream file(path);
  std::int64_t value = -1;
  if (!(file >> value)) return -1;
  return value;
}

/// The cgroup v2 directory of this process ("0::/path" in /proc/self/cgroup), or "".
std::string own_cgroup() {
  std::ifstream groups("/proc/self/cgroup");
  std::string line;
  while (std::getline(groups, line)) {
    if (line.rfind("0::", 0) == 0) return "/sys/fs/cgroup" + line.substr(3);
  }
  return "";
}

}  // namespace

std::int64_t peak_resident_bytes() { return kibibyte_line("/proc/self/status", "VmHWM:"); }

std::int64_t available_memory_bytes() {
  std::int64_t available = kibibyte_line("/proc/meminfo", "MemAvailable:");
  const std::string cgroup = own_cgroup();
  const std::int64_t limit = cgroup.empty() ? -1 : number_in(cgroup + "/memory.max");
  if (limit >= 0) {
    const std::int64_t left =
        limit - std::max<std::int64_t>(number_in(cgroup + "/memory.current"), 0);
    available = available < 0 ? left : std::min(available, left);
  }
  return available;
}

}  // namespace dnmf
