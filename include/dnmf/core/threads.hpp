#pragma once
// Threads per rank for the numerical kernels. dnmf runs one rank per core by default (two ranks
// of one thread beat one rank of two threads in every measurement on the development machine),
// so OpenBLAS's own thread pool is limited to OMP_NUM_THREADS, or 1 when that is unset: without
// this, every rank would start one BLAS thread per core and oversubscribe the node.

namespace dnmf {

/// Sets the kernel thread count (OMP_NUM_THREADS, default 1); returns it.
int configure_kernel_threads();

}  // namespace dnmf
