// core/parallel_for: every index done exactly once, in contiguous chunks that depend only on
// (count, threads) and never hold fewer than the grain; one thread for short loops; the first
// exception rethrown after all chunks end; loops one after another and thread counts that change;
// a loop inside a body inline; bodies calling the BLAS at once.

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "dnmf/core/parallel_for.hpp"
#include "dnmf/core/threads.hpp"

namespace {

using dnmf::Index;

struct Chunks {
  std::set<std::pair<Index, Index>> seen;
  std::set<std::thread::id> threads;
};

Chunks run(Index count, Index grain, int threads) {
  dnmf::set_kernel_threads(threads);
  Chunks chunks;
  std::mutex mutex;
  dnmf::parallel_for(count, grain, [&](Index begin, Index end) {
    const std::lock_guard<std::mutex> lock(mutex);
    chunks.seen.insert({begin, end});
    chunks.threads.insert(std::this_thread::get_id());
  });
  dnmf::set_kernel_threads(1);
  return chunks;
}

TEST(ParallelFor, EveryIndexOnceInContiguousChunks) {
  for (const int threads : {1, 2, 3, 7}) {
    for (const Index count : {1, 5, 16, 100, 1001}) {
      const Chunks chunks = run(count, 1, threads);
      Index next = 0;
      for (const auto& [begin, end] : chunks.seen) {
        EXPECT_EQ(begin, next) << count << " over " << threads;
        EXPECT_LT(begin, end);
        next = end;
      }
      EXPECT_EQ(next, count);
      EXPECT_EQ(static_cast<Index>(chunks.seen.size()), std::min<Index>(count, threads));
      EXPECT_EQ(chunks.threads.size(), chunks.seen.size()) << "one thread a chunk";
    }
  }
}

TEST(ParallelFor, TheChunksDependOnlyOnCountAndThreads) {
  EXPECT_EQ(run(1000, 1, 3).seen, run(1000, 1, 3).seen);
  const std::set<std::pair<Index, Index>> expected{{0, 333}, {333, 666}, {666, 1000}};
  EXPECT_EQ(run(1000, 1, 3).seen, expected);
}

TEST(ParallelFor, NoChunkSmallerThanTheGrain) {
  EXPECT_EQ(run(40, 16, 4).seen.size(), 2u);  // 40 / 16: two chunks of 20
  EXPECT_EQ(run(15, 16, 4).seen.size(), 1u);  // shorter than a grain: the caller alone
  EXPECT_EQ(run(64, 16, 4).seen.size(), 4u);
}

TEST(ParallelFor, AnExceptionReachesTheCallerAfterEveryChunkEnds) {
  dnmf::set_kernel_threads(4);
  std::atomic<int> finished{0};
  EXPECT_THROW(dnmf::parallel_for(400, 1,
                                  [&](Index begin, Index) {
                                    if (begin == 100) throw std::runtime_error("chunk 2");
                                    finished += 1;
                                  }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 3);
  // The pool still works afterwards.
  std::atomic<Index> sum{0};
  dnmf::parallel_for(400, 1, [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) sum += i;
  });
  EXPECT_EQ(sum.load(), 399 * 400 / 2);
  dnmf::set_kernel_threads(1);
}

TEST(ParallelFor, ManyLoopsAndChangingThreadCounts) {
  for (int round = 0; round < 200; ++round) {
    const int threads = 1 + round % 4;
    dnmf::set_kernel_threads(threads);
    std::vector<int> hits(97, 0);
    dnmf::parallel_for(97, 1, [&](Index begin, Index end) {
      for (Index i = begin; i < end; ++i) ++hits[static_cast<std::size_t>(i)];
    });
    for (const int hit : hits) ASSERT_EQ(hit, 1) << "round " << round;
  }
  dnmf::set_kernel_threads(1);
}

}  // namespace

TEST(ParallelFor, ALoopInsideABodyRunsInlineInOneChunk) {
  dnmf::set_kernel_threads(3);
  std::mutex mutex;
  std::vector<std::pair<std::thread::id, std::thread::id>> inner;  // (outer thread, inner thread)
  std::vector<std::pair<Index, Index>> inner_chunks;
  dnmf::parallel_for(3, 1, [&](Index, Index) {
    const std::thread::id outer = std::this_thread::get_id();
    dnmf::parallel_for(100, 1, [&](Index begin, Index end) {
      const std::lock_guard<std::mutex> lock(mutex);
      inner.emplace_back(outer, std::this_thread::get_id());
      inner_chunks.emplace_back(begin, end);
    });
  });
  ASSERT_EQ(inner.size(), 3u) << "one inner chunk per outer chunk";
  for (std::size_t i = 0; i < inner.size(); ++i) {
    EXPECT_EQ(inner[i].first, inner[i].second) << "on the outer chunk's own thread";
    EXPECT_EQ(inner_chunks[i], std::make_pair(Index{0}, Index{100}));
  }
  // Outside a body a loop uses the pool again.
  EXPECT_EQ(run(100, 1, 3).seen.size(), 3u);
}

TEST(ParallelFor, BodiesMayCallTheBlas) {
  // Each thread multiplies its own columns with the BLAS at the same time: the products equal
  // one product on one thread to rounding (the BLAS may block them differently).
  const dnmf::Index n = 300;
  const dnmf::Matrix a = dnmf::Matrix::Random(n, n);
  const dnmf::Matrix b = dnmf::Matrix::Random(n, 64);
  dnmf::set_kernel_threads(1);
  const dnmf::Matrix expected = a * b;
  dnmf::set_kernel_threads(4);
  dnmf::Matrix got(n, 64);
  dnmf::parallel_for(64, 1, [&](Index begin, Index end) {
    got.middleCols(begin, end - begin).noalias() = a * b.middleCols(begin, end - begin);
  });
  dnmf::set_kernel_threads(1);
  // Each entry is a sum of n products of numbers below 1 in magnitude: two orders of the sum
  // differ by at most 2 n u Σ|a_ij b_jk| <= 2 n² u.
  const double bound = 2.0 * static_cast<double>(n * n) * std::numeric_limits<double>::epsilon();
  EXPECT_LE((got - expected).cwiseAbs().maxCoeff(), bound);
}
