// io/history_check: a history whose counter is 1..n, whose other columns have n entries and
// whose file records n passes; each inconsistency is an InputError naming the file (and the
// dataset) with the numbers that disagree.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/history_check.hpp"

namespace {

using dnmf::io::require_consistent_history;
using Lengths = std::vector<std::pair<std::string, std::size_t>>;

std::string message(const std::vector<double>& counter, double recorded, const Lengths& lengths) {
  try {
    require_consistent_history("run.h5", "/history/iteration", counter, recorded, "iterations",
                               lengths);
  } catch (const dnmf::InputError& error) {
    return error.what();
  }
  return "no error";
}

TEST(HistoryCheck, AConsistentHistoryPasses) {
  EXPECT_EQ(message({1, 2, 3}, 3, {{"/history/relative_error", 3}, {"/history/seconds", 3}}),
            "no error");
  EXPECT_EQ(message({}, 0, {{"/history/relative_error", 0}}), "no error");
}

TEST(HistoryCheck, AColumnOfAnotherLength) {
  EXPECT_EQ(message({1, 2, 3}, 3, {{"/history/relative_error", 3}, {"/history/seconds", 2}}),
            "run.h5:/history/seconds: holds 2 entries, but /history/iteration holds 3; the file "
            "is inconsistent");
}

TEST(HistoryCheck, ARecordedCountThatDisagrees) {
  EXPECT_EQ(message({1, 2, 3}, 4, {}),
            "run.h5: records 4 iterations, but /history/iteration holds 3; the file is "
            "inconsistent");
  EXPECT_EQ(message({1, 2}, 2.5, {}),
            "run.h5: records 2.5 iterations, but /history/iteration holds 2; the file is "
            "inconsistent");
}

TEST(HistoryCheck, ACounterThatIsNotOneToN) {
  EXPECT_EQ(message({1, 3, 2}, 3, {}),
            "run.h5:/history/iteration: not 1, 2, ..., 3 (entry 1 is 3); the file is "
            "inconsistent");
  EXPECT_EQ(message({0, 1, 2}, 3, {}),
            "run.h5:/history/iteration: not 1, 2, ..., 3 (entry 0 is 0); the file is "
            "inconsistent");
  EXPECT_EQ(message({1, 2, 3.5}, 3, {}),
            "run.h5:/history/iteration: not 1, 2, ..., 3 (entry 2 is 3.5); the file is "
            "inconsistent");
}

}  // namespace
