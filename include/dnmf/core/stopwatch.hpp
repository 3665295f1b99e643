#pragma once
// Wall-clock timing, accumulated locally and reduced once at the end (never inside a loop).

#include <chrono>

namespace dnmf {

class Stopwatch {
 public:
  Stopwatch() : start_(Clock::now()) {}
  void restart() { start_ = Clock::now(); }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_;
};

/// Seconds spent in each phase of a run, on this rank.
struct PhaseSeconds {
  double read = 0;
  double init = 0;  ///< the initial factors (e.g. NNDSVD's truncated SVD)
  double compute = 0;
  double communicate = 0;
  double write = 0;
};

/// Adds the time from construction to destruction to an accumulator.
class ScopedTimer {
 public:
  explicit ScopedTimer(double& total) : total_(total) {}
  ~ScopedTimer() { total_ += watch_.seconds(); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  double& total_;
  Stopwatch watch_;
};

}  // namespace dnmf
