#pragma once
// The files of a transform (dnmf_nmf_files): the basis it reads (a factor file's /H and the
// fit's loss and W penalties) and the codes it writes.

#include <optional>
#include <string>

#include "dnmf/core/matrix.hpp"
#include "dnmf/io/matrix_rows.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/input_matrix.hpp"
#include "dnmf/nmf/input_scaling.hpp"
#include "dnmf/nmf/options.hpp"
#include "dnmf/nmf/transform.hpp"

namespace dnmf::nmf {

/// What transform takes from the fit: its basis, loss and W penalties.
struct Basis {
  Matrix H;  ///< k x n
  Loss loss = Loss::Frobenius;
  Penalty penalty;
  std::optional<bool> transposed;  ///< whether the fit factorized its input's transpose
};

/// Collective: /H (nonnegative, finite, not all zero) and the attributes of a factor file.
Basis read_basis(const std::string& path, mpi::Communicator& comm);

/// InputError naming both files unless the rows of `input` have the basis's n columns. Not
/// collective.
void require_matching_columns(const io::MatrixSource& input, const std::string& basis_file,
                              const Basis& basis);

/// What the codes file records of the transform besides the codes.
struct CodesRun {
  std::string command_line;
  std::string basis_file;
  int max_iterations = 0;  ///< KL only
  double tolerance = 0;    ///< KL only
  MaskOptions mask;        ///< the missing entries, as given (no held-out set)
  std::int64_t missing_entries = 0;
};

/// Collective: writes /W (and for KL /history) to `target` atomically. `result` is the
/// solver's, for the rows scaled by `scaling`: W is written in A's units.
void write_codes(const std::string& target, io::IfExists if_exists, const CodesRun& run,
                 const io::MatrixSource& input, const InputScaling& scaling, const Basis& basis,
                 const TransformResult& result, double wall_seconds, mpi::Communicator& comm);

}  // namespace dnmf::nmf
