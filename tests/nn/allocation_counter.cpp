// Replaces malloc and its relatives (glibc allows it; the originals are reached through their
// __libc_ names), counting calls while counting is on. Link it only into programs of its own, so
// no other test sees the replacement.
//
// Who allocated is told by the return address of the replaced function: an address inside one of
// the BLAS library's executable segments is the library's own allocation. The segments are found
// once, from the shared object that defines sgemm_, before counting starts.

#include "allocation_counter.hpp"

#include <dlfcn.h>
#include <link.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace {

struct CodeRange {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
};

bool counting = false;
std::size_t allocations = 0;
std::size_t blas_allocations = 0;
bool blas_searched = false;
std::array<CodeRange, 8> blas_code{};
std::size_t blas_code_ranges = 0;

int record_blas_segments(dl_phdr_info* object, std::size_t, void* blas_file_name) {
  const char* wanted = static_cast<const char*>(blas_file_name);
  if (object->dlpi_name == nullptr || std::strcmp(object->dlpi_name, wanted) != 0) return 0;
  for (int i = 0; i < object->dlpi_phnum && blas_code_ranges < blas_code.size(); ++i) {
    const auto& segment = object->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_X) == 0) continue;
    const std::uintptr_t begin = object->dlpi_addr + segment.p_vaddr;
    blas_code[blas_code_ranges++] = {begin, begin + segment.p_memsz};
  }
  return 1;
}

void find_blas_code() {
  if (blas_searched) return;
  blas_searched = true;
  void* gemm = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info where{};
  if (gemm == nullptr || dladdr(gemm, &where) == 0 || where.dli_fname == nullptr) return;
  // The main program reports an empty name in dl_iterate_phdr: a statically linked BLAS is not
  // told apart (it cannot be without debug information), so its allocations count as dnmf's.
  if (where.dli_fname[0] == '\0') return;
  dl_iterate_phdr(record_blas_segments, const_cast<char*>(where.dli_fname));
}

bool in_blas_code(const void* address) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  for (std::size_t i = 0; i < blas_code_ranges; ++i) {
    if (a >= blas_code[i].begin && a < blas_code[i].end) return true;
  }
  return false;
}

void count(const void* caller) {
  if (!counting) return;
  if (in_blas_code(caller)) {
    ++blas_allocations;
  } else {
    ++allocations;
  }
}

}  // namespace

namespace dnmf::test {
void set_allocation_counting(bool on) {
  if (on) find_blas_code();
  counting = on;
}
std::size_t allocations_counted() { return allocations; }
std::size_t blas_allocations_counted() { return blas_allocations; }
bool blas_library_found() {
  find_blas_code();
  return blas_code_ranges > 0;
}
void reset_allocation_count() {
  allocations = 0;
  blas_allocations = 0;
}
}  // namespace dnmf::test

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
}

// __builtin_return_address(0) is the caller of each replacement: these must stay functions of
// their own (never inlined into one another), which they are as exported symbols.
extern "C" {
void* malloc(std::size_t size) noexcept {
  count(__builtin_return_address(0));
  return __libc_malloc(size);
}
void* calloc(std::size_t count_, std::size_t size) noexcept {
  count(__builtin_return_address(0));
  return __libc_calloc(count_, size);
}
void* realloc(void* pointer, std::size_t size) noexcept {
  count(__builtin_return_address(0));
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
  count(__builtin_return_address(0));
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** pointer, std::size_t alignment, std::size_t size) noexcept {
  count(__builtin_return_address(0));
  *pointer = __libc_memalign(alignment, size);
  return *pointer == nullptr ? 12 /* ENOMEM */ : 0;
}
}
