// The files of dnmf_nmf_files at every rank count: a factor file written and read back (the
// factors exactly, in the solver's units at a scale that is not 1; the history; the basis
// transform takes from it), resumed (the history and seed, and the refusals of another
// algorithm, seed or matrix, on every rank), and never written when the result is not finite.

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/partition.hpp"
#include "dnmf/nmf/factor_file.hpp"
#include "dnmf/nmf/history_file.hpp"
#include "dnmf/nmf/input_matrix.hpp"
#include "dnmf/nmf/resume.hpp"
#include "dnmf/nmf/transform_files.hpp"
#include "naive_nmf.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using dnmf::Index;
using dnmf::Matrix;
using dnmf::nmf::Algorithm;

constexpr Index kRows = 13;
constexpr Index kCols = 7;
constexpr Index kRank = 3;

/// This rank's rows of a 13x7 matrix with entries near 1000, so that the solver's scale is not
/// 1 and every read and write must convert between the units.
struct Fixture {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  std::string directory = testing_support::scratch_directory(world);
  dnmf::nmf::InputMatrix input;
  dnmf::nmf::ScaledInput scaled;
  dnmf::nmf::FactorRun run;

  Fixture() {
    const Matrix A = 1000 * naive::random_matrix(kRows, kCols, 5);
    const dnmf::mpi::BlockPartition rows(kRows, world.size());
    input.file = "a.h5";
    input.dataset = "/A";
    input.kind = "dense float64";
    input.rows = kRows;
    input.cols = kCols;
    input.row_begin = rows.begin(world.rank());
    input.row_count = rows.size(world.rank());
    input.block = std::make_unique<dnmf::nmf::DenseBlock>(
        dnmf::RowMatrix(A.middleRows(input.row_begin, input.row_count)));
    scaled = dnmf::nmf::scale_input(input, dnmf::nmf::ScaledFactors::Both, "", world);
    run.command_line = "dnmf factorize ...";
    run.solver.algorithm = Algorithm::Bpp;
    run.solver.rank = kRank;
    run.solver.w_penalty = {0.25, 0.5};
    run.seed = 11;
    run.init = "random";
  }

  dnmf::nmf::Factors factors() const {
    return dnmf::nmf::random_factors(kRank, input.row_count, input.row_begin, kCols,
                                     scaled.statistics.mean(), run.seed);
  }
  static dnmf::nmf::SolveResult result() {
    dnmf::nmf::SolveResult result;
    result.history = {{1, 0.5, 2.0, 0.125}, {2, 0.25, 1.5, 0.25}};
    result.iterations = 2;
    result.relative_error = 0.2;
    return result;
  }
  std::string write(const std::string& name, const dnmf::nmf::Factors& factors,
                    dnmf::nmf::FactorFileKind kind = dnmf::nmf::FactorFileKind::Output) {
    const std::string path = directory + "/" + name;
    dnmf::nmf::write_factor_file(path, dnmf::io::IfExists::Fail, kind, run, input, scaled, factors,
                                 result(), 1.0, world);
    return path;
  }
};

void expect_same_history(const std::vector<dnmf::nmf::IterationRecord>& read,
                         const std::vector<dnmf::nmf::IterationRecord>& written) {
  ASSERT_EQ(read.size(), written.size());
  for (std::size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].iteration, written[i].iteration);
    EXPECT_EQ(read[i].relative_error, written[i].relative_error);
    EXPECT_EQ(read[i].objective, written[i].objective);
    EXPECT_EQ(read[i].seconds, written[i].seconds);
  }
}

TEST(FactorFile, WrittenAndReadBackExactly) {
  Fixture fixture;
  ASSERT_NE(fixture.scaled.scaling.exponent, 0);
  const dnmf::nmf::Factors factors = fixture.factors();
  const std::string path = fixture.write("out.h5", factors);
  const dnmf::nmf::Factors read = dnmf::nmf::read_factor_file<double>(
      path, fixture.input, kRank, fixture.scaled.scaling, fixture.world);
  EXPECT_EQ(read.Wt, factors.Wt);
  EXPECT_EQ(read.H, factors.H);
  const dnmf::nmf::FactorsT<float> as_float = dnmf::nmf::read_factor_file<float>(
      path, fixture.input, kRank, fixture.scaled.scaling, fixture.world);
  EXPECT_EQ(as_float.H, factors.H.cast<float>());

  const dnmf::io::InputFile file(path, fixture.world);
  EXPECT_EQ(file.string_attribute("algorithm"), "bpp");
  EXPECT_EQ(file.string_attribute("init"), "random");
  EXPECT_EQ(file.integer_attribute("seed"), 11);
  EXPECT_EQ(file.number_attribute("l2_w"), 0.5);
  EXPECT_EQ(file.number_attribute("checkpoint"), 0);
  EXPECT_EQ(file.number_attribute("relative_error"), 0.2);
  const int exponent = fixture.scaled.scaling.objective_exponent(fixture.run.solver.loss);
  expect_same_history(dnmf::nmf::read_history(file, exponent), Fixture::result().history);

  // transform's view of the same file: H in A's units, the loss and the W penalties.
  const dnmf::nmf::Basis basis = dnmf::nmf::read_basis(path, fixture.world);
  Matrix H = factors.H;
  dnmf::nmf::scale_by_power_of_two(H, -fixture.scaled.scaling.h_exponent);
  EXPECT_EQ(basis.H, H);
  EXPECT_EQ(basis.loss, dnmf::nmf::Loss::Frobenius);
  EXPECT_EQ(basis.penalty.l1, 0.25);
  EXPECT_EQ(basis.transposed, false);
}

