#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest): unit tests, MPI tests
# at 1, 2, 3 and 4 ranks, and the program driven end to end. Warnings in dnmf's own sources are
# errors here. Then the numerical tests (labels serial, mpi, nn) once more, built with the other
# instruction-set setting (DNMF_NATIVE), so both code paths stay green.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh -DDNMF_WERROR=ON
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
# would take every core (core/threads.hpp) and the tests would oversubscribe the machine.
export OMP_NUM_THREADS=1
ctest --test-dir build "${ctest_options[@]}" "$@"

echo "the numerical tests again, built with DNMF_NATIVE=$other (build-native-$other/)"
cmake --preset release -B "build-native-$other" -DDNMF_NATIVE="$other" -DDNMF_WERROR=ON >/dev/null
cmake --build "build-native-$other" -j "$(nproc)" --target numerical_tests
ctest --test-dir "build-native-$other" --output-on-failure -j "$(nproc)" -L 'serial|mpi|nn' "$@"
