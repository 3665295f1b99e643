#include "dnmf/nmf/resume.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/core/named_values.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/history_file.hpp"

namespace dnmf::nmf {
namespace {

/// UsageError unless `file` was made with the same algorithm, loss and penalties as `solver`.
void require_same_steps(const io::InputFile& file, const SolverOptions& solver) {
  const std::string& path = file.path();
  const Algorithm algorithm =
      parse_named(path + ": attribute algorithm", file.string_attribute("algorithm"),
                  kAlgorithmNames, ErrorKind::Input);
  if (algorithm != solver.algorithm) {
    throw UsageError(path + ": was made with --algorithm " + to_string(algorithm) +
                     "; resume it with the same algorithm");
  }
  const Loss loss = parse_named(path + ": attribute loss", file.string_attribute("loss"),
                                kLossNames, ErrorKind::Input);
  if (loss != solver.loss) {
    throw UsageError(path + ": was made with --loss " + to_string(loss) +
                     "; resume it with the same loss");
  }
  const Penalty& w = solver.w_penalty;
  const Penalty& h = solver.h_penalty;
  for (const auto& [name, value] :
       {std::pair{"l1_w", w.l1}, {"l2_w", w.l2}, {"l1_h", h.l1}, {"l2_h", h.l2}}) {
    const double made_with = file.number_attribute(name);
    if (made_with != value) {
      std::ostringstream message;
      message << path << ": was made with --" << name[0] << name[1] << '-' << name[3] << ' '
              << made_with << "; resume it with the same penalties";
      throw UsageError(message.str());
    }
  }
}

/// UsageError unless `file` left out the same entries as `mask` says.
/// A file written before masks existed has none of their attributes: it left nothing out.
void require_same_mask(const io::InputFile& file, const MaskOptions& mask) {
  const std::string& path = file.path();
  const std::string missing = file.object_string_attribute("/", "missing").value_or("none");
  if ((missing == "nan") != mask.missing_nan) {
    throw UsageError(path + ": was made " + (missing == "nan" ? "with" : "without") +
                     " --missing nan; resume it the same way");
  }
  const std::string made_with = file.object_string_attribute("/", "mask").value_or("");
  if (made_with != mask.mask) {
    throw UsageError(path + ": was made with --mask '" + made_with +
                     "'; resume it with the same mask");
  }
  const double holdout = file.object_number_attribute("/", "holdout").value_or(std::vector{0.0})[0];
  if (holdout != mask.holdout) {
    std::ostringstream message;
    message << path << ": was made with --holdout " << holdout
            << "; resume it with the same held-out fraction";
    throw UsageError(message.str());
  }
}

}  // namespace

void require_same_fit(const io::InputFile& file, const FactorRun& run) {
  require_same_steps(file, run.solver);
  require_same_mask(file, run.mask);
  // Without --holdout-seed on either side the held-out set is the seed's, checked with it.
  const bool recorded = file.object_number_attribute("/", "holdout_seed").has_value();
  if (run.mask.holdout == 0 || (!recorded && !run.mask.holdout_seed)) return;
  if (!recorded) {
    throw UsageError(file.path() + ": was made without --holdout-seed; resume it without");
  }
  const std::int64_t holdout_seed = file.integer_attribute("holdout_seed");
  if (static_cast<std::uint64_t>(holdout_seed) != run.holdout_seed()) {
    throw UsageError(file.path() + ": was made with --holdout-seed " +
                     std::to_string(holdout_seed) + "; resume it with the same");
  }
}

RecordedMatrix read_recorded_matrix(const io::InputFile& file) {
  return {file.number_attribute("transpose") != 0, file.number_attribute("input_sum"),
          file.number_attribute("input_squared_norm"),
          static_cast<int>(file.number_attribute("input_scale_exponent"))};
}

void require_same_matrix(const std::string& path, const RecordedMatrix& recorded,
                         const io::MatrixSource& input, const ScaledInput& scaled) {
  if (recorded.transposed != input.transposed) {
    throw UsageError(path + ": was made " + (input.transposed ? "without" : "with") +
                     " --transpose; resume it the same way");
  }
  // Summed in another order at another rank count (or read at another precision): equal to
  // well within 1e-6, while another matrix of the same shape differs far more.
  const auto differs = [](double stored, double now) {
    return std::abs(stored - now) > 1e-6 * std::max(std::abs(stored), std::abs(now));
  };
  // The file's statistics are of A scaled by its own exponent, which read at the other
  // precision can differ by 2 from this run's (a largest entry that rounds up to a power of
  // two): brought to this run's scale first.
  const int rescale = scaled.scaling.exponent - recorded.scale_exponent;
  if (differs(std::ldexp(recorded.sum, rescale), scaled.statistics.sum) ||
      differs(std::ldexp(recorded.squared_norm, 2 * rescale), scaled.statistics.squared_norm)) {
    throw InputError(path + ": was made from another matrix than " +
                     io::where(input.file, input.dataset) + " (its sum and norm differ)");
  }
}

std::uint64_t read_resumed_seed(const std::string& path, std::optional<std::uint64_t> seed_given,
                                mpi::Communicator& comm) {
  const io::InputFile file(path, comm);
  return mpi::agreed(comm, [&] {
    const std::int64_t seed = file.integer_attribute("seed");
    if (seed_given && static_cast<std::uint64_t>(seed) != *seed_given) {
      throw UsageError(path + ": was made with --seed " + std::to_string(seed) +
                       "; resume it with the same seed (or leave --seed out)");
    }
    return static_cast<std::uint64_t>(seed);
  });
}

SolveResult read_resumed_run(const std::string& path, const FactorRun& run,
                             const io::MatrixSource& input, const ScaledInput& scaled,
                             mpi::Communicator& comm) {
  const io::InputFile file(path, comm);
  return mpi::agreed(comm, [&] {
    require_same_fit(file, run);
    require_same_matrix(path, read_recorded_matrix(file), input, scaled);
    SolveResult so_far;
    so_far.history = read_history(file, scaled.scaling.objective_exponent(run.solver.loss));
    so_far.iterations = so_far.history.empty() ? 0 : so_far.history.back().iteration;
    return so_far;
  });
}

}  // namespace dnmf::nmf
