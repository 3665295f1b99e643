// mpi/environment, with a main of its own (the Environment is what initialises MPI here): MPI is
// initialised with at least funneled threads, errors on the world communicator return codes
// (which Communicator::check turns into MpiError) instead of aborting, the kernel threads are
// configured (one, OMP_NUM_THREADS being unset), and MPI is finalized when the Environment
// goes. Run with --exception-in-flight, the last rank throws while the others wait for it in a
// barrier: the Environment's destructor must end the whole job (MPI_Abort, exit code 1) rather
// than finalize, which would leave the waiting ranks there forever.

#include <gtest/gtest.h>
#include <mpi.h>
#include <stdlib.h>

#include <cstdio>
#include <stdexcept>
#include <string>

#include "dnmf/mpi/environment.hpp"

#ifdef DNMF_OPENBLAS
extern "C" int openblas_get_num_threads();
#endif

namespace {

TEST(Environment, MpiIsInitialisedWithFunneledThreads) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  EXPECT_TRUE(initialized);
  int provided = MPI_THREAD_SINGLE;
  ASSERT_EQ(MPI_Query_thread(&provided), MPI_SUCCESS);
  EXPECT_GE(provided, MPI_THREAD_FUNNELED);
}

TEST(Environment, ErrorsOnTheWorldReturnCodes) {
  MPI_Errhandler handler = MPI_ERRHANDLER_NULL;
  ASSERT_EQ(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &handler), MPI_SUCCESS);
  EXPECT_EQ(handler, MPI_ERRORS_RETURN);
  MPI_Errhandler_free(&handler);
}

TEST(Environment, KernelThreadsAreConfigured) {
#ifdef DNMF_OPENBLAS
  EXPECT_EQ(openblas_get_num_threads(), 1) << "OMP_NUM_THREADS unset means one thread a rank";
#else
  GTEST_SKIP() << "built without OpenBLAS: no kernel thread pool to configure";
#endif
}

class FailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_,
                 result.file_name() ? result.file_name() : "?", result.line_number(),
                 result.summary());
  }

 private:
  int rank_;
};

/// Exit code 1 from MPI_Abort is the expected end; 3 means the destructor let the exception
/// through (and only a one-rank job gets there: with more, the others wait forever).
int exception_in_flight(int argc, char** argv) {
  try {
    const dnmf::mpi::Environment environment(argc, argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == size - 1) throw std::runtime_error("a failure on the last rank only");
    MPI_Barrier(MPI_COMM_WORLD);
  } catch (const std::exception&) {
    return 3;
  }
  return 4;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--exception-in-flight") {
    return exception_in_flight(argc, argv);
  }
  unsetenv("OMP_NUM_THREADS");
  int failed = 0;
  {
    const dnmf::mpi::Environment environment(argc, argv);
    testing::InitGoogleTest(&argc, argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0) {
      testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new FailurePrinter(rank));
    }
    failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) {
    std::fprintf(stderr, "MPI is not finalized after the Environment has gone\n");
    return 1;
  }
  return failed;
}
