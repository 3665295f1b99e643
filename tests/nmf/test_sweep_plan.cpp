// nmf/sweep_plan: --rank's forms and its refusals (one message each), the tasks of a sweep
// (every replicate of every k exactly once, in batches; the groups' estimated work within one
// task of each other; largest first in each group; the same plan every time) and the
// one-standard-error choice of k against its definition.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/nmf/sweep_plan.hpp"

namespace dnmf::nmf {
bool operator==(const SweepTask& a, const SweepTask& b) {
  return a.rank == b.rank && a.first == b.first && a.count == b.count;
}
}  // namespace dnmf::nmf

namespace {

using dnmf::Index;
namespace nmf = dnmf::nmf;

TEST(SweepPlan, RanksAsRangeStepListOrOneValue) {
  EXPECT_EQ(nmf::parse_ranks("4:8"), (std::vector<Index>{4, 5, 6, 7, 8}));
  EXPECT_EQ(nmf::parse_ranks("4:16:4"), (std::vector<Index>{4, 8, 12, 16}));
  EXPECT_EQ(nmf::parse_ranks("4:15:4"), (std::vector<Index>{4, 8, 12}));
  EXPECT_EQ(nmf::parse_ranks("5,8,12"), (std::vector<Index>{5, 8, 12}));
  EXPECT_EQ(nmf::parse_ranks("7"), (std::vector<Index>{7}));
  EXPECT_EQ(nmf::parse_ranks("3:3"), (std::vector<Index>{3}));
}

std::string message_of(const std::string& text) {
  try {
    nmf::parse_ranks(text);
  } catch (const dnmf::UsageError& error) {
    return error.what();
  }
  return "no error";
}

TEST(SweepPlan, BadRanksAreOneClearUsageError) {
  EXPECT_EQ(message_of("16:4"), "--rank '16:4': the range is empty");
  EXPECT_EQ(message_of("0:3"), "--rank '0:3': '0' is not a whole number >= 1");
  EXPECT_EQ(message_of("4:16:0"), "--rank '4:16:0': '0' is not a whole number >= 1");
  EXPECT_EQ(message_of("a:9"), "--rank 'a:9': 'a' is not a whole number >= 1");
  EXPECT_EQ(message_of("4:"), "--rank '4:': '' is not a whole number >= 1");
  EXPECT_EQ(message_of("1:2:3:4"), "--rank '1:2:3:4': a range is A:B or A:B:STEP");
  EXPECT_EQ(message_of(""), "--rank '': '' is not a whole number >= 1");
  EXPECT_EQ(message_of("5,5"), "--rank '5,5': list the ranks ascending, each once");
  EXPECT_EQ(message_of("8,5"), "--rank '8,5': list the ranks ascending, each once");
  EXPECT_EQ(message_of("5,,8"), "--rank '5,,8': '' is not a whole number >= 1");
  EXPECT_EQ(message_of("2.5"), "--rank '2.5': '2.5' is not a whole number >= 1");
}

TEST(SweepPlan, EveryReplicateOfEveryRankOnceAndTheGroupsBalanced) {
  const std::vector<Index> ranks{3, 4, 5, 6, 9, 12};
  for (const int groups : {1, 2, 3, 5, 40}) {
    for (const int batch : {1, 3, 10}) {
      const int replicates = 7;
      const auto plan = nmf::assign_tasks(ranks, replicates, batch, groups);
      ASSERT_EQ(plan.size(), static_cast<std::size_t>(groups));
      std::map<Index, std::vector<int>> seen;
      std::vector<double> load;
      double largest_task = 0;
      for (const auto& group : plan) {
        double work = 0;
        for (std::size_t t = 0; t < group.size(); ++t) {
          const nmf::SweepTask& task = group[t];
          EXPECT_LE(task.count, batch);
          EXPECT_GE(task.count, 1);
          EXPECT_EQ(task.first / batch, (task.first + task.count - 1) / batch) << "one window";
          for (int r = task.first; r < task.first + task.count; ++r) seen[task.rank].push_back(r);
          const double cost = static_cast<double>(task.rank) * task.count;
          work += cost;
          largest_task = std::max(largest_task, cost);
          if (t > 0) {
            EXPECT_LE(cost, static_cast<double>(group[t - 1].rank) * group[t - 1].count)
                << "largest first";
          }
        }
        load.push_back(work);
      }
      for (const Index k : ranks) {
        std::vector<int> replicate = seen[k];
        std::sort(replicate.begin(), replicate.end());
        std::vector<int> expected(static_cast<std::size_t>(replicates));
        for (int r = 0; r < replicates; ++r) expected[static_cast<std::size_t>(r)] = r;
        EXPECT_EQ(replicate, expected) << "k = " << k << ", groups " << groups;
      }
      // Greedy largest-first: a group's load exceeds the least one by at most one task.
      const auto [least, most] = std::minmax_element(load.begin(), load.end());
      EXPECT_LE(*most - *least, largest_task) << groups << " groups, batch " << batch;
      EXPECT_EQ(plan, nmf::assign_tasks(ranks, replicates, batch, groups)) << "deterministic";
    }
  }
}

TEST(SweepPlan, DoneReplicatesAreLeftOutAndBatchesNeverSpanThemNorAWindow) {
  const std::vector<Index> ranks{3, 5, 8};
  // Done: replicates 1, 2 and 5 of k = 5, and every replicate of k = 8.
  const auto done = [](Index k, int r) {
    return k == 8 || (k == 5 && (r == 1 || r == 2 || r == 5));
  };
  for (const int groups : {1, 2, 3}) {
    for (const int batch : {1, 2, 4}) {
      std::map<Index, std::vector<int>> seen;
      for (const auto& group : nmf::assign_tasks(ranks, 7, batch, groups, done)) {
        for (const nmf::SweepTask& task : group) {
          EXPECT_LE(task.count, batch);
          EXPECT_EQ(task.first / batch, (task.first + task.count - 1) / batch) << "one window";
          for (int r = task.first; r < task.first + task.count; ++r) {
            EXPECT_FALSE(done(task.rank, r)) << "k = " << task.rank << ", replicate " << r;
            seen[task.rank].push_back(r);
          }
        }
      }
      for (auto& [k, replicates] : seen) std::sort(replicates.begin(), replicates.end());
      EXPECT_EQ(seen[3], (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
      EXPECT_EQ(seen[5], (std::vector<int>{0, 3, 4, 6}));
      EXPECT_EQ(seen.count(8), 0u);
    }
  }
  // Batches of 4 of k = 5: windows {0..3} and {4..6} less what is done.
  std::vector<std::pair<int, int>> batches;
  for (const auto& group : nmf::assign_tasks({5}, 7, 4, 1, done)) {
    for (const nmf::SweepTask& task : group) batches.emplace_back(task.first, task.count);
  }
  std::sort(batches.begin(), batches.end());
  EXPECT_EQ(batches, (std::vector<std::pair<int, int>>{{0, 1}, {3, 1}, {4, 1}, {6, 1}}));
}

TEST(SweepPlan, OneStandardErrorRule) {
  // The held-out errors of the missing-values issue's masked ALS at k = 3, 5, 6, 7, 14, with a
  // spread of 0.001 over 10 replicates: the least mean is at 7; 6 is within its standard error
  // (0.0794 <= 0.0793 + 0.000316), 5 is not.
  std::vector<nmf::RankScore> scores{{3, 0.109, 0.001, 10},
                                     {5, 0.089, 0.001, 10},
                                     {6, 0.0794, 0.001, 10},
                                     {7, 0.0793, 0.001, 10},
                                     {14, 0.0806, 0.001, 10}};
  EXPECT_EQ(nmf::chosen_rank(scores), 6);
  scores[3].deviation = 0.0;  // no spread: only the least itself
  EXPECT_EQ(nmf::chosen_rank(scores), 7);
  scores[3].deviation = 0.1;  // a wide spread: the smallest k of all within it
  EXPECT_EQ(nmf::chosen_rank(scores), 3);
  EXPECT_EQ(nmf::chosen_rank({}), 0);
}

}  // namespace
