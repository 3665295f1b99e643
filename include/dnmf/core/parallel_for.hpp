#pragma once
// dnmf's own loops on the kernel threads (core/threads.hpp): a loop over independent indices
// split into one contiguous chunk a thread, the calling thread taking the first. The chunks are
// a pure function of (count, threads), and each index is done by one thread alone, so a loop
// whose every index depends only on its own inputs gives the same bits at any thread count.
//
// The workers are started once and wait between loops. A body may call the BLAS, which runs in
// the calling thread (core/threads.hpp); a parallel_for inside a body runs inline, in one chunk.

#include <functional>

#include "dnmf/core/matrix.hpp"

namespace dnmf {

/// Runs body(begin, end) over the chunks of [0, count), at most kernel_threads() of them and
/// none smaller than `grain` indices (fewer threads for a short loop); returns when all are
/// done. An exception thrown by a chunk is rethrown here after the others finish.
void parallel_for(Index count, Index grain, const std::function<void(Index, Index)>& body);

}  // namespace dnmf
