// core/memory: peak_resident_bytes is the VmHWM line of /proc/self/status in bytes, and it grows
// past memory this process has touched; available_memory_bytes is at most MemAvailable and
// positive on Linux.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "dnmf/core/memory.hpp"

namespace {

/// The "KEY: N kB" line of a /proc file in bytes, parsed line by line; -1 if absent.
std::int64_t naive_line(const char* path, const char* format) {
  std::FILE* file = std::fopen(path, "r");
  if (file == nullptr) return -1;
  char line[256];
  std::int64_t bytes = -1;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    long long kib = 0;
    if (std::sscanf(line, format, &kib) == 1) bytes = kib * 1024;
  }
  std::fclose(file);
  return bytes;
}

std::int64_t naive_peak() { return naive_line("/proc/self/status", "VmHWM: %lld kB"); }
std::int64_t naive_available() { return naive_line("/proc/meminfo", "MemAvailable: %lld kB"); }

TEST(Memory, PeakIsVmHwmInBytes) {
  const std::int64_t expected = naive_peak();
  ASSERT_GT(expected, 0) << "this test needs Linux's /proc/self/status";
  const std::int64_t peak = dnmf::peak_resident_bytes();
  // A peak cannot fall; nothing is allocated between the two reads but a line buffer.
  EXPECT_GE(peak, expected);
  EXPECT_LE(peak, naive_peak());
  EXPECT_EQ(peak % 1024, 0);
}

TEST(Memory, PeakCoversMemoryTouched) {
  constexpr std::size_t kBytes = std::size_t{64} << 20;
  const std::int64_t before = dnmf::peak_resident_bytes();
  std::vector<char> block(kBytes);
  std::memset(block.data(), 1, block.size());
  const std::int64_t after = dnmf::peak_resident_bytes();
  EXPECT_GE(after, before);
  EXPECT_GE(after, static_cast<std::int64_t>(kBytes));
  EXPECT_EQ(block[kBytes / 2], 1);
}

TEST(Memory, AvailableIsAtMostMemAvailable) {
  const std::int64_t before = naive_available();
  ASSERT_GT(before, 0) << "this test needs Linux's /proc/meminfo";
  const std::int64_t available = dnmf::available_memory_bytes();
  EXPECT_GT(available, 0);
  // Other processes change MemAvailable between the reads: within 1 GiB of either.
  EXPECT_LE(available, std::max(before, naive_available()) + (std::int64_t{1} << 30));
}

}  // namespace
