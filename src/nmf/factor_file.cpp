#include "dnmf/nmf/factor_file.hpp"

#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/matrix_checks.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/history_file.hpp"

namespace dnmf::nmf {
void write_fit_option_attributes(io::OutputFile& out, const FactorRun& run,
                                 const io::MatrixSource& input) {
  const SolverOptions& solver = run.solver;
  out.set_attribute("dnmf_version", std::string(DNMF_VERSION));
  out.set_attribute("command_line", run.command_line);
  out.set_attribute("algorithm", to_string(solver.algorithm));
  out.set_attribute("loss", to_string(solver.loss));
  out.set_attribute("precision", to_string(run.precision));
  out.set_attribute("l1_w", solver.w_penalty.l1);
  out.set_attribute("l2_w", solver.w_penalty.l2);
  out.set_attribute("l1_h", solver.h_penalty.l1);
  out.set_attribute("l2_h", solver.h_penalty.l2);
  out.set_attribute("transpose", static_cast<std::int64_t>(input.transposed ? 1 : 0));
  out.set_attribute("input_kind", input.kind);
  out.set_attribute("seed", static_cast<std::int64_t>(run.seed));
  out.set_attribute("init", run.init);
  out.set_attribute("max_iter", static_cast<std::int64_t>(solver.stop.max_iterations));
  out.set_attribute("tol", solver.stop.tolerance);
  out.set_attribute("time_limit", solver.stop.time_limit);
  out.set_attribute("input_file", input.file);
  out.set_attribute("input_dataset", input.dataset);
  out.set_attribute("missing", std::string(run.mask.missing_nan ? "nan" : "none"));
  out.set_attribute("mask", run.mask.mask);
  out.set_attribute("holdout", run.mask.holdout);
  if (run.mask.holdout_seed) {
    out.set_attribute("holdout_seed", static_cast<std::int64_t>(*run.mask.holdout_seed));
  }
}

namespace {

/// Collective: the attributes of the run, identical on every rank.
void write_run_attributes(io::OutputFile& out, FactorFileKind kind, const FactorRun& run,
                          const io::MatrixSource& input, const ScaledInput& scaled,
                          const SolveResult& result, double wall_seconds, int ranks) {
  write_fit_option_attributes(out, run, input);
  out.set_attribute("rank", static_cast<std::int64_t>(run.solver.rank));
  out.set_attribute("init_seconds", run.init_seconds);
  out.set_attribute("iterations", static_cast<std::int64_t>(result.iterations));
  out.set_attribute("converged", static_cast<std::int64_t>(result.converged() ? 1 : 0));
  out.set_attribute("stop_reason", to_string(result.reason));
  const bool checkpoint = kind == FactorFileKind::Checkpoint;
  out.set_attribute("checkpoint", static_cast<std::int64_t>(checkpoint ? 1 : 0));
  out.set_attribute("relative_error", checkpoint && !result.history.empty()
                                          ? result.history.back().relative_error
                                          : result.relative_error);
  out.set_attribute("input_scale_exponent", static_cast<std::int64_t>(scaled.scaling.exponent));
  out.set_attribute("input_sum", scaled.statistics.sum);
  out.set_attribute("input_squared_norm", scaled.statistics.squared_norm);
  out.set_attribute("observed_entries", run.observed_entries);
  out.set_attribute("heldout_entries", run.heldout_entries);
  out.set_attribute("missing_entries", run.missing_entries);
  if (run.mask.holdout > 0 && !result.history.empty()) {
    out.set_attribute("test_error", result.history.back().test_error);
  }
  out.set_attribute("mpi_ranks", static_cast<std::int64_t>(ranks));
  out.set_attribute("wall_seconds", wall_seconds);
}

}  // namespace

template <class Scalar>
void write_factor_file(const std::string& target, io::IfExists if_exists, FactorFileKind kind,
                       const FactorRun& run, const io::MatrixSource& input,
                       const ScaledInput& scaled, const FactorsT<Scalar>& factors,
                       const SolveResult& result, double wall_seconds, mpi::Communicator& comm) {
  MatrixT<Scalar> Wt = factors.Wt;
  MatrixT<Scalar> H = factors.H;
  scale_by_power_of_two(Wt, -scaled.scaling.w_exponent);
  scale_by_power_of_two(H, -scaled.scaling.h_exponent);
  require_finite_result(io::where(input.file, input.dataset), target,
                        Wt.allFinite() && H.allFinite(), result.relative_error, result.history,
                        comm);
  io::OutputFile out(target, comm, if_exists);
  mpi::agree(comm, [&] {
    out.write_rows("/W", input.rows, run.solver.rank, Wt.data(), input.row_begin, Wt.cols());
    out.write_matrix("/H", RowMatrixT<Scalar>(H));
    write_history(out, result.history, scaled.scaling.objective_exponent(run.solver.loss),
                  run.mask.holdout > 0);
    write_run_attributes(out, kind, run, input, scaled, result, wall_seconds, comm.size());
  });
  out.commit();
}

template <class Scalar>
std::function<void(const FactorsT<Scalar>&, const SolveResult&)> checkpoint_writer(
    const std::string& path, io::IfExists if_exists, const FactorRun& run,
    const io::MatrixSource& input, const ScaledInput& scaled, const Stopwatch& wall,
    mpi::Communicator& comm) {
  return [=, &run, &input, &scaled, &wall, &comm](const FactorsT<Scalar>& factors,
                                                  const SolveResult& so_far) mutable {
    write_factor_file(path, if_exists, FactorFileKind::Checkpoint, run, input, scaled, factors,
                      so_far, comm.max(wall.seconds()), comm);
    if_exists = io::IfExists::Replace;  // the next checkpoint replaces this run's own
  };
}

template <class Scalar>
FactorsT<Scalar> read_factor_file(const std::string& path, const io::MatrixSource& input, Index k,
                                  const InputScaling& scaling, mpi::Communicator& comm) {
  const io::InputFile file(path, comm);
  const auto datasets = mpi::agreed(comm, [&] {
    return std::pair{io::require_matrix(file, "/W", input.rows, k),
                     io::require_matrix(file, "/H", k, input.cols)};
  });
  const auto read = mpi::agreed(comm, [&] {
    return std::pair{file.read_rows<Scalar>(datasets.first, input.row_begin, input.row_count),
                     file.read_all<Scalar>(datasets.second)};
  });
  const RowMatrixT<Scalar>& w_rows = read.first;
  const RowMatrixT<Scalar>& h = read.second;
  const std::pair<const RowMatrixT<Scalar>*, const char*> named[] = {{&w_rows, "/W"}, {&h, "/H"}};
  mpi::agree(comm, [&] {
    io::check_nonnegative_finite(w_rows, input.row_begin, io::where(path, "/W"), comm);
    io::check_nonnegative_finite(h, 0, io::where(path, "/H"), comm);
    // A zero factor stays zero under MU, and BPP's H update makes H zero from it: the run then
    // "converges" at W H = 0. Refused, as scikit-learn refuses it. (Entries are >= 0 here.)
    for (const auto& [values, name] : named) {
      const double largest = values->size() > 0 ? static_cast<double>(values->maxCoeff()) : 0.0;
      if (comm.max(largest) == 0) {
        throw InputError(io::where(path, name) +
                         ": every entry is zero; NMF cannot start from a zero factor");
      }
    }
  });
  FactorsT<Scalar> factors{w_rows.transpose(), h};
  scale_by_power_of_two(factors.Wt, scaling.w_exponent);
  scale_by_power_of_two(factors.H, scaling.h_exponent);
  return factors;
}

#define DNMF_INSTANTIATE_FACTOR_FILE(Scalar)                                                      \
  template void write_factor_file<Scalar>(const std::string&, io::IfExists, FactorFileKind,       \
                                          const FactorRun&, const io::MatrixSource&,              \
                                          const ScaledInput&, const FactorsT<Scalar>&,            \
                                          const SolveResult&, double, mpi::Communicator&);        \
  template std::function<void(const FactorsT<Scalar>&, const SolveResult&)>                       \
  checkpoint_writer<Scalar>(const std::string&, io::IfExists, const FactorRun&,                   \
                            const io::MatrixSource&, const ScaledInput&, const Stopwatch&,        \
                            mpi::Communicator&);                                                  \
  template FactorsT<Scalar> read_factor_file<Scalar>(const std::string&, const io::MatrixSource&, \
                                                     Index, const InputScaling&,                  \
                                                     mpi::Communicator&);
DNMF_INSTANTIATE_FACTOR_FILE(float)
DNMF_INSTANTIATE_FACTOR_FILE(double)
#undef DNMF_INSTANTIATE_FACTOR_FILE

}  // namespace dnmf::nmf
