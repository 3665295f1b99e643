#include "cli/history.hpp"

namespace dnmf::cli {

void write_history(io::OutputFile& out, const std::vector<nmf::IterationRecord>& history) {
  std::vector<double> iterations, errors, objectives, seconds;
  for (const nmf::IterationRecord& record : history) {
    iterations.push_back(record.iteration);
    errors.push_back(record.relative_error);
    objectives.push_back(record.objective);
    seconds.push_back(record.seconds);
  }
  out.write_vector("/history/iteration", iterations);
  out.write_vector("/history/relative_error", errors);
  out.write_vector("/history/objective", objectives);
  out.write_vector("/history/seconds", seconds);
}

}  // namespace dnmf::cli
