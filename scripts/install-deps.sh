#!/usr/bin/env bash
# Installs the Debian 12 packages dnmf needs to build, test and run its scripts (Slurm and
# munge for the tests that run the batch scripts on a real one-node cluster; OpenBLAS's OpenMP
# build beside the default pthreads one, which it does not replace, for the test that runs dnmf
# on both).
# Silent when everything is already installed.
set -euo pipefail

packages=(
  g++ make cmake ccache clang-format clang-tidy
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
  libeigen3-dev libopenblas-dev libopenblas0-openmp libboost-program-options-dev libgtest-dev
  python3 python3-h5py python3-numpy python3-matplotlib python3-sklearn python3-anndata
  slurm-wlm munge
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
