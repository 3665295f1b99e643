#include "dnmf/core/threads.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#ifdef DNMF_OPENBLAS
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads();
int openblas_get_parallel();  // 0 sequential, 1 pthreads, 2 OpenMP
char* openblas_get_config();
}
#endif

namespace dnmf {
namespace {

int current_kernel_threads = 1;

void set_blas_threads(int threads) {
#ifdef DNMF_OPENBLAS
  // OpenBLAS built for OpenMP passes this on to omp_set_num_threads (the calling thread's
  // setting); the pthreads build sizes its own pool.
  openblas_set_num_threads(threads);
#else
  (void)threads;
#endif
}

}  // namespace

int threads_from_environment() {
  const char* text = std::getenv("OMP_NUM_THREADS");
  if (text == nullptr) return 0;
  try {
    return std::max(0, std::stoi(text));
  } catch (const std::exception&) {
    return 0;
  }
}

void set_kernel_threads(int threads) {
  current_kernel_threads = std::max(1, threads);
  set_blas_threads(1);
}

void make_blas_sequential_in_this_thread() { set_blas_threads(1); }

int kernel_threads() { return current_kernel_threads; }

int blas_threads() {
#ifdef DNMF_OPENBLAS
  return openblas_get_num_threads();
#else
  return 1;
#endif
}

std::string blas_description() {
#ifdef DNMF_OPENBLAS
  std::string config = openblas_get_config();  // "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ..."
  const std::string::size_type version_end = config.find(' ', config.find(' ') + 1);
  const char* threading[] = {"sequential", "pthreads", "OpenMP"};
  const int parallel = openblas_get_parallel();
  return config.substr(0, version_end) + " (" +
         (parallel >= 0 && parallel <= 2 ? threading[parallel] : "unknown threading") + ")";
#else
  return "Eigen's own kernels";
#endif
}

}  // namespace dnmf
