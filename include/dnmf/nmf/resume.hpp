#pragma once
// Continuing the run a factor file records (dnmf_nmf_files; factorize --resume): its history,
// hence its iteration count, and its seed.

#include <cstdint>
#include <optional>
#include <string>

#include "dnmf/io/matrix_rows.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/input_matrix.hpp"
#include "dnmf/nmf/options.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::nmf {

struct ResumedRun {
  SolveResult so_far;  ///< the history and iteration count, for solve()
  /// The seed of the run continued: its factors came from it, so that is what the output and
  /// the report of the continued run record.
  std::uint64_t seed = 0;
};

/// Collective: the run recorded in the factor file `path`. It continues only with what
/// determines its steps unchanged: the algorithm, the loss, the penalties (`solver`, as given),
/// the orientation and the matrix itself (recognised by Σ A and ||A||², compared at this run's
/// scale; the history's objectives come back in the solver's units). A UsageError names the
/// option that differs (also a `seed_given` other than the file's), an InputError another
/// matrix or an inconsistent history.
ResumedRun read_resumed_run(const std::string& path, const SolverOptions& solver,
                            std::optional<std::uint64_t> seed_given, const io::MatrixSource& input,
                            const ScaledInput& scaled, mpi::Communicator& comm);

}  // namespace dnmf::nmf
