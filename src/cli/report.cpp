#include "cli/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <sstream>

#include "dnmf/core/error.hpp"
#include "dnmf/core/memory.hpp"
#include "dnmf/core/threads.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/thread_layout.hpp"

namespace dnmf::cli {
namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string number(double value) {
  if (!std::isfinite(value)) return "null";
  std::ostringstream text;
  text.precision(17);
  text << value;
  return text.str();
}

}  // namespace

OverRanks over_ranks(double local_value, mpi::Communicator& comm) {
  const std::vector<double> values = comm.gather_all(local_value);
  return {*std::max_element(values.begin(), values.end()),
          std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size())};
}

JsonObject& JsonObject::add(const std::string& key, double value) {
  members_.emplace_back(key, number(value));
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, const std::string& value) {
  members_.emplace_back(key, quoted(value));
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, bool value) {
  members_.emplace_back(key, value ? "true" : "false");
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, const std::vector<double>& values) {
  std::string text = "[";
  for (std::size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + number(values[i]);
  members_.emplace_back(key, text + "]");
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, const JsonObject& object) {
  members_.emplace_back(key, object.text(-1));
  return *this;
}
JsonObject& JsonObject::add(const std::string& key, const OverRanks& statistics) {
  return add(key, JsonObject().add("max", statistics.max).add("mean", statistics.mean));
}

std::string JsonObject::text(int indent) const {
  // indent < 0 renders on one line (nested objects); otherwise one member per line.
  const std::string separator = indent < 0 ? ", " : ",\n  ";
  std::string out = indent < 0 ? "{" : "{\n  ";
  for (std::size_t i = 0; i < members_.size(); ++i) {
    out += (i ? separator : "") + quoted(members_[i].first) + ": " + members_[i].second;
  }
  return out + (indent < 0 ? "}" : "\n}\n");
}

JsonObject factorize_report(const nmf::FactorRun& run, const io::MatrixSource& input,
                            const nmf::SolveResult& result, const PhaseSeconds& phases,
                            double wall_seconds, mpi::Communicator& comm) {
  const OverRanks loop = over_ranks(result.loop_seconds, comm);
  JsonObject seconds;
  seconds.add("read", over_ranks(phases.read, comm))
      .add("init", over_ranks(phases.init, comm))
      .add("compute", over_ranks(phases.compute, comm))
      .add("communicate", over_ranks(phases.communicate, comm))
      .add("write", over_ranks(phases.write, comm))
      .add("iteration_loop", loop);
  std::vector<double> errors;
  for (const nmf::IterationRecord& record : result.history) errors.push_back(record.relative_error);
  const double iterations = result.iterations;
  JsonObject report;
  report.add("dnmf_version", DNMF_VERSION)
      .add("command_line", run.command_line)
      .add("algorithm", nmf::to_string(run.solver.algorithm))
      .add("loss", nmf::to_string(run.solver.loss))
      .add("precision", nmf::to_string(run.precision))
      .add("input_kind", input.kind)
      .add("rank", static_cast<double>(run.solver.rank))
      .add("seed", static_cast<double>(run.seed))
      .add("rows", static_cast<double>(input.rows))
      .add("cols", static_cast<double>(input.cols))
      .add("iterations", iterations)
      .add("converged", result.converged())
      .add("stop_reason", nmf::to_string(result.reason))
      .add("relative_error", result.relative_error)
      .add("input_file", input.file)
      .add("input_dataset", input.dataset)
      .add("mpi_ranks", static_cast<double>(comm.size()))
      .add("threads_per_rank", over_ranks(kernel_threads(), comm))
      .add("blas_threads_per_rank", over_ranks(blas_threads(), comm))
      .add("blas", blas_description())
      .add("wall_seconds", wall_seconds)
      .add("seconds", seconds)
      .add("seconds_per_iteration",
           result.iterations_this_run > 0 ? loop.max / result.iterations_this_run : 0.0)
      .add("bytes_per_iteration_per_rank", over_ranks(result.bytes_per_iteration, comm))
      .add("flops_per_iteration", result.flops_per_iteration)
      .add("gflops_per_second",
           loop.max > 0 ? result.flops_per_iteration * result.iterations_this_run / loop.max / 1e9
                        : 0.0)
      .add("peak_memory_bytes_per_rank",
           over_ranks(static_cast<double>(peak_resident_bytes()), comm))
      .add("history_relative_error", errors)
      .add("observed_entries", static_cast<double>(run.observed_entries))
      .add("missing_entries", static_cast<double>(run.missing_entries))
      .add("heldout_entries", static_cast<double>(run.heldout_entries));
  if (run.mask.holdout > 0) {
    std::vector<double> test_errors;
    for (const nmf::IterationRecord& record : result.history)
      test_errors.push_back(record.test_error);
    report.add("test_error", test_errors.empty() ? 0.0 : test_errors.back())
        .add("history_test_error", test_errors);
  }
  return report;
}

std::string factorize_summary(const std::string& output, const nmf::FactorRun& run,
                              const io::MatrixSource& input, const nmf::SolveResult& result,
                              double wall_seconds, mpi::Communicator& comm) {
  const std::string layout = mpi::describe_layout(comm);
  const long long k = run.solver.rank;
  char test[64] = "";
  if (run.mask.holdout > 0 && !result.history.empty()) {
    std::snprintf(test, sizeof test, ", test error %.6g", result.history.back().test_error);
  }
  char line[512];
  std::snprintf(line, sizeof line,
                "W %lldx%lld, H %lldx%lld; %d iterations (%s), relative error %.6g%s, %.2f s on %s",
                static_cast<long long>(input.rows), k, k, static_cast<long long>(input.cols),
                result.iterations, nmf::to_string(result.reason).c_str(), result.relative_error,
                test, wall_seconds, layout.c_str());
  return "wrote " + output + ": " + line;
}

void write_text_atomically(const std::string& path, const std::string& text, io::IfExists if_exists,
                           mpi::Communicator& comm) {
  mpi::agree(comm, [&] {
    if (!comm.is_root()) return;
    const std::string temporary = io::temporary_beside(path);
    {
      std::ofstream out(temporary);
      out << text;
      out.close();  // flushes: a failed flush must not be renamed into place
      if (!out) {
        std::remove(temporary.c_str());
        throw IoError(path + ": cannot write the report");
      }
    }
    try {
      io::move_into_place(temporary, path, if_exists);
    } catch (const IoError&) {
      std::remove(temporary.c_str());
      throw;
    }
  });
}

}  // namespace dnmf::cli
