#include "dnmf/io/history_check.hpp"

#include <cstdio>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"

namespace dnmf::io {

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
      throw InputError(where(file, name) + ": holds " + std::to_string(length) + " entries, but " +
                       dataset + " holds " + std::to_string(counter.size()) + inconsistent);
    }
  }
  if (recorded != static_cast<double>(counter.size())) {
    throw InputError(file + ": records " + number(recorded) + " " + unit + ", but " + dataset +
                     " holds " + std::to_string(counter.size()) + inconsistent);
  }
  for (std::size_t i = 0; i < counter.size(); ++i) {
    if (counter[i] != static_cast<double>(i + 1)) {
      throw InputError(where(file, dataset) + ": not 1, 2, ..., " + std::to_string(counter.size()) +
                       " (entry " + std::to_string(i) + " is " + number(counter[i]) + ")" +
                       inconsistent);
    }
  }
}

}  // namespace dnmf::io
