#include "dnmf/core/threads.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#ifdef DNMF_OPENBLAS
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace dnmf {

int configure_kernel_threads() {
  int threads = 1;
  if (const char* text = std::getenv("OMP_NUM_THREADS")) {
    try {
      threads = std::max(1, std::stoi(text));
    } catch (const std::exception&) {
      threads = 1;
    }
  }
#ifdef DNMF_OPENBLAS
  openblas_set_num_threads(threads);
#endif
  return threads;
}

}  // namespace dnmf
