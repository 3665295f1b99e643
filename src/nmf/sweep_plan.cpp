#include "dnmf/nmf/sweep_plan.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "dnmf/core/error.hpp"

namespace dnmf::nmf {
namespace {

/// A whole positive integer, or a UsageError naming the --rank text.
Index positive(const std::string& part, const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(part, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (part.empty() || used != part.size() || value < 1) {
    throw UsageError("--rank '" + text + "': '" + part + "' is not a whole number >= 1");
  }
  return static_cast<Index>(value);
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  if (text.empty() || text.back() == separator) parts.emplace_back();
  return parts;
}

}  // namespace

std::vector<Index> parse_ranks(const std::string& text) {
  std::vector<Index> ranks;
  if (text.find(':') != std::string::npos) {
    const std::vector<std::string> parts = split(text, ':');
    if (parts.size() != 2 && parts.size() != 3) {
      throw UsageError("--rank '" + text + "': a range is A:B or A:B:STEP");
    }
    const Index first = positive(parts[0], text);
    const Index last = positive(parts[1], text);
    const Index step = parts.size() == 3 ? positive(parts[2], text) : 1;
    if (last < first) throw UsageError("--rank '" + text + "': the range is empty");
    for (Index k = first; k <= last; k += step) ranks.push_back(k);
    return ranks;
  }
  for (const std::string& part : split(text, ',')) ranks.push_back(positive(part, text));
  for (std::size_t i = 1; i < ranks.size(); ++i) {
    if (ranks[i] <= ranks[i - 1]) {
      throw UsageError("--rank '" + text + "': list the ranks ascending, each once");
    }
  }
  return ranks;
}

std::vector<std::vector<SweepTask>> assign_tasks(const std::vector<Index>& ranks, int replicates,
                                                 int batch, int groups,
                                                 const std::function<bool(Index, int)>& done) {
  std::vector<SweepTask> tasks;
  for (const Index k : ranks) {
    // Runs of consecutive replicates still to fit within each window [b B, b B + B).
    for (int first = 0; first < replicates;) {
      if (done && done(k, first)) {
        ++first;
        continue;
      }
      int count = 1;
      while ((first + count) % batch != 0 && first + count < replicates &&
             !(done && done(k, first + count))) {
        ++count;
      }
      tasks.push_back({k, first, count});
      first += count;
    }
  }
  const auto cost = [](const SweepTask& task) {
    return static_cast<double>(task.rank) * task.count;
  };
  // Largest first; equal costs in the order built (k ascending, replicates ascending).
  std::stable_sort(tasks.begin(), tasks.end(),
                   [&](const SweepTask& a, const SweepTask& b) { return cost(a) > cost(b); });
  std::vector<std::vector<SweepTask>> plan(static_cast<std::size_t>(std::max(groups, 1)));
  std::vector<double> load(plan.size(), 0.0);
  for (const SweepTask& task : tasks) {
    const auto least = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) -
                                                load.begin());  // the first of equals
    plan[least].push_back(task);
    load[least] += cost(task);
  }
  return plan;
}

Index chosen_rank(const std::vector<RankScore>& scores) {
  if (scores.empty()) return 0;
  const RankScore& best =
      *std::min_element(scores.begin(), scores.end(),
                        [](const RankScore& a, const RankScore& b) { return a.mean < b.mean; });
  const double standard_error =
      best.replicates > 0 ? best.deviation / std::sqrt(static_cast<double>(best.replicates)) : 0;
  Index chosen = best.rank;
  for (const RankScore& score : scores) {
    if (score.mean <= best.mean + standard_error) chosen = std::min(chosen, score.rank);
  }
  return chosen;
}

}  // namespace dnmf::nmf
