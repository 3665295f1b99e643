#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest): unit tests, MPI tests
# at 1, 2, 3 and 4 ranks, and the program driven end to end. Warnings in dnmf's own sources are
# errors here. Then the numerical tests (labels serial, mpi, nn: the unit and MPI tests) once
# more, built with the other instruction-set setting (DNMF_NATIVE), so both code paths stay
# green, and with AddressSanitizer and UndefinedBehaviorSanitizer (DNMF_SANITIZE), at 1 and 3
# ranks. Each phase prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."

phase_start=$SECONDS
phase_done() {
  echo "test.sh: $1 took $((SECONDS - phase_start)) s"
  phase_start=$SECONDS
}

scripts/build.sh -DDNMF_WERROR=ON
phase_done "the build (build/)"
native=$(sed -n 's/^DNMF_NATIVE:BOOL=//p' build/CMakeCache.txt)
case "$native" in ON|on|TRUE|true|1) other=OFF ;; *) other=ON ;; esac

ctest_options=(--output-on-failure -j "$(nproc)")
if [ "$(id -u)" -eq 0 ]; then
  # Open MPI refuses to start as root unless told; CI runs as root.
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
else
  echo "not root: skipping the tests that start a Slurm cluster or mount a file system (labels slurm, root)"
  ctest_options+=(-LE 'slurm|root')
fi
# ctest runs tests side by side, one per core: each gets one kernel thread, as the tests of
# threads ask for theirs (--threads, or their own OMP_NUM_THREADS). Unset, every process alone
# would take every core (core/threads.hpp) and the tests would oversubscribe the machine. Only
# for ctest: GNU nproc honours OMP_NUM_THREADS, and the builds below count cores with it.
OMP_NUM_THREADS=1 ctest --test-dir build "${ctest_options[@]}" "$@"
phase_done "the whole suite (build/)"

sanitized=build-sanitize-native-$other
echo "the numerical tests again, with DNMF_NATIVE=$other and the sanitizers ($sanitized/)"
cmake --preset release -B "$sanitized" -DDNMF_NATIVE="$other" -DDNMF_SANITIZE=ON \
      -DDNMF_WERROR=ON >/dev/null
cmake --build "$sanitized" -j "$(nproc)" --target numerical_tests
phase_done "the sanitized build ($sanitized/)"
# 1 and 3 ranks: one rank and an uneven split; 2 and 4 ranks add little but time.
OMP_NUM_THREADS=1 ctest --test-dir "$sanitized" --output-on-failure -j "$(nproc)" -L 'serial|mpi|nn' \
      -E '\.np[24]$' "$@"
phase_done "the sanitized numerical tests ($sanitized/)"
echo "test.sh: everything took $SECONDS s"
