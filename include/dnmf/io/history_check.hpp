#pragma once
// The check of a run's /history read back to continue it (factorize and train --resume): a
// run continued from an inconsistent record would number, stop and report wrongly.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace dnmf::io {

/// InputError naming the file unless the counter column `dataset` of its history (iterations,
/// epochs) is 1, 2, ..., n and n is the `recorded` count of `unit` ("iterations") the file
/// states, and every other column (`lengths`, by name) has n entries too.
void require_consistent_history(const std::string& file, const std::string& dataset,
                                const std::vector<double>& counter, double recorded,
                                const std::string& unit,
                                const std::vector<std::pair<std::string, std::size_t>>& lengths);

}  // namespace dnmf::io
