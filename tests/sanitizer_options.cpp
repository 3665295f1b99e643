// The sanitizers' settings for every test program of a DNMF_SANITIZE=ON build, compiled in so
// that a test run needs no environment variables: the runtimes call these at start-up.

extern "C" {

// Open MPI and the libraries below it are built without frame pointers, so the fast unwinder
// stops at their first frame and a leak inside MPI_Init could not be told from one of dnmf's
// (Open MPI also unloads its components at finalize, leaving their frames unnamed). A request
// beyond what ASan can allocate must fail as it would without it (bad_alloc, which dnmf turns
// into an error the tests expect), not abort the program.
const char* __asan_default_options() {
  return "fast_unwind_on_malloc=0:print_suppressions=0:allocator_may_return_null=1";
}

// What Open MPI leaves allocated on purpose, matched anywhere in the allocation's stack. Nothing
// of dnmf's is suppressed.
const char* __lsan_default_suppressions() {
  return
      // MPI_Init and MPI_Finalize: the component tables, topology and strings Open MPI keeps
      // (ompi_op_base_op_select, orte_init, hwloc) and frees only at process exit.
      "leak:ompi_mpi_init\n"
      "leak:ompi_mpi_finalize\n"
      // PMIx's progress thread (a libevent loop) allocates its messages there, out of sight of
      // MPI_Init's stack.
      "leak:event_base_loop\n";
}

// Every report with its stack (-fno-sanitize-recover=all already makes each one fatal).
const char* __ubsan_default_options() { return "print_stacktrace=1"; }
}
