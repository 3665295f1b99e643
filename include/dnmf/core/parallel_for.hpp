#pragma once
// dnmf's own loops on the kernel threads (core/threads.hpp): a loop over independent indices
// split into one contiguous chunk a thread, the calling thread taking the first. The chunks are
// a pure function of (count, threads), and each index is done by one thread alone, so a loop
// whose every index depends only on its own inputs gives the same bits at any thread count.
//
// The workers are started once and wait between loops, awake for 50 microseconds and then
// asleep: a loop then costs a fraction of a microsecond where a wake-up costs tens, and a training
// step runs some twenty loops. A body may call the BLAS, which runs in the calling thread
// (core/threads.hpp); a parallel_for inside a body runs inline, in one chunk.

#include <type_traits>

#include "dnmf/core/matrix.hpp"

namespace dnmf {

/// A loop body, body(begin, end), referred to and not owned, so that a loop allocates nothing
/// (a std::function allocates for a lambda with more than two captures, and the layers of a
/// training step must not allocate). The body must outlive the call it is passed to.
class ChunkBody {
 public:
  template <class Body, class = std::enable_if_t<!std::is_same_v<Body, ChunkBody>>>
  ChunkBody(const Body& body)  // NOLINT(google-explicit-constructor): any lambda converts
      : body_(&body), call_([](const void* referred, Index begin, Index end) {
          (*static_cast<const Body*>(referred))(begin, end);
        }) {}

  void operator()(Index begin, Index end) const { call_(body_, begin, end); }

 private:
  const void* body_;
  void (*call_)(const void*, Index, Index);
};

/// Runs body(begin, end) over the chunks of [0, count), at most kernel_threads() of them and
/// none smaller than `grain` indices (fewer threads for a short loop); returns when all are
/// done. An exception thrown by a chunk is rethrown here after the others finish.
void parallel_for(Index count, Index grain, ChunkBody body);

}  // namespace dnmf
