#pragma once
// Counts calls to malloc, calloc, realloc, aligned_alloc and posix_memalign while counting is on
// (allocation_counter.cpp replaces them): how the tests show that a step loop allocates nothing.

#include <cstddef>

namespace dnmf::test {

void set_allocation_counting(bool on);
std::size_t allocations_counted();
void reset_allocation_count();

}  // namespace dnmf::test
