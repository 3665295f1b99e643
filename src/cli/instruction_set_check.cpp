// Stops the program with one line, before anything else runs, when this CPU lacks an instruction
// set the binary was compiled for. A binary built with -march=native on a cluster's login node
// would otherwise die with SIGILL, or compute garbage, on compute nodes of an older generation.
//
// The list comes from the compiler's own macros for the -march this file was compiled with (the
// same as every other file of the program). The check itself is compiled for the x86-64 baseline
// (the target attribute), so it runs on any x86-64 CPU, and it runs as a constructor of the
// highest priority, before the static initializers of the files built for the target.

#if defined(__x86_64__) && defined(__GNUC__)

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>

namespace {

// Returns the feature's name from the enclosing function when the CPU lacks it. One line per
// feature: __builtin_cpu_supports takes a string literal, not a variable.
#define DNMF_REQUIRE(feature) \
  if (!__builtin_cpu_supports(feature)) return feature;

/// The first instruction set of x86-64-v2 and v3 (SSE3 to MOVBE, and AMD's SSE4A) the binary
/// needs and this CPU lacks, or nullptr. __builtin_cpu_init has run.
__attribute__((target("arch=x86-64"))) const char* first_missing_up_to_v3() {
#ifdef __SSE3__
  DNMF_REQUIRE("sse3")
#endif
#ifdef __SSSE3__
  DNMF_REQUIRE("ssse3")
#endif
#ifdef __SSE4_1__
  DNMF_REQUIRE("sse4.1")
#endif
#ifdef __SSE4_2__
  DNMF_REQUIRE("sse4.2")
#endif
#ifdef __SSE4A__
  DNMF_REQUIRE("sse4a")
#endif
#ifdef __POPCNT__
  DNMF_REQUIRE("popcnt")
#endif
#ifdef __AVX__
  DNMF_REQUIRE("avx")
#endif
#ifdef __AVX2__
  DNMF_REQUIRE("avx2")
#endif
#ifdef __FMA__
  DNMF_REQUIRE("fma")
#endif
#ifdef __F16C__
  DNMF_REQUIRE("f16c")
#endif
#ifdef __BMI__
  DNMF_REQUIRE("bmi")
#endif
#ifdef __BMI2__
  DNMF_REQUIRE("bmi2")
#endif
#ifdef __LZCNT__
  DNMF_REQUIRE("lzcnt")
#endif
#ifdef __MOVBE__
  DNMF_REQUIRE("movbe")
#endif
  return nullptr;
}

/// The first instruction set of x86-64-v4 and later (AVX-512, GFNI, VAES) the binary needs and
/// this CPU lacks, or nullptr. __builtin_cpu_init has run.
__attribute__((target("arch=x86-64"))) const char* first_missing_from_v4() {
#ifdef __AVX512F__
  DNMF_REQUIRE("avx512f")
#endif
#ifdef __AVX512CD__
  DNMF_REQUIRE("avx512cd")
#endif
#ifdef __AVX512VL__
  DNMF_REQUIRE("avx512vl")
#endif
#ifdef __AVX512BW__
  DNMF_REQUIRE("avx512bw")
#endif
#ifdef __AVX512DQ__
  DNMF_REQUIRE("avx512dq")
#endif
#ifdef __AVX512IFMA__
  DNMF_REQUIRE("avx512ifma")
#endif
#ifdef __AVX512VBMI__
  DNMF_REQUIRE("avx512vbmi")
#endif
#ifdef __AVX512VBMI2__
  DNMF_REQUIRE("avx512vbmi2")
#endif
#ifdef __AVX512VNNI__
  DNMF_REQUIRE("avx512vnni")
#endif
#ifdef __AVX512BITALG__
  DNMF_REQUIRE("avx512bitalg")
#endif
#ifdef __AVX512VPOPCNTDQ__
  DNMF_REQUIRE("avx512vpopcntdq")
#endif
#ifdef __AVX512BF16__
  DNMF_REQUIRE("avx512bf16")
#endif
#ifdef __AVX512FP16__
  DNMF_REQUIRE("avx512fp16")
#endif
#ifdef __GFNI__
  DNMF_REQUIRE("gfni")
#endif
#ifdef __VAES__
  DNMF_REQUIRE("vaes")
#endif
#ifdef __VPCLMULQDQ__
  DNMF_REQUIRE("vpclmulqdq")
#endif
  return nullptr;
}

#undef DNMF_REQUIRE

/// The first instruction set the binary needs and this CPU lacks, or nullptr.
__attribute__((target("arch=x86-64"))) const char* first_missing_instruction_set() {
  __builtin_cpu_init();  // needed before libgcc's own constructor has run
  const char* missing = first_missing_up_to_v3();
  return missing != nullptr ? missing : first_missing_from_v4();
}

/// One line per node: the launchers' local rank 0 speaks (or a process started alone).
__attribute__((target("arch=x86-64"))) bool speaks_for_its_node() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    if (const char* value = std::getenv(name)) return value[0] == '0' && value[1] == '\0';
  }
  return true;
}

__attribute__((target("arch=x86-64"), constructor(101))) void require_instruction_sets() {
  const char* missing = first_missing_instruction_set();
  if (missing == nullptr) return;
  if (speaks_for_its_node()) {
    char host[256] = "this node";
    gethostname(host, sizeof host - 1);
    std::fprintf(stderr,
                 "dnmf: error: this binary was compiled for %s and the CPU of %s lacks %s; "
                 "rebuild it for the oldest CPU that runs it: scripts/build.sh -DDNMF_NATIVE=OFF "
                 "(portable), or build on that node\n",
                 DNMF_TARGET_ARCH, host, missing);
  }
  _exit(1);  // before MPI starts: the launcher sees the process end and stops the job
}

}  // namespace

#endif
