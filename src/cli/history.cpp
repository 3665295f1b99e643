#include "cli/history.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::cli {

void write_history(io::OutputFile& out, const std::vector<nmf::IterationRecord>& history,
                   int objective_exponent) {
  const bool in_input_units =
      std::all_of(history.begin(), history.end(), [&](const nmf::IterationRecord& record) {
        return record.objective == 0 ||
               std::isnormal(std::ldexp(record.objective, objective_exponent));
      });
  const int shift = in_input_units ? objective_exponent : 0;
  std::vector<double> iterations, errors, objectives, seconds;
  for (const nmf::IterationRecord& record : history) {
    iterations.push_back(record.iteration);
    errors.push_back(record.relative_error);
    objectives.push_back(std::ldexp(record.objective, shift));
    seconds.push_back(record.seconds);
  }
  out.write_vector("/history/iteration", iterations);
  out.write_vector("/history/relative_error", errors);
  out.write_vector("/history/objective", objectives);
  out.write_vector("/history/seconds", seconds);
  out.set_attribute("objective_exponent", static_cast<std::int64_t>(objective_exponent - shift));
}

void require_finite_result(const std::string& where, const std::string& target, bool factors_finite,
                           double relative_error, const std::vector<nmf::IterationRecord>& history,
                           mpi::Communicator& comm) {
  mpi::agree(comm, [&] {
    bool finite = factors_finite && std::isfinite(relative_error);
    for (const nmf::IterationRecord& record : history) {
      finite = finite && std::isfinite(record.relative_error) && std::isfinite(record.objective);
    }
    if (!finite) {
      throw InputError(where + ": the result overflowed (the factors or the error are not " +
                       "finite); nothing written to " + target);
    }
  });
}

void require_consistent_history(const std::string& file, const std::string& dataset,
                                const std::vector<double>& counter, double recorded,
                                const std::string& unit,
                                const std::vector<std::pair<std::string, std::size_t>>& lengths) {
  const auto number = [](double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    return std::string(text);
  };
  const std::string inconsistent = "; the file is inconsistent";
  for (const auto& [name, length] : lengths) {
    if (length != counter.size()) {
      throw InputError(io::where(file, name) + ": holds " + std::to_string(length) +
                       " entries, but " + dataset + " holds " + std::to_string(counter.size()) +
                       inconsistent);
    }
  }
  if (recorded != static_cast<double>(counter.size())) {
    throw InputError(file + ": records " + number(recorded) + " " + unit + ", but " + dataset +
                     " holds " + std::to_string(counter.size()) + inconsistent);
  }
  for (std::size_t i = 0; i < counter.size(); ++i) {
    if (counter[i] != static_cast<double>(i + 1)) {
      throw InputError(io::where(file, dataset) + ": not 1, 2, ..., " +
                       std::to_string(counter.size()) + " (entry " + std::to_string(i) + " is " +
                       number(counter[i]) + ")" + inconsistent);
    }
  }
}

}  // namespace dnmf::cli
