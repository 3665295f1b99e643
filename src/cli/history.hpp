#pragma once
// The /history group of an output file: one 1-D float64 dataset a field of the iteration records
// (iteration, relative_error, objective, seconds), written by factorize and by transform (KL);
// and the check of a history read back to continue a run (factorize and train --resume).

#include <string>
#include <utility>
#include <vector>

#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::cli {

/// Collective, identical records on every rank. The records' objectives are the solver's, of
/// the scaled A (nmf/input_scaling.hpp): A's objective is theirs times 2^objective_exponent.
/// /history/objective holds A's unless one of them is not a normal double there (‖A‖² beyond
/// 1e308), then the solver's; the root attribute objective_exponent says which: A's objective
/// is the stored one times 2^objective_exponent (0 for A's units).
void write_history(io::OutputFile& out, const std::vector<nmf::IterationRecord>& history,
                   int objective_exponent);

/// Collective: InputError naming `where` (the input) and `target` (the file not written) unless
/// the factors (`factors_finite`, this rank's), the relative error and every record of the
/// history are finite: a result that overflowed is an error, never an output.
void require_finite_result(const std::string& where, const std::string& target, bool factors_finite,
                           double relative_error, const std::vector<nmf::IterationRecord>& history,
                           mpi::Communicator& comm);

/// InputError naming the file unless the counter column `dataset` of its history (iterations,
/// epochs) is 1, 2, ..., n and n is the `recorded` count of `unit` ("iterations") the file
/// states, and every other column (`lengths`, by name) has n entries too: a run continued
/// from an inconsistent record would number, stop and report wrongly.
void require_consistent_history(const std::string& file, const std::string& dataset,
                                const std::vector<double>& counter, double recorded,
                                const std::string& unit,
                                const std::vector<std::pair<std::string, std::size_t>>& lengths);

}  // namespace dnmf::cli
