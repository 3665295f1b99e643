#pragma once
// The run report: a small JSON document written by rank 0 (atomically) for --report, and the
// per-phase statistics over ranks that go into it.

#include <string>
#include <utility>
#include <vector>

#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/matrix_rows.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::cli {

/// Max and mean of one per-rank figure, from one allgather.
struct OverRanks {
  double max = 0;
  double mean = 0;
};
OverRanks over_ranks(double local_value, mpi::Communicator& comm);

/// A JSON object built in insertion order; values are numbers, strings, arrays or objects.
class JsonObject {
 public:
  JsonObject& add(const std::string& key, double value);
  JsonObject& add(const std::string& key, const std::string& value);
  JsonObject& add(const std::string& key, const char* value) {
    return add(key, std::string(value));
  }
  JsonObject& add(const std::string& key, bool value);
  JsonObject& add(const std::string& key, const std::vector<double>& values);
  JsonObject& add(const std::string& key, const JsonObject& object);
  JsonObject& add(const std::string& key, const OverRanks& statistics);
  std::string text(int indent = 0) const;

 private:
  std::vector<std::pair<std::string, std::string>> members_;  // key, rendered value
};

/// Collective: the report of a factorization: the run, its result, the seconds of each phase
/// and the loop's speed over ranks, the bytes sent, the peak memory.
JsonObject factorize_report(const nmf::FactorRun& run, const io::MatrixSource& input,
                            const nmf::SolveResult& result, const PhaseSeconds& phases,
                            double wall_seconds, mpi::Communicator& comm);

/// Collective: the line factorize prints at the end: "wrote FILE: W m x k, H k x n; N iterations
/// (reason), relative error E, S s on P ranks × T threads".
std::string factorize_summary(const std::string& output, const nmf::FactorRun& run,
                              const io::MatrixSource& input, const nmf::SolveResult& result,
                              double wall_seconds, mpi::Communicator& comm);

/// Rank 0 writes `text` to a temporary file beside `path` and renames it (replacing a file of
/// that name only with IfExists::Replace); collective verdict.
void write_text_atomically(const std::string& path, const std::string& text, io::IfExists if_exists,
                           mpi::Communicator& comm);

}  // namespace dnmf::cli
