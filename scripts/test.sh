#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest): unit tests, MPI tests
# at 1, 2, 3 and 4 ranks, and the program driven end to end.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
# Open MPI refuses to start as root unless told; CI runs as root.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
cd build
ctest --output-on-failure -j "$(nproc)" "$@"