/// Every rank throws an error of type E whose message holds `part`.
template <class E, class Step>
void expect_error(Step&& step, const std::string& part) {
  try {
    step();
    ADD_FAILURE() << "no error";
  } catch (const E& error) {
    EXPECT_NE(std::string(error.what()).find(part), std::string::npos) << error.what();
  }
}

TEST(FactorFile, ResumedRunTakesHistoryAndSeedAndRefusesAnotherRun) {
  Fixture fixture;
  const std::string path =
      fixture.write("checkpoint.h5", fixture.factors(), dnmf::nmf::FactorFileKind::Checkpoint);
  EXPECT_EQ(dnmf::nmf::read_resumed_seed(path, std::nullopt, fixture.world), 11u);
  EXPECT_EQ(dnmf::nmf::read_resumed_seed(path, 11, fixture.world), 11u);
  expect_error<dnmf::UsageError>([&] { dnmf::nmf::read_resumed_seed(path, 12, fixture.world); },
                                 path + ": was made with --seed 11");
  const dnmf::nmf::SolveResult so_far =
      dnmf::nmf::read_resumed_run(path, fixture.run, fixture.input, fixture.scaled, fixture.world);
  EXPECT_EQ(so_far.iterations, 2);
  expect_same_history(so_far.history, Fixture::result().history);

  const auto resume = [&](const dnmf::nmf::FactorRun& run, const dnmf::nmf::ScaledInput& scaled) {
    return
        [&, run] { dnmf::nmf::read_resumed_run(path, run, fixture.input, scaled, fixture.world); };
  };
  dnmf::nmf::FactorRun hals = fixture.run;
  hals.solver.algorithm = Algorithm::Hals;
  expect_error<dnmf::UsageError>(resume(hals, fixture.scaled),
                                 path + ": was made with --algorithm bpp");
  dnmf::nmf::FactorRun penalised = fixture.run;
  penalised.solver.h_penalty.l2 = 1;
  expect_error<dnmf::UsageError>(resume(penalised, fixture.scaled),
                                 path + ": was made with --l2-h 0");
  dnmf::nmf::FactorRun held_out = fixture.run;
  held_out.mask.holdout = 0.1;
  expect_error<dnmf::UsageError>(resume(held_out, fixture.scaled),
                                 path + ": was made with --holdout 0");
  dnmf::nmf::FactorRun masked = fixture.run;
  masked.mask.mask = "/mask";
  expect_error<dnmf::UsageError>(resume(masked, fixture.scaled),
                                 path + ": was made with --mask ''");
  dnmf::nmf::FactorRun missing = fixture.run;
  missing.mask.missing_nan = true;
  expect_error<dnmf::UsageError>(resume(missing, fixture.scaled),
                                 path + ": was made without --missing nan");
  dnmf::nmf::ScaledInput other = fixture.scaled;
  other.statistics.sum *= 1.01;
  expect_error<dnmf::InputError>(resume(fixture.run, other),
                                 path + ": was made from another matrix than a.h5:/A");
}

TEST(FactorFile, ZeroFactorIsRefusedAndOverflowIsNeverWritten) {
  Fixture fixture;
  dnmf::nmf::Factors zero_w = fixture.factors();
  zero_w.Wt.setZero();
  const std::string path = fixture.write("zero.h5", zero_w);
  expect_error<dnmf::InputError>(
      [&] {
        dnmf::nmf::read_factor_file<double>(path, fixture.input, kRank, fixture.scaled.scaling,
                                            fixture.world);
      },
      path + ":/W: every entry is zero");

  dnmf::nmf::Factors overflowed = fixture.factors();
  if (fixture.world.rank() == fixture.world.size() - 1) {
    overflowed.H(0, 0) = std::numeric_limits<double>::infinity();
  }
  expect_error<dnmf::InputError>([&] { fixture.write("overflowed.h5", overflowed); },
                                 "a.h5:/A: the result overflowed");
  EXPECT_FALSE(fs::exists(fixture.directory + "/overflowed.h5"));
}

}  // namespace
