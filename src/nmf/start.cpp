#include "dnmf/nmf/start.hpp"

#include <utility>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/nndsvd.hpp"
#include "dnmf/nmf/resume.hpp"

namespace dnmf::nmf {

std::string Init::text() const {
  return method == InitMethod::File ? file : name_of(method, kInitMethodNames);
}

Init parse_init(const std::string& text) {
  for (const NamedValue<InitMethod>& named : kInitMethodNames) {
    if (text == named.name) return {named.value, ""};
  }
  return {InitMethod::File, text};
}

namespace {

template <class Scalar>
FactorsT<Scalar> initial_factors(const Init& init, const InputMatrixT<Scalar>& input,
                                 const ScaledInput& scaled, Index k, std::uint64_t seed,
                                 mpi::Communicator& comm) {
  const auto nndsvd = [&](NndsvdFill fill) {
    return nndsvd_factors(*input.block, input.row_begin, scaled.statistics, k, fill, seed, comm);
  };
  switch (init.method) {
    case InitMethod::Random:
      return random_factors<Scalar>(k, input.block->rows(), input.row_begin, input.cols,
                                    scaled.statistics.mean(), seed);
    case InitMethod::Nndsvd: return nndsvd(NndsvdFill::Zeros);
    case InitMethod::Nndsvda: return nndsvd(NndsvdFill::Mean);
    case InitMethod::Nndsvdar: return nndsvd(NndsvdFill::SmallRandom);
    case InitMethod::File: break;
  }
  return read_factor_file<Scalar>(init.file, input, k, scaled.scaling, comm);
}

}  // namespace

template <class Scalar>
StartT<Scalar> start_from_prepared(const Init& init, const InputMatrixT<Scalar>& input,
                                   const PreparedInput& prepared, FactorRun& run,
                                   PhaseSeconds& phases, mpi::Communicator& comm) {
  StartT<Scalar> start;
  start.scaled =
      take_out_left_out_entries(input, prepared, run.mask, run.holdout_seed(), start.mask, comm);
  run.observed_entries = run.mask.any() ? start.mask.observed_entries : input.rows * input.cols;
  run.heldout_entries = start.mask.test_entries;
  run.missing_entries = start.mask.missing_entries;
  start.factors = start_factors(init, input, start.scaled, run, phases, comm);
  return start;
}

template <class Scalar>
FactorsT<Scalar> start_factors(const Init& init, const InputMatrixT<Scalar>& input,
                               const ScaledInput& scaled, FactorRun& run, PhaseSeconds& phases,
                               mpi::Communicator& comm) {
  const Stopwatch init_time;
  run.init = init.text();
  FactorsT<Scalar> factors = initial_factors(init, input, scaled, run.solver.rank, run.seed, comm);
  phases.init = init_time.seconds();
  run.init_seconds = comm.max(phases.init);
  return factors;
}

template <class Scalar>
StartT<Scalar> start_factorization(const Init& init, const std::string& resume,
                                   std::optional<std::uint64_t> seed_given,
                                   const InputMatrixT<Scalar>& input, FactorRun& run,
                                   PhaseSeconds& phases, mpi::Communicator& comm) {
  mpi::agree(comm, [&] {
    try {
      validate(run.solver, input.rows, input.cols);
    } catch (const UsageError& error) {
      throw UsageError(io::where(input.file, input.dataset) + ": " + error.what());
    }
  });
  // A resumed run continues with the seed it was made with: its held-out set too.
  if (!resume.empty()) run.seed = read_resumed_seed(resume, seed_given, comm);
  const PreparedInput prepared =
      prepare_masked_input(input, ScaledFactors::Both, "nothing to factorize", run.mask, comm);
  // A resumed run starts from the factors of the file it continues.
  const Init from = resume.empty() ? init : Init{InitMethod::File, resume};
  StartT<Scalar> start = start_from_prepared(from, input, prepared, run, phases, comm);
  if (!resume.empty()) start.so_far = read_resumed_run(resume, run, input, start.scaled, comm);
  return start;
}

#define DNMF_INSTANTIATE_START(Scalar)                                                            \
  template StartT<Scalar> start_factorization<Scalar>(                                            \
      const Init&, const std::string&, std::optional<std::uint64_t>, const InputMatrixT<Scalar>&, \
      FactorRun&, PhaseSeconds&, mpi::Communicator&);                                             \
  template StartT<Scalar> start_from_prepared<Scalar>(const Init&, const InputMatrixT<Scalar>&,   \
                                                      const PreparedInput&, FactorRun&,           \
                                                      PhaseSeconds&, mpi::Communicator&);         \
  template FactorsT<Scalar> start_factors<Scalar>(const Init&, const InputMatrixT<Scalar>&,       \
                                                  const ScaledInput&, FactorRun&, PhaseSeconds&,  \
                                                  mpi::Communicator&);
DNMF_INSTANTIATE_START(float)
DNMF_INSTANTIATE_START(double)
#undef DNMF_INSTANTIATE_START

}  // namespace dnmf::nmf
