#pragma once
// A test's kernel thread count (core/threads.hpp) for as long as it lives; one again afterwards,
// as every other test expects.

#include "dnmf/core/threads.hpp"

namespace dnmf::test {

class ScopedKernelThreads {
 public:
  explicit ScopedKernelThreads(int threads) { set_kernel_threads(threads); }
  ~ScopedKernelThreads() { set_kernel_threads(1); }
  ScopedKernelThreads(const ScopedKernelThreads&) = delete;
  ScopedKernelThreads& operator=(const ScopedKernelThreads&) = delete;
};

}  // namespace dnmf::test
