#include "cli/fit_options.hpp"

#include "dnmf/core/error.hpp"

namespace dnmf::cli {
namespace {

/// --stop-on: which error the stopping rule watches.
enum class StopOn { Train, Test };
constexpr NamedValue<StopOn> kStopOnNames[] = {{StopOn::Train, "train"}, {StopOn::Test, "test"}};

/// --missing, --mask, --holdout, --holdout-seed and --stop-on into `run`.
void parse_left_out_entries(const po::variables_map& v, nmf::FactorRun& run) {
  nmf::MaskOptions& mask = run.mask;
  mask = missing_options(v);
  mask.holdout = v["holdout"].as<double>();
  if (v.count("holdout-seed") != 0) {
    if (mask.holdout == 0)
      throw UsageError("--holdout-seed draws the held-out set: give --holdout F");
    mask.holdout_seed = non_negative(v, "holdout-seed");
  }
  nmf::HeldOutSet(mask.holdout, run.holdout_seed());  // refuses a fraction out of range
  bool& watch_test_error = run.solver.stop.watch_test_error;
  watch_test_error =
      parse_named("--stop-on", v["stop-on"].as<std::string>(), kStopOnNames) == StopOn::Test;
  if (watch_test_error && mask.holdout == 0) {
    throw UsageError("--stop-on test watches the error on held-out entries: give --holdout F");
  }
}

}  // namespace

void add_fit_options(po::options_description& options, double holdout_default) {
  // clang-format off
  options.add_options()
      ("loss", po::value<std::string>()->default_value("frobenius"),
       "frobenius|kl (generalized Kullback-Leibler; needs --algorithm mu)")
      ("l1-w", po::value<double>()->default_value(0), "L1 penalty l1 ||W||_1 added to the loss")
      ("l2-w", po::value<double>()->default_value(0), "L2 penalty (l2/2) ||W||_F^2")
      ("l1-h", po::value<double>()->default_value(0), "L1 penalty on H")
      ("l2-h", po::value<double>()->default_value(0), "L2 penalty on H")
      ("algorithm,a", po::value<std::string>()->default_value("hals"), "mu|hals|bpp")
      ("precision", po::value<std::string>()->default_value("double"),
       "single|double: the type of A, W, H and the products with A (single: half the memory)")
      ("max-iter", po::value<int>()->default_value(200), "maximum number of iterations")
      ("tol", po::value<double>()->default_value(1e-4),
       "stop when the relative error improves by less than this, relatively, over 10 iterations")
      ("time-limit", po::value<double>()->default_value(0), "seconds; 0 for none")
      ("seed", po::value<std::int64_t>()->default_value(0),
       "seed of the random initialisation (and of NNDSVD's sketch and nndsvdar's fill)")
      ("init", po::value<std::string>()->default_value("random"),
       "random; nndsvd, nndsvda or nndsvdar (NNDSVD from a truncated SVD of A; its zeros kept, "
       "filled with mean(A), or with small random values); or an HDF5 file holding /W (m x K) "
       "and /H (K x n), e.g. an earlier output")
      ("holdout", po::value<double>()->default_value(holdout_default),
       "hold out about this fraction of the entries (0 <= F < 1, chosen from --seed; see README) "
       "and record the error on them as the test error")
      ("holdout-seed", po::value<std::int64_t>(),
       "draw the held-out set with this seed (default: --seed's; dnmf sweep: --seed plus the "
       "first replicate of each batch)")
      ("stop-on", po::value<std::string>()->default_value("train"),
       "train|test: the error --tol watches (test: stop when the error on the held-out entries "
       "stops improving; needs --holdout)");
  // clang-format on
  add_missing_options(options);
}

FitOptions fit_options(const po::variables_map& v, const Invocation& invocation) {
  FitOptions parsed;
  parsed.init = nmf::parse_init(v["init"].as<std::string>());
  nmf::FactorRun& run = parsed.run;
  run.command_line = invocation.command_line;
  run.seed = non_negative(v, "seed");
  if (!v["seed"].defaulted()) parsed.seed_given = run.seed;
  nmf::SolverOptions& solver = run.solver;
  solver.algorithm = nmf::parse_algorithm(v["algorithm"].as<std::string>());
  solver.loss = nmf::parse_loss(v["loss"].as<std::string>());
  run.precision = nmf::parse_precision(v["precision"].as<std::string>());
  solver.w_penalty = {v["l1-w"].as<double>(), v["l2-w"].as<double>()};
  solver.h_penalty = {v["l1-h"].as<double>(), v["l2-h"].as<double>()};
  solver.stop.max_iterations = v["max-iter"].as<int>();
  solver.stop.tolerance = v["tol"].as<double>();
  solver.stop.time_limit = v["time-limit"].as<double>();
  parse_left_out_entries(v, run);
  return parsed;
}

}  // namespace dnmf::cli
