#pragma once
// The /history group of an output file: one 1-D float64 dataset a field of the iteration records
// (iteration, relative_error, objective, seconds), written by factorize and by transform (KL).

#include <vector>

#include "dnmf/io/output_file.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::cli {

/// Collective, identical records on every rank.
void write_history(io::OutputFile& out, const std::vector<nmf::IterationRecord>& history);

}  // namespace dnmf::cli
