#pragma once
// Threads per rank for the numerical kernels. mpi/thread_layout.hpp chooses the count from the
// process layout; this holds it. dnmf's own pool (core/parallel_for.hpp) runs that many threads
// and the BLAS runs one in each of them: two pools on the same cores compete (OpenBLAS's
// workers spin after a call, taking the core from ours), so there is one pool, ours, and the big
// products are split over it by their callers (the solver's row parts, the layers' samples).
// Nothing else may start kernel threads, so a rank never runs more than its count.

#include <string>

namespace dnmf {

/// OMP_NUM_THREADS as a count >= 1 (its leading number: OpenMP's "2,1" lists the outer count
/// first), or 0 when it is unset or does not start with a positive integer.
int threads_from_environment();

/// Sets the kernel thread count to `threads` (>= 1) and keeps the BLAS at one thread.
void set_kernel_threads(int threads);

/// The count set last; 1 before any.
int kernel_threads();

/// Makes BLAS calls from the calling thread run in it alone. A thread of our pool calls it once:
/// an OpenMP-built OpenBLAS takes its thread count from the calling thread's OpenMP setting,
/// which a thread OpenMP did not start has at its default (every core).
void make_blas_sequential_in_this_thread();

/// The BLAS's own thread count now (OpenBLAS's openblas_get_num_threads; 1 without OpenBLAS).
int blas_threads();

/// The BLAS and how it runs threads, read from the library loaded: "OpenBLAS 0.3.21 (pthreads)",
/// "OpenBLAS ... (OpenMP)" or "(sequential)", or "Eigen's own kernels" without OpenBLAS.
std::string blas_description();

}  // namespace dnmf
