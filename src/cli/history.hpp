#pragma once
// The /history group of an output file: one 1-D float64 dataset a field of the iteration records
// (iteration, relative_error, objective, seconds), written by factorize and by transform (KL);
// and the check of a history read back to continue a run (factorize and train --resume).

#include <string>
#include <utility>
#include <vector>

#include "dnmf/io/output_file.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::cli {

/// Collective, identical records on every rank.
void write_history(io::OutputFile& out, const std::vector<nmf::IterationRecord>& history);

/// InputError naming the file unless the counter column `dataset` of its history (iterations,
/// epochs) is 1, 2, ..., n and n is the `recorded` count of `unit` ("iterations") the file
/// states, and every other column (`lengths`, by name) has n entries too: a run continued
/// from an inconsistent record would number, stop and report wrongly.
void require_consistent_history(const std::string& file, const std::string& dataset,
                                const std::vector<double>& counter, double recorded,
                                const std::string& unit,
                                const std::vector<std::pair<std::string, std::size_t>>& lengths);

}  // namespace dnmf::cli
