#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest): unit tests, MPI tests
# at 1, 2, 3 and 4 ranks, and the program driven end to end.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
cd build
if [ "$(id -u)" -eq 0 ]; then
  # Open MPI refuses to start as root unless told; CI runs as root.
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  ctest --output-on-failure -j "$(nproc)" "$@"
else
  echo "not root: skipping the tests that start a Slurm cluster (label slurm)"
  ctest --output-on-failure -j "$(nproc)" -LE slurm "$@"
fi
