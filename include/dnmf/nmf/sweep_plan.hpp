#pragma once
// The plan of a rank sweep (dnmf sweep): which ranks k, how the (k, replicates) tasks are shared
// among groups of ranks, and which k the results choose. Pure functions of their arguments, so
// every rank computes the same plan without communicating.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dnmf/core/matrix.hpp"

namespace dnmf::nmf {

/// --rank: "A:B" (A to B), "A:B:S" (every S-th from A up to B) or "K1,K2,..." (a list), or one
/// value; ascending, without repeats, each >= 1. Throws UsageError naming the text otherwise.
std::vector<Index> parse_ranks(const std::string& text);

/// One task: `count` replicates of rank k, replicate numbers [first, first + count), factorized
/// together (a batch).
struct SweepTask {
  Index rank = 0;
  int first = 0;
  int count = 0;
};

/// The tasks of every k, each k's `replicates` in batches: the runs of consecutive replicates
/// not `done` (all are to do without it: a resumed sweep skips what its checkpoint holds) within
/// each window [b batch, b batch + batch) of the replicate numbers, so that a batch is always
/// within one window, whatever is done; shared among `groups` groups: largest estimated cost first
/// (k times the batch: the products with A, which dominate an iteration), each to the group with
/// the least estimated work so far (the lowest group on a tie). Result: the tasks of each group, in
/// the order it runs them.
std::vector<std::vector<SweepTask>> assign_tasks(const std::vector<Index>& ranks, int replicates,
                                                 int batch, int groups,
                                                 const std::function<bool(Index, int)>& done = {});

/// The test error of one k over its replicates.
struct RankScore {
  Index rank = 0;
  double mean = 0;       ///< mean test error over the replicates
  double deviation = 0;  ///< their sample standard deviation
  int replicates = 0;
};

/// The one-standard-error rule (Breiman et al., Classification and Regression Trees, 1984): the
/// smallest k whose mean test error is at most the least mean plus the standard error at that
/// least mean (its deviation / sqrt(replicates)). 0 for no scores.
Index chosen_rank(const std::vector<RankScore>& scores);

}  // namespace dnmf::nmf
