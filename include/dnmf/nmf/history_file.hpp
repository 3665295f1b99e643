#pragma once
// The /history group of an output file (dnmf_nmf_files): one 1-D float64 dataset a field of the
// iteration records (iteration, relative_error, objective, seconds, and test_error for a run
// with a held-out set), written by factorize and by transform (KL), and read back by factorize
// --resume.

#include <string>
#include <vector>

#include "dnmf/io/input_file.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::nmf {

/// Collective, identical records on every rank. The records' objectives are the solver's, of
/// the scaled A (nmf/input_scaling.hpp): A's objective is theirs times 2^objective_exponent.
/// /history/objective holds A's unless one of them is not a normal double there (‖A‖² beyond
/// 1e308), then the solver's; the root attribute objective_exponent says which: A's objective
/// is the stored one times 2^objective_exponent (0 for A's units).
void write_history(io::OutputFile& out, const std::vector<IterationRecord>& history,
                   int objective_exponent, bool with_test_error = false);

/// Not collective: the records write_history wrote to `file`, their objectives in the units
/// of a solver whose objective is A's times 2^-objective_exponent; an InputError naming the
/// file unless the history is consistent with the `iterations` attribute
/// (io/history_check.hpp).
std::vector<IterationRecord> read_history(const io::InputFile& file, int objective_exponent);

/// Collective: InputError naming `where` (the input) and `target` (the file not written) unless
/// the factors (`factors_finite`, this rank's), the relative error and every record of the
/// history (its test error too) are finite: a result that overflowed is an error, never an output.
void require_finite_result(const std::string& where, const std::string& target, bool factors_finite,
                           double relative_error, const std::vector<IterationRecord>& history,
                           mpi::Communicator& comm);

}  // namespace dnmf::nmf
