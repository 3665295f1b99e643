// core/threads: configure_kernel_threads reads OMP_NUM_THREADS (1 when unset, unparsable or
// below 1) and, with OpenBLAS, sets its thread count to that.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>
#include <string>

#include "dnmf/core/threads.hpp"

#ifdef DNMF_OPENBLAS
extern "C" int openblas_get_num_threads();
#endif

namespace {

/// Runs configure_kernel_threads with OMP_NUM_THREADS set to `value` (unset for nullopt), and
/// puts the variable back as it was.
int threads_with(const std::optional<std::string>& value) {
  const char* old = getenv("OMP_NUM_THREADS");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  if (value) {
    setenv("OMP_NUM_THREADS", value->c_str(), 1);
  } else {
    unsetenv("OMP_NUM_THREADS");
  }
  const int threads = dnmf::configure_kernel_threads();
#ifdef DNMF_OPENBLAS
  EXPECT_EQ(openblas_get_num_threads(), threads) << "OpenBLAS runs what was configured";
#endif
  if (saved) {
    setenv("OMP_NUM_THREADS", saved->c_str(), 1);
  } else {
    unsetenv("OMP_NUM_THREADS");
  }
  return threads;
}

TEST(Threads, UnsetMeansOne) { EXPECT_EQ(threads_with(std::nullopt), 1); }

TEST(Threads, APositiveCountIsTaken) {
  EXPECT_EQ(threads_with("1"), 1);
  EXPECT_EQ(threads_with("2"), 2);
  EXPECT_EQ(threads_with("3"), 3);
}

TEST(Threads, ZeroOrNegativeMeansOne) {
  EXPECT_EQ(threads_with("0"), 1);
  EXPECT_EQ(threads_with("-4"), 1);
}

TEST(Threads, UnparsableTextMeansOne) {
  EXPECT_EQ(threads_with(""), 1);
  EXPECT_EQ(threads_with("many"), 1);
  EXPECT_EQ(threads_with("99999999999999999999"), 1);
}

TEST(Threads, ALeadingNumberIsTaken) {
  // OpenMP's own list form "2,1" (threads per nesting level) starts with the outer count.
  EXPECT_EQ(threads_with("2,1"), 2);
}

TEST(Threads, TheCountIsKeptAfterTheCall) {
  EXPECT_EQ(threads_with("2"), 2);
  EXPECT_EQ(threads_with(std::nullopt), 1);
}

}  // namespace
