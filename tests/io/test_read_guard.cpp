// io/read_guard: while a guard lives, SIGSEGV and SIGBUS end the process with exit code 1 and
// one line naming what was read (with the rank on a rank other than 0), and a read that does
// not finish within kReadSeconds is ended the same way by the watchdog; a guard gone restores
// the handlers there were before it and leaves the process running. The endings run in child
// processes (death tests).

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include "dnmf/io/read_guard.hpp"

namespace {

using dnmf::io::ReadGuard;

extern "C" void custom_handler(int) {}

class ReadGuardTest : public testing::Test {
 protected:
  // Each death test runs in a freshly started copy of this program: a forked child would not
  // have the parent's watchdog thread.
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(ReadGuardTest, AGuardGoneRestoresTheHandlersAndTheProcessGoesOn) {
  struct sigaction custom {};
  custom.sa_handler = custom_handler;
  sigemptyset(&custom.sa_mask);
  struct sigaction saved_segv {
  }, saved_bus{};
  ASSERT_EQ(sigaction(SIGSEGV, &custom, &saved_segv), 0);
  ASSERT_EQ(sigaction(SIGBUS, &custom, &saved_bus), 0);
  for (int i = 0; i < 3; ++i) {
    const ReadGuard guard("f.h5: attribute a", 0);
    struct sigaction during {};
    sigaction(SIGSEGV, nullptr, &during);
    EXPECT_NE(during.sa_handler, custom_handler) << "the guard's own handler while it lives";
  }
  for (const int number : {SIGSEGV, SIGBUS}) {
    struct sigaction after {};
    sigaction(number, nullptr, &after);
    EXPECT_EQ(after.sa_handler, custom_handler) << "signal " << number;
  }
  sigaction(SIGSEGV, &saved_segv, nullptr);
  sigaction(SIGBUS, &saved_bus, nullptr);
}

TEST_F(ReadGuardTest, ACrashDuringTheReadEndsTheProcessNamingWhatWasRead) {
  EXPECT_EXIT(
      {
        const ReadGuard guard("cells.h5ad: attribute encoding-type", 0);
        std::raise(SIGSEGV);
      },
      testing::ExitedWithCode(1),
      "^dnmf: error: cells\\.h5ad: attribute encoding-type: the HDF5 library crashed reading it "
      "\\(a corrupted file\\?\\)\n$");
  EXPECT_EXIT(
      {
        const ReadGuard guard("m.h5: attribute x", 0);
        std::raise(SIGBUS);
      },
      testing::ExitedWithCode(1), "^dnmf: error: m\\.h5: attribute x: the HDF5 library crashed");
}

TEST_F(ReadGuardTest, TheLatestGuardNamesTheRead) {
  EXPECT_EXIT(
      {
        { const ReadGuard first("a.h5: attribute first", 0); }
        const ReadGuard second("b.h5: attribute second", 0);
        std::raise(SIGSEGV);
      },
      testing::ExitedWithCode(1), "^dnmf: error: b\\.h5: attribute second: ");
}

TEST_F(ReadGuardTest, AnotherRankNamesItself) {
  EXPECT_EXIT(
      {
        const ReadGuard guard("x.h5: attribute y", 3);
        std::raise(SIGSEGV);
      },
      testing::ExitedWithCode(1),
      "^dnmf: error on rank 3: x\\.h5: attribute y: the HDF5 library crashed reading it");
}

TEST_F(ReadGuardTest, AReadThatNeverEndsIsEndedByTheWatchdog) {
  EXPECT_EXIT(
      {
        const ReadGuard guard("loop.h5: attribute z", 0);
        for (;;) pause();  // a read stuck for good; no signal comes
      },
      testing::ExitedWithCode(1),
      "^dnmf: error: loop\\.h5: attribute z: reading it did not finish in 10 s \\(a corrupted "
      "file\\?\\)\n$");
}

}  // namespace
