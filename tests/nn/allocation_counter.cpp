// Replaces malloc and its relatives (glibc allows it; the originals are reached through their
// __libc_ names), counting calls while counting is on. Link it only into programs of its own, so
// no other test sees the replacement.

#include "allocation_counter.hpp"

namespace {
bool counting = false;
std::size_t allocations = 0;

void count() {
  if (counting) ++allocations;
}
}  // namespace

namespace dnmf::test {
void set_allocation_counting(bool on) { counting = on; }
std::size_t allocations_counted() { return allocations; }
void reset_allocation_count() { allocations = 0; }
}  // namespace dnmf::test

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
}

extern "C" {
void* malloc(std::size_t size) noexcept {
  count();
  return __libc_malloc(size);
}
void* calloc(std::size_t count_, std::size_t size) noexcept {
  count();
  return __libc_calloc(count_, size);
}
void* realloc(void* pointer, std::size_t size) noexcept {
  count();
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  count();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** pointer, std::size_t alignment, std::size_t size) noexcept {
  count();
  *pointer = __libc_memalign(alignment, size);
  return *pointer == nullptr ? 12 /* ENOMEM */ : 0;
}
}
