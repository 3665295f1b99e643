#pragma once
// Where a factorization starts (dnmf_nmf_files): what --init names, parsed once, and the
// factors it gives; or the factors and the history of the run a --resume file continues.

#include <cstdint>
#include <optional>
#include <string>

#include "dnmf/core/named_values.hpp"
#include "dnmf/core/stopwatch.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/factors.hpp"
#include "dnmf/nmf/input_matrix.hpp"
#include "dnmf/nmf/solver.hpp"

namespace dnmf::nmf {

/// random (nmf/factors.hpp); NNDSVD with its zeros kept, filled with mean(A) or with small
/// random values (nmf/nndsvd.hpp); or /W and /H of a factor file (nmf/factor_file.hpp).
enum class InitMethod { Random, Nndsvd, Nndsvda, Nndsvdar, File };
inline constexpr NamedValue<InitMethod> kInitMethodNames[] = {{InitMethod::Random, "random"},
                                                              {InitMethod::Nndsvd, "nndsvd"},
                                                              {InitMethod::Nndsvda, "nndsvda"},
                                                              {InitMethod::Nndsvdar, "nndsvdar"}};

struct Init {
  InitMethod method = InitMethod::Random;
  std::string file;  ///< InitMethod::File: the factor file
  /// The name, or the file: what --init says, and the output's `init` attribute records.
  std::string text() const;
};

/// A name of kInitMethodNames; any other text names a file.
Init parse_init(const std::string& text);

template <class Scalar>
struct StartT {
  ScaledInput scaled;  ///< the scale the solver works at; the statistics of the entries fitted
  FactorsT<Scalar> factors;
  SolveResult so_far;       ///< of the resumed run; empty otherwise
  EntryMaskT<Scalar> mask;  ///< the entries left out of the fit (run.mask)
};

/// Collective: checks `run.solver` against the input's shape (a UsageError naming the input),
/// scales the input (nmf/input_matrix.hpp: scale_input), takes the entries `run.mask` leaves
/// out of its block (missing_entries, take_out_unobserved with run.holdout_seed(); the counts
/// into `run`), and computes the first factors from
/// `init` (`run.seed` draws the random start, NNDSVD's sketch and nndsvdar's fill), in
/// `phases.init` seconds; `run.init` and `run.init_seconds` (the slowest rank's) record them.
/// With a `resume` file (`init` is not used then) the factors, the history and the seed of
/// the run it records are taken (nmf/resume.hpp: `seed_given` must be that seed), the seed
/// into `run`.
template <class Scalar>
StartT<Scalar> start_factorization(const Init& init, const std::string& resume,
                                   std::optional<std::uint64_t> seed_given,
                                   const InputMatrixT<Scalar>& input, FactorRun& run,
                                   PhaseSeconds& phases, mpi::Communicator& comm);

/// Collective: the part of start_factorization after the seed-independent preparation
/// (nmf/input_matrix.hpp: prepare_masked_input), for one of many fits of one input (dnmf
/// sweep): the held-out set of `run.holdout_seed()` taken out of the block into the start's
/// mask (the counts into `run`), and the factors from `init` (start_factors). The caller puts
/// the held-out entries back (put_back_held_out) before the next held-out set's start.
template <class Scalar>
StartT<Scalar> start_from_prepared(const Init& init, const InputMatrixT<Scalar>& input,
                                   const PreparedInput& prepared, FactorRun& run,
                                   PhaseSeconds& phases, mpi::Communicator& comm);

/// Collective: the first factors of a fit of `input` (its block as `scaled` describes it) from
/// `init`, which `run.seed` draws (the random start, NNDSVD's sketch, nndsvdar's fill), at rank
/// `run.solver.rank`, in `phases.init` seconds; `run.init` and `run.init_seconds` (the slowest
/// rank's) record them. For the fits of a batch after the first (dnmf sweep --batch), which
/// share the first's start but for the factors.
template <class Scalar>
FactorsT<Scalar> start_factors(const Init& init, const InputMatrixT<Scalar>& input,
                               const ScaledInput& scaled, FactorRun& run, PhaseSeconds& phases,
                               mpi::Communicator& comm);

}  // namespace dnmf::nmf
