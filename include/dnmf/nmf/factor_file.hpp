#pragma once
// The factor file (dnmf_nmf_files): a factorize output or checkpoint, the same layout, so that
// either can start or continue a run (in either precision: W and H are float32 datasets in
// single precision, float64 in double). /W (m x k), /H (k x n), /history (nmf/history_file.hpp)
// and root attributes describing the run.

#include <cstdint>
#include <functional>
#include <string>

#include "dnmf/core/stopwatch.hpp"
#include "dnmf/io/matrix_rows.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/factors.hpp"
#include "dnmf/nmf/input_matrix.hpp"
#include "dnmf/nmf/input_scaling.hpp"
#include "dnmf/nmf/options.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::nmf {

/// What a factor file records of the run besides its factors and history.
struct FactorRun {
  std::string command_line;
  SolverOptions solver;  ///< as given, in A's units
  Precision precision = Precision::Double;
  std::uint64_t seed = 0;
  std::string init;  ///< what the factors started from (nmf/initial_factors.hpp: Init::text)
  double init_seconds = 0;
  MaskOptions mask;  ///< the entries left out of the fit, as given
  /// The seed of the held-out set: --holdout-seed, or the run's seed.
  std::uint64_t holdout_seed() const { return mask.holdout_seed.value_or(seed); }
  // How many entries the fit saw, the test set held and were missing (start_factorization).
  std::int64_t observed_entries = 0;
  std::int64_t heldout_entries = 0;
  std::int64_t missing_entries = 0;
};

/// Collective, as OutputFile's attributes are: the root attributes that record how a fit was asked
/// for (the options of `run` and the input), shared by factor files and dnmf sweep's output.
void write_fit_option_attributes(io::OutputFile& out, const FactorRun& run,
                                 const io::MatrixSource& input);

/// A checkpoint is written before the final direct evaluation of the error: its
/// relative_error attribute is the loop's last value.
enum class FactorFileKind { Output, Checkpoint };

/// Collective: writes `target` atomically (io::OutputFile). `factors` are the solver's, of the
/// scaled A: they are written in A's units; an InputError and nothing written when they or the
/// result are not finite.
template <class Scalar>
void write_factor_file(const std::string& target, io::IfExists if_exists, FactorFileKind kind,
                       const FactorRun& run, const io::MatrixSource& input,
                       const ScaledInput& scaled, const FactorsT<Scalar>& factors,
                       const SolveResult& result, double wall_seconds, mpi::Communicator& comm);

/// The solver's checkpoint hook (SolverHooksT::checkpoint): writes `path` as a checkpoint of
/// `run` with the wall time of `wall` so far, the first time replacing a file as `if_exists`
/// says, then always the run's own previous checkpoint. The references must outlive the solve.
template <class Scalar>
std::function<void(const FactorsT<Scalar>&, const SolveResult&)> checkpoint_writer(
    const std::string& path, io::IfExists if_exists, const FactorRun& run,
    const io::MatrixSource& input, const ScaledInput& scaled, const Stopwatch& wall,
    mpi::Communicator& comm);

/// Collective: /W (input.rows x k, this rank's rows) and /H (k x input.cols) of `path`, of any
/// float type (HDF5 converts to Scalar), as a start in the units of the scaled A. InputError
/// naming the file and dataset for a wrong shape, NaN/Inf, a negative entry or a factor that
/// is zero everywhere.
template <class Scalar>
FactorsT<Scalar> read_factor_file(const std::string& path, const io::MatrixSource& input, Index k,
                                  const InputScaling& scaling, mpi::Communicator& comm);

}  // namespace dnmf::nmf
