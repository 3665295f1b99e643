#include "dnmf/nmf/transform_files.hpp"

#include <cmath>
#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/core/named_values.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/matrix_checks.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/history_file.hpp"

namespace dnmf::nmf {
namespace {

/// Not collective: the fit's loss, W penalties and orientation, and its /H dataset.
std::pair<Basis, io::DatasetInfo> describe_basis(const io::InputFile& file) {
  const std::string& path = file.path();
  Basis basis;
  io::DatasetInfo info;
  try {
    info = file.dataset("/H");
    io::require_2d_numeric(info, path);
    basis.loss = parse_named(path + ": attribute loss", file.string_attribute("loss"), kLossNames,
                             ErrorKind::Input);
    basis.penalty = {file.number_attribute("l1_w"), file.number_attribute("l2_w")};
  } catch (const InputError& error) {
    throw InputError(std::string(error.what()) + " (--basis takes a dnmf factorize output)");
  }
  if (!(basis.penalty.l1 >= 0) || !(basis.penalty.l2 >= 0) || !std::isfinite(basis.penalty.l1) ||
      !std::isfinite(basis.penalty.l2)) {
    throw InputError(path + ": the penalties l1_w, l2_w must be finite numbers >= 0");
  }
  if (const auto transpose = file.object_number_attribute("/", "transpose");
      transpose && transpose->size() == 1) {
    basis.transposed = transpose->front() != 0;
  }
  return {basis, info};
}

}  // namespace

Basis read_basis(const std::string& path, mpi::Communicator& comm) {
  const io::InputFile file(path, comm);
  auto described = mpi::agreed(comm, [&] { return describe_basis(file); });
  Basis& basis = described.first;
  const io::DatasetInfo& info = described.second;
  const RowMatrix h = mpi::agreed(comm, [&] { return file.read_all(info); });
  mpi::agree(comm, [&] {
    io::check_nonnegative_finite(h, 0, io::where(path, "/H"), comm);
    if (h.size() == 0 || h.maxCoeff() == 0) {
      throw InputError(io::where(path, "/H") + ": every entry is zero; no codes fit a zero basis");
    }
  });
  basis.H = h;
  return basis;
}

void require_matching_columns(const io::MatrixSource& input, const std::string& basis_file,
                              const Basis& basis) {
  if (input.cols == basis.H.cols()) return;
  std::string message =
      io::where(input.file, input.dataset) + ": has " + std::to_string(input.cols) + " columns" +
      (input.transposed ? " (with --transpose)" : "") + ", but the basis " +
      io::where(basis_file, "/H") + " is " + std::to_string(basis.H.rows()) + "x" +
      std::to_string(basis.H.cols()) + " and needs " + std::to_string(basis.H.cols()) + " columns";
  if (basis.transposed && *basis.transposed != input.transposed) {
    message += *basis.transposed ? "; the fit was made with --transpose: give it here too?"
                                 : "; the fit was made without --transpose";
  }
  throw InputError(message);
}

void write_codes(const std::string& target, io::IfExists if_exists, const CodesRun& run,
                 const io::MatrixSource& input, const InputScaling& scaling, const Basis& basis,
                 const TransformResult& result, double wall_seconds, mpi::Communicator& comm) {
  Matrix Wt = result.Wt;
  scale_by_power_of_two(Wt, -scaling.w_exponent);
  require_finite_result(io::where(input.file, input.dataset), target, Wt.allFinite(),
                        result.relative_error, result.history, comm);
  io::OutputFile out(target, comm, if_exists);
  mpi::agree(comm, [&] {
    const Index k = basis.H.rows();
    out.write_rows("/W", input.rows, k, Wt.data(), input.row_begin, Wt.cols());
    const bool kl = basis.loss == Loss::KullbackLeibler;
    out.set_attribute("dnmf_version", std::string(DNMF_VERSION));
    out.set_attribute("command_line", run.command_line);
    out.set_attribute("basis_file", run.basis_file);
    out.set_attribute("input_file", input.file);
    out.set_attribute("input_dataset", input.dataset);
    out.set_attribute("input_kind", input.kind);
    out.set_attribute("transpose", static_cast<std::int64_t>(input.transposed ? 1 : 0));
    out.set_attribute("loss", to_string(basis.loss));
    out.set_attribute("algorithm", to_string(kl ? Algorithm::Mu : Algorithm::Bpp));
    out.set_attribute("l1_w", basis.penalty.l1);
    out.set_attribute("l2_w", basis.penalty.l2);
    out.set_attribute("rank", static_cast<std::int64_t>(k));
    out.set_attribute("relative_error", result.relative_error);
    out.set_attribute("missing", std::string(run.mask.missing_nan ? "nan" : "none"));
    out.set_attribute("mask", run.mask.mask);
    out.set_attribute("missing_entries", run.missing_entries);
    out.set_attribute("mpi_ranks", static_cast<std::int64_t>(comm.size()));
    out.set_attribute("wall_seconds", wall_seconds);
    if (!kl) return;  // the Frobenius codes are exact: no iterations to record
    out.set_attribute("max_iter", static_cast<std::int64_t>(run.max_iterations));
    out.set_attribute("tol", run.tolerance);
    out.set_attribute("iterations", static_cast<std::int64_t>(result.iterations));
    out.set_attribute("stop_reason", to_string(result.reason));
    write_history(out, result.history, scaling.objective_exponent(basis.loss));
  });
  out.commit();
}

}  // namespace dnmf::nmf
