#pragma once

#include <cstdint>

namespace dnmf {

/// Peak resident set size of this process in bytes (VmHWM), or -1 where the OS does not say.
std::int64_t peak_resident_bytes();

/// Memory this process's node can still give, in bytes: MemAvailable (/proc/meminfo), capped by
/// what its cgroup (v2: memory.max less memory.current; a Slurm job's --mem) leaves; -1 where the
/// OS does not say.
std::int64_t available_memory_bytes();

}  // namespace dnmf
