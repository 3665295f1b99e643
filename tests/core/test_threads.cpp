// core/threads: OMP_NUM_THREADS read as a count (0 when unset, unparsable or below 1), the count
// kept with OpenBLAS at one thread, the BLAS named.
// (The affinity masks: tests/mpi/test_thread_layout.)

#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>
#include <string>

#include "dnmf/core/threads.hpp"

namespace {

/// threads_from_environment() with OMP_NUM_THREADS set to `value` (unset for nullopt); the
/// variable is put back as it was.
int threads_with(const std::optional<std::string>& value) {
  const char* old = getenv("OMP_NUM_THREADS");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  if (value) {
    setenv("OMP_NUM_THREADS", value->c_str(), 1);
  } else {
    unsetenv("OMP_NUM_THREADS");
  }
  const int threads = dnmf::threads_from_environment();
  if (saved) {
    setenv("OMP_NUM_THREADS", saved->c_str(), 1);
  } else {
    unsetenv("OMP_NUM_THREADS");
  }
  return threads;
}

TEST(Threads, UnsetIsZero) { EXPECT_EQ(threads_with(std::nullopt), 0); }

TEST(Threads, APositiveCountIsTaken) {
  EXPECT_EQ(threads_with("1"), 1);
  EXPECT_EQ(threads_with("2"), 2);
  EXPECT_EQ(threads_with("17"), 17);
}

TEST(Threads, ZeroNegativeOrUnparsableIsZero) {
  EXPECT_EQ(threads_with("0"), 0);
  EXPECT_EQ(threads_with("-4"), 0);
  EXPECT_EQ(threads_with(""), 0);
  EXPECT_EQ(threads_with("many"), 0);
  EXPECT_EQ(threads_with("99999999999999999999"), 0);
}

TEST(Threads, ALeadingNumberIsTaken) {
  // OpenMP's own list form "2,1" (threads per nesting level) starts with the outer count.
  EXPECT_EQ(threads_with("2,1"), 2);
}

TEST(Threads, TheCountSetIsKeptAndTheBlasRunsOne) {
  for (const int threads : {3, 1, 2}) {
    dnmf::set_kernel_threads(threads);
    EXPECT_EQ(dnmf::kernel_threads(), threads);
    EXPECT_EQ(dnmf::blas_threads(), 1) << "dnmf's pool runs the threads, the BLAS one in each";
  }
  dnmf::set_kernel_threads(0);
  EXPECT_EQ(dnmf::kernel_threads(), 1) << "at least one";
  dnmf::set_kernel_threads(1);
}

TEST(Threads, TheBlasIsNamed) {
  const std::string blas = dnmf::blas_description();
#ifdef DNMF_OPENBLAS
  EXPECT_EQ(blas.rfind("OpenBLAS ", 0), 0u) << blas;
  EXPECT_TRUE(blas.find("(pthreads)") != std::string::npos ||
              blas.find("(OpenMP)") != std::string::npos ||
              blas.find("(sequential)") != std::string::npos)
      << blas;
#else
  EXPECT_EQ(blas, "Eigen's own kernels");
#endif
}

}  // namespace
