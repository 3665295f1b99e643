#pragma once
// Threads per rank for the numerical kernels (OpenBLAS's pool; dnmf's own loops use the same
// count). mpi/thread_layout.hpp chooses the count from the process layout; this holds it, sets
// it in the BLAS and says which BLAS threading is loaded. Nothing else may start kernel threads,
// so a rank never runs more than its count.

#include <string>

namespace dnmf {

/// OMP_NUM_THREADS as a count >= 1 (its leading number: OpenMP's "2,1" lists the outer count
/// first), or 0 when it is unset or does not start with a positive integer.
int threads_from_environment();

/// Sets the kernel thread count to `threads` (>= 1), OpenBLAS's pool included.
void set_kernel_threads(int threads);

/// The count set last; 1 before any.
int kernel_threads();

/// The BLAS's own thread count now (OpenBLAS's openblas_get_num_threads; 1 without OpenBLAS).
int blas_threads();

/// The BLAS and how it runs threads, read from the library loaded: "OpenBLAS 0.3.21 (pthreads)",
/// "OpenBLAS ... (OpenMP)" or "(sequential)", or "Eigen's own kernels" without OpenBLAS.
std::string blas_description();

}  // namespace dnmf
