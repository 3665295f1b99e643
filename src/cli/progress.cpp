#include "cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include "dnmf/core/error.hpp"

namespace dnmf::cli {
namespace {
constexpr int kLineEvery = 10;  // iterations between progress lines in a log
constexpr double kBarRefreshSeconds = 0.1;
constexpr int kBarWidth = 30;
}  // namespace

ProgressMode parse_progress_mode(const std::string& name) {
  if (name == "auto") return ProgressMode::Auto;
  if (name == "bar") return ProgressMode::Bar;
  if (name == "lines") return ProgressMode::Lines;
  if (name == "none") return ProgressMode::None;
  throw UsageError("--progress: '" + name + "' is not one of auto, bar, lines, none");
}

ProgressPrinter::ProgressPrinter(ProgressMode mode, bool is_root, int total_steps, std::string unit,
                                 const std::string& header)
    : mode_(mode), total_(total_steps), unit_(std::move(unit)) {
  if (!is_root) mode_ = ProgressMode::None;
  if (mode_ == ProgressMode::Auto)
    mode_ = isatty(STDERR_FILENO) ? ProgressMode::Bar : ProgressMode::Lines;
  if (mode_ != ProgressMode::None && !header.empty()) std::fprintf(stderr, "%s\n", header.c_str());
}

void ProgressPrinter::update(int step, double seconds, const std::string& status) {
  if (mode_ == ProgressMode::None || step <= 0) return;
  const double per_step = seconds / step;
  const double eta = per_step * (total_ - step);
  if (mode_ == ProgressMode::Lines) {
    if (step != 1 && step % kLineEvery != 0) return;
    std::fprintf(stderr, "%s %d/%d  %s  %.4f s/%s  %.1f s elapsed  ETA %.1f s\n", unit_.c_str(),
                 step, total_, status.c_str(), per_step, unit_.c_str(), seconds, eta);
    std::fflush(stderr);
    return;
  }
  if (seconds - last_bar_seconds_ < kBarRefreshSeconds && step != total_) return;
  last_bar_seconds_ = seconds;
  const int filled = total_ > 0 ? kBarWidth * step / total_ : kBarWidth;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kBarWidth, '.');
  std::fprintf(stderr, "\r[%s] %d/%d  %s  %.4f s/%s  ETA %.1f s   ", bar.c_str(), step, total_,
               status.c_str(), per_step, unit_.c_str(), eta);
  std::fflush(stderr);
  bar_open_ = true;
}

void ProgressPrinter::update(int step, double seconds, const char* label, double value) {
  char status[64];
  std::snprintf(status, sizeof status, "%s %.6f", label, value);
  update(step, seconds, status);
}

void ProgressPrinter::finish() {
  if (bar_open_) std::fprintf(stderr, "\n");
  bar_open_ = false;
}

}  // namespace dnmf::cli
