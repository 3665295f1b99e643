#pragma once

#include <cstdint>

namespace dnmf {

/// Peak resident set size of this process in bytes (VmHWM), or -1 where the OS does not say.
std::int64_t peak_resident_bytes();

}  // namespace dnmf
