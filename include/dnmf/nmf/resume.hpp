#pragma once
// Continuing the run a factor file records (dnmf_nmf_files; factorize --resume): its history,
// hence its iteration count, and its seed.

#include <cstdint>
#include <optional>
#include <string>

#include "dnmf/io/input_file.hpp"
#include "dnmf/io/matrix_rows.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/input_matrix.hpp"
#include "dnmf/nmf/options.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::nmf {

/// Collective: the seed of the run recorded in the factor file `path`: its factors (and its
/// held-out set) came from it, so that is what the continued run uses and records. A
/// UsageError when `seed_given` is another.
std::uint64_t read_resumed_seed(const std::string& path, std::optional<std::uint64_t> seed_given,
                                mpi::Communicator& comm);

/// Collective: the history and iteration count of the run recorded in the factor file `path`,
/// for solve(). It continues only with what determines its steps unchanged: the algorithm, the
/// loss, the penalties, the entries left out (`run.solver` and `run.mask`, as given), the
/// orientation and the matrix itself (recognised by Σ A and ||A||² of the entries fitted,
/// compared at this run's scale; the history's objectives come back in the solver's units). A
/// UsageError names the option that differs, an InputError another matrix or an inconsistent
/// history.
SolveResult read_resumed_run(const std::string& path, const FactorRun& run,
                             const io::MatrixSource& input, const ScaledInput& scaled,
                             mpi::Communicator& comm);

/// Not collective: a UsageError naming the option unless `file` records a fit with the algorithm,
/// loss, penalties and entries left out (--missing, --mask, --holdout) of `run`.
void require_same_fit(const io::InputFile& file, const FactorRun& run);

/// What a factor file (or a sweep's checkpoint) records of the matrix it was made from: its
/// orientation, and Σ A and ||A||² of the scaled entries fitted with the scale's exponent.
struct RecordedMatrix {
  bool transposed = false;
  double sum = 0;
  double squared_norm = 0;
  int scale_exponent = 0;
};

/// Not collective: the root attributes transpose, input_sum, input_squared_norm and
/// input_scale_exponent of `file`.
RecordedMatrix read_recorded_matrix(const io::InputFile& file);

/// Not collective: a UsageError (--transpose) or an InputError (another matrix) naming `path`
/// unless `recorded` is of `input` read the same way: the sums as in `scaled` to 1e-6 (summed in
/// another order or precision), compared at this run's scale.
void require_same_matrix(const std::string& path, const RecordedMatrix& recorded,
                         const io::MatrixSource& input, const ScaledInput& scaled);

}  // namespace dnmf::nmf
