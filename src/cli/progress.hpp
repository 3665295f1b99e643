#pragma once
// Progress of an iterative job on rank 0: a live bar on a terminal, a line every few iterations
// in a batch log. Never prints on other ranks; never communicates.

#include <string>

#include "dnmf/core/stopwatch.hpp"

namespace dnmf::cli {

enum class ProgressMode { Auto, Bar, Lines, None };
ProgressMode parse_progress_mode(const std::string& name);

class ProgressPrinter {
 public:
  /// Auto becomes Bar when standard error is a terminal, Lines otherwise; other ranks print
  /// nothing. A `header` line (e.g. layout_line's) is printed first unless the mode is None.
  ProgressPrinter(ProgressMode mode, bool is_root, int total_steps, std::string unit,
                  const std::string& header = "");
  /// Called after each step with a short status (e.g. "rel.err 0.5123").
  void update(int step, double seconds, const std::string& status);
  /// update() with the status "LABEL VALUE" (six decimals), e.g. "rel.err 0.512345".
  void update(int step, double seconds, const char* label, double value);
  /// Ends the bar's line.
  void finish();

 private:
  ProgressMode mode_;
  int total_;
  std::string unit_;
  double last_bar_seconds_ = -1;
  bool bar_open_ = false;
};

}  // namespace dnmf::cli
