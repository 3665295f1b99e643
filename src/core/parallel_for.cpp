#include "dnmf/core/parallel_for.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "dnmf/core/threads.hpp"

namespace dnmf {
namespace {

// Whether this thread is running a chunk: a parallel_for inside one runs inline (the loop around
// it already has every thread busy).
thread_local bool in_chunk = false;

/// Tells the core this thread is waiting in a loop (x86's pause: less power, and the sibling
/// hyperthread gets the pipeline).
inline void pause_instruction() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

/// Marks this thread as in a chunk while it lives.
struct InChunk {
  InChunk() { in_chunk = true; }
  ~InChunk() { in_chunk = false; }
  InChunk(const InChunk&) = delete;
  InChunk& operator=(const InChunk&) = delete;
};

/// Spins until `ready()` holds or about kSpinTime has passed; returns whether it holds. A loop
/// of a training step or an NMF iteration follows the last within microseconds, and a sleeping
/// thread takes tens of microseconds to wake (a futex round trip): waiting briefly awake first
/// makes a loop cost about a microsecond instead. The bound keeps an idle pool from taking cores
/// (OpenBLAS's workers spin for a tenth of a second after a call, which is why they are gone).
template <class Ready>
bool spin_until(const Ready& ready) {
  constexpr auto kSpinTime = std::chrono::microseconds(50);
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      pause_instruction();
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

/// Workers 1..n-1 of a loop (the caller is worker 0), started once and kept waiting. The caller
/// hands worker i a loop by setting its ticket to the loop's number (under the mutex, for a
/// worker asleep); a worker that sees a new ticket runs its chunk and counts pending_ down. The
/// tickets and pending_ are atomics so that a spinning thread sees them without the mutex, and a
/// worker beyond a loop's chunks gets no ticket: it is never woken for a loop it has no part in.
class WorkerPool {
 public:
  ~WorkerPool() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    start_.notify_all();
    for (const std::unique_ptr<Worker>& worker : workers_) worker->thread.join();
  }

  /// Runs chunk i of `threads` equal chunks of [0, count) on worker i.
  void run(int threads, Index count, ChunkBody body) {
    grow(threads - 1);
    threads_ = threads;
    count_ = count;
    body_ = &body;
    error_ = nullptr;
    pending_.store(threads - 1, std::memory_order_relaxed);
    ++loop_;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      for (int index = 1; index < threads; ++index) {
        workers_[static_cast<std::size_t>(index - 1)]->ticket.store(loop_,
                                                                    std::memory_order_release);
      }
    }
    start_.notify_all();
    std::exception_ptr own_error;
    try {
      run_chunk(0);
    } catch (...) {
      own_error = std::current_exception();
    }
    const auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(finished)) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, finished);
    }
    body_ = nullptr;
    if (own_error) std::rethrow_exception(own_error);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  struct Worker {
    std::thread thread;
    std::atomic<std::uint64_t> ticket{0};  // the last loop handed to this worker
  };

  void run_chunk(int index) const {
    const Index begin = count_ * index / threads_;
    const Index end = count_ * (index + 1) / threads_;
    if (begin >= end) return;
    const InChunk flag;
    (*body_)(begin, end);
  }

  void grow(int workers) {
    while (static_cast<int>(workers_.size()) < workers) {
      const int index = static_cast<int>(workers_.size()) + 1;
      workers_.push_back(std::make_unique<Worker>());
      Worker& worker = *workers_.back();
      worker.thread = std::thread([this, index, &worker] { work(index, worker.ticket); });
    }
  }

  void work(int index, const std::atomic<std::uint64_t>& ticket) {
    make_blas_sequential_in_this_thread();
    std::uint64_t seen = 0;
    const auto handed = [&] {
      return stopping_.load(std::memory_order_acquire) ||
             ticket.load(std::memory_order_acquire) != seen;
    };
    for (;;) {
      if (!spin_until(handed)) {
        std::unique_lock<std::mutex> lock(mutex_);
        start_.wait(lock, handed);
      }
      if (stopping_.load(std::memory_order_acquire)) return;
      seen = ticket.load(std::memory_order_acquire);
      try {
        run_chunk(index);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        const std::lock_guard<std::mutex> lock(mutex_);  // the caller may be about to sleep
        done_.notify_one();
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  std::vector<std::unique_ptr<Worker>> workers_;  // pointers: a worker keeps its ticket's address
  // The loop: written by the caller before the tickets' release, read by workers after their
  // acquire.
  int threads_ = 0;
  Index count_ = 0;
  const ChunkBody* body_ = nullptr;
  std::exception_ptr error_;  // the first worker's exception, under mutex_
  std::uint64_t loop_ = 0;    // loops run, the caller's count
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
};

WorkerPool& pool() {
  static WorkerPool workers;
  return workers;
}

}  // namespace

void parallel_for(Index count, Index grain, ChunkBody body) {
  if (count <= 0) return;
  const Index most = std::max<Index>(1, count / std::max<Index>(grain, 1));
  const int threads = static_cast<int>(std::min<Index>(kernel_threads(), most));
  if (threads <= 1 || in_chunk) {
    body(0, count);
    return;
  }
  pool().run(threads, count, body);
}

}  // namespace dnmf
