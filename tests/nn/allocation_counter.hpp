#pragma once
// Counts calls to malloc, calloc, realloc, aligned_alloc and posix_memalign while counting is on
// (allocation_counter.cpp replaces them): how the tests show that a step loop allocates nothing.
//
// An allocation made by the BLAS library's own code is counted apart. Some OpenBLAS kernels
// allocate inside the call (0.3.21's SkylakeX small-matrix SGEMM takes 16 KB and 7 KB a call)
// and which kernel runs depends on the CPU; that is the library's business, not a buffer dnmf
// forgot to reserve. Every other allocation counts as dnmf's: its own code, Eigen's, the C++
// library's operator new, MPI's.

#include <cstddef>

namespace dnmf::test {

/// Turns counting on or off. Turning it on first finds where the BLAS library's code is mapped
/// (which may itself allocate, so it happens before counting starts).
void set_allocation_counting(bool on);
/// Allocations counted whose caller is not the BLAS library's code.
std::size_t allocations_counted();
/// Allocations counted whose caller is the BLAS library's code.
std::size_t blas_allocations_counted();
/// Whether the BLAS library was found as a shared object of its own (false when no BLAS is
/// linked or it is linked statically: then every allocation counts as dnmf's).
bool blas_library_found();
void reset_allocation_count();

}  // namespace dnmf::test
