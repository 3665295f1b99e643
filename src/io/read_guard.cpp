#include "dnmf/io/read_guard.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace dnmf::io {
namespace {

/// What the process prints when it has to end: formatted when a guard is armed, so that the
/// signal handler only calls write() (async-signal-safe).
struct Ending {
  char line[1024] = {};
  std::size_t length = 0;
  bool root = true;
};

/// The watchdog's state. Never destroyed: the thread may still wait on it while the process
/// exits.
struct Watchdog {
  std::mutex mutex;
  std::condition_variable changed;
  bool armed = false;
  unsigned long generation = 0;  // one per guard, so a late wake-up never ends a later read
  std::chrono::steady_clock::time_point deadline;
  Ending crash;    // for SIGSEGV and SIGBUS
  Ending timeout;  // for the watchdog
  struct sigaction previous_segv {};
  struct sigaction previous_bus {};
};

Watchdog& watchdog() {
  static Watchdog* state = new Watchdog;
  return *state;
}

void format(Ending& ending, int rank, const std::string& what, const char* problem) {
  ending.root = rank == 0;
  const int written =
      rank == 0 ? std::snprintf(ending.line, sizeof ending.line, "dnmf: error: %s: %s\n",
                                what.c_str(), problem)
                : std::snprintf(ending.line, sizeof ending.line, "dnmf: error on rank %d: %s: %s\n",
                                rank, what.c_str(), problem);
  ending.length =
      written < 0 ? 0 : std::min(sizeof ending.line - 1, static_cast<std::size_t>(written));
}

[[noreturn]] void end_process(const Ending& ending) {
  if (!ending.root) {
    const timespec grace{2, 0};
    nanosleep(&grace, nullptr);
  }
  if (ending.length > 0 && write(STDERR_FILENO, ending.line, ending.length) < 0) {
    // nothing left to report it with
  }
  _exit(1);
}

void on_crash(int) { end_process(watchdog().crash); }

void watch() {
  Watchdog& state = watchdog();
  std::unique_lock<std::mutex> lock(state.mutex);
  for (;;) {
    state.changed.wait(lock, [&] { return state.armed; });
    const unsigned long generation = state.generation;
    const bool ended = !state.changed.wait_until(
        lock, state.deadline, [&] { return !state.armed || state.generation != generation; });
    if (ended) end_process(state.timeout);
  }
}

}  // namespace

ReadGuard::ReadGuard(const std::string& what, int rank) {
  Watchdog& state = watchdog();
  static std::once_flag started;
  std::call_once(started, [] { std::thread(watch).detach(); });
  std::lock_guard<std::mutex> lock(state.mutex);
  format(state.crash, rank, what, "the HDF5 library crashed reading it (a corrupted file?)");
  format(state.timeout, rank, what,
         ("reading it did not finish in " + std::to_string(kReadSeconds) + " s (a corrupted file?)")
             .c_str());
  struct sigaction handler {};
  handler.sa_handler = on_crash;
  sigemptyset(&handler.sa_mask);
  sigaction(SIGSEGV, &handler, &state.previous_segv);
  sigaction(SIGBUS, &handler, &state.previous_bus);
  state.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kReadSeconds);
  ++state.generation;
  state.armed = true;
  state.changed.notify_all();
}

ReadGuard::~ReadGuard() {
  Watchdog& state = watchdog();
  std::lock_guard<std::mutex> lock(state.mutex);
  sigaction(SIGSEGV, &state.previous_segv, nullptr);
  sigaction(SIGBUS, &state.previous_bus, nullptr);
  state.armed = false;
  state.changed.notify_all();
}

}  // namespace dnmf::io
