#!/usr/bin/env bash
# Configures and builds dnmf (Release) in build/, after installing what is missing.
# Extra arguments go to cmake's configure step, e.g. -DDNMF_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# The release preset (CMakePresets.json): Release, and Debian's interpreter, which has
# python3-h5py and python3-numpy (not a pyenv or venv one).
cmake --preset release "$@" >/dev/null
cmake --build build -j "$(nproc)"
