// core/stop_request: after install_stop_handlers, SIGTERM and SIGUSR1 only record the signal
// (the process goes on), stop_signal reports the last one, clear_stop_signal forgets it.

#include <gtest/gtest.h>

#include <csignal>

#include "dnmf/core/stop_request.hpp"

namespace {

TEST(StopRequest, NoSignalReadsZero) {
  dnmf::install_stop_handlers();
  dnmf::clear_stop_signal();
  EXPECT_EQ(dnmf::stop_signal(), 0);
}

TEST(StopRequest, SigtermAndSigusr1AreRecordedAndTheProcessGoesOn) {
  dnmf::install_stop_handlers();
  for (const int number : {SIGTERM, SIGUSR1}) {
    dnmf::clear_stop_signal();
    ASSERT_EQ(std::raise(number), 0);
    EXPECT_EQ(dnmf::stop_signal(), number);
    dnmf::clear_stop_signal();
    EXPECT_EQ(dnmf::stop_signal(), 0);
  }
}

TEST(StopRequest, TheLastSignalIsTheOneReported) {
  dnmf::install_stop_handlers();
  dnmf::clear_stop_signal();
  ASSERT_EQ(std::raise(SIGUSR1), 0);
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_EQ(dnmf::stop_signal(), SIGTERM);
  dnmf::clear_stop_signal();
}

TEST(StopRequest, TheHandlersAreInstalledWithRestart) {
  dnmf::install_stop_handlers();
  for (const int number : {SIGTERM, SIGUSR1}) {
    struct sigaction current {};
    ASSERT_EQ(sigaction(number, nullptr, &current), 0);
    EXPECT_NE(current.sa_handler, SIG_DFL);
    EXPECT_NE(current.sa_handler, SIG_IGN);
    EXPECT_NE(current.sa_flags & SA_RESTART, 0) << "an interrupted read must resume";
  }
}

TEST(StopRequest, TheExitCodeIsTempfail) { EXPECT_EQ(dnmf::kExitStoppedBySignal, 75); }

}  // namespace
