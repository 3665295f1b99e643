#include "dnmf/nmf/history_file.hpp"

#include <algorithm>
#include <cmath>

#include "dnmf/core/error.hpp"
#include "dnmf/io/history_check.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::nmf {

void write_history(io::OutputFile& out, const std::vector<IterationRecord>& history,
                   int objective_exponent, bool with_test_error) {
  const bool in_input_units =
      std::all_of(history.begin(), history.end(), [&](const IterationRecord& record) {
        return record.objective == 0 ||
               std::isnormal(std::ldexp(record.objective, objective_exponent));
      });
  const int shift = in_input_units ? objective_exponent : 0;
  std::vector<double> iterations, errors, objectives, seconds, test_errors;
  for (const IterationRecord& record : history) {
    iterations.push_back(record.iteration);
    errors.push_back(record.relative_error);
    objectives.push_back(std::ldexp(record.objective, shift));
    seconds.push_back(record.seconds);
    test_errors.push_back(record.test_error);
  }
  out.write_vector("/history/iteration", iterations);
  out.write_vector("/history/relative_error", errors);
  out.write_vector("/history/objective", objectives);
  out.write_vector("/history/seconds", seconds);
  if (with_test_error) out.write_vector("/history/test_error", test_errors);
  out.set_attribute("objective_exponent", static_cast<std::int64_t>(objective_exponent - shift));
}

std::vector<IterationRecord> read_history(const io::InputFile& file, int objective_exponent) {
  const auto column = [&](const char* name) {
    const io::DatasetInfo info = file.dataset(std::string("/history/") + name);
    if (info.shape.size() != 1)
      throw InputError(io::where(file.path(), info.path) + ": expected 1-D");
    return file.read_array<double>(info);
  };
  const std::vector<double> iterations = column("iteration");
  const std::vector<double> errors = column("relative_error");
  const std::vector<double> seconds = column("seconds");
  std::vector<double> objectives = column("objective");
  const int to_solver_units =
      static_cast<int>(file.number_attribute("objective_exponent")) - objective_exponent;
  for (double& objective : objectives) objective = std::ldexp(objective, to_solver_units);
  const bool with_test_error = file.is_dataset("/history/test_error");
  const std::vector<double> test_errors =
      with_test_error ? column("test_error") : std::vector<double>(iterations.size(), 0.0);
  io::require_consistent_history(file.path(), "/history/iteration", iterations,
                                 file.number_attribute("iterations"), "iterations",
                                 {{"/history/relative_error", errors.size()},
                                  {"/history/seconds", seconds.size()},
                                  {"/history/objective", objectives.size()},
                                  {"/history/test_error", test_errors.size()}});
  std::vector<IterationRecord> history;
  for (std::size_t i = 0; i < iterations.size(); ++i) {
    history.push_back(
        {static_cast<int>(iterations[i]), errors[i], objectives[i], seconds[i], test_errors[i]});
  }
  return history;
}

void require_finite_result(const std::string& where, const std::string& target, bool factors_finite,
                           double relative_error, const std::vector<IterationRecord>& history,
                           mpi::Communicator& comm) {
  mpi::agree(comm, [&] {
    bool finite = factors_finite && std::isfinite(relative_error);
    for (const IterationRecord& record : history) {
      finite = finite && std::isfinite(record.relative_error) && std::isfinite(record.objective) &&
               std::isfinite(record.test_error);
    }
    if (!finite) {
      throw InputError(where + ": the result overflowed (the factors or the error are not " +
                       "finite); nothing written to " + target);
    }
  });
}

}  // namespace dnmf::nmf
