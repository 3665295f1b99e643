#include "dnmf/core/parallel_for.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "dnmf/core/threads.hpp"

namespace dnmf {
namespace {

// Whether this thread is running a chunk: a parallel_for inside one runs inline (the loop around
// it already has every thread busy).
thread_local bool in_chunk = false;

/// Marks this thread as in a chunk while it lives.
struct InChunk {
  InChunk() { in_chunk = true; }
  ~InChunk() { in_chunk = false; }
  InChunk(const InChunk&) = delete;
  InChunk& operator=(const InChunk&) = delete;
};

/// Workers 1..n-1 of a loop (the caller is worker 0), started once and kept waiting.
class WorkerPool {
 public:
  ~WorkerPool() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    start_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  void run(int threads, const std::function<void(int)>& chunk) {
    grow(threads - 1);
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      chunk_ = &chunk;
      active_ = threads - 1;
      pending_ = threads - 1;
      ++generation_;
      error_ = nullptr;
    }
    start_.notify_all();
    std::exception_ptr own_error;
    try {
      chunk(0);
    } catch (...) {
      own_error = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    chunk_ = nullptr;
    if (own_error) std::rethrow_exception(own_error);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void grow(int workers) {
    while (static_cast<int>(workers_.size()) < workers) {
      const int index = static_cast<int>(workers_.size()) + 1;
      workers_.emplace_back([this, index] { work(index); });
    }
  }

  void work(int index) {
    make_blas_sequential_in_this_thread();
    std::uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (index > active_) continue;  // this loop has fewer chunks than workers
      const std::function<void(int)>* chunk = chunk_;
      lock.unlock();
      std::exception_ptr error;
      try {
        (*chunk)(index);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error && !error_) error_ = error;
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* chunk_ = nullptr;
  std::uint64_t generation_ = 0;
  int active_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

WorkerPool& pool() {
  static WorkerPool workers;
  return workers;
}

}  // namespace

void parallel_for(Index count, Index grain, const std::function<void(Index, Index)>& body) {
  if (count <= 0) return;
  const Index most = std::max<Index>(1, count / std::max<Index>(grain, 1));
  const int threads = static_cast<int>(std::min<Index>(kernel_threads(), most));
  if (threads <= 1 || in_chunk) {
    body(0, count);
    return;
  }
  const auto chunk = [&](int index) {
    const Index begin = count * index / threads;
    const Index end = count * (index + 1) / threads;
    if (begin >= end) return;
    const InChunk flag;
    body(begin, end);
  };
  pool().run(threads, chunk);
}

}  // namespace dnmf
