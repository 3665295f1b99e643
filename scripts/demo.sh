#!/usr/bin/env bash
# Installs what is missing, builds, and factorizes the shipped MNIST digits into 16 parts on two
# MPI ranks; then draws the parts and the convergence curve, trains an nmf-cnn classifier from
# those parts for 3 epochs and draws the fine-tuned parts and the training curves. Results land in
# out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
ranks=$(( $(nproc) < 2 ? $(nproc) : 2 ))
mkdir -p out/demo
mpirun -np "$ranks" --oversubscribe build/src/dnmf factorize \
  --input examples/data/digits.h5 --dataset /train/images \
  --rank 16 --algorithm hals --max-iter 200 --tol 1e-4 --seed 1 \
  --output out/demo/parts.h5 --report out/demo/report.json --force
/usr/bin/python3 scripts/plot_basis.py out/demo/parts.h5 --output out/demo/parts.png
/usr/bin/python3 scripts/plot_convergence.py out/demo/parts.h5 --output out/demo/convergence.png
# The parts as the NMF branch of a classifier, fine-tuned by backprop with the convolutions.
mpirun -np "$ranks" --oversubscribe build/src/dnmf train --data examples/data/digits.h5 \
  --model nmf-cnn --nmf-basis out/demo/parts.h5 --epochs 3 --seed 1 \
  --output out/demo/model.h5 --force
build/src/dnmf evaluate --model out/demo/model.h5 --data examples/data/digits.h5 | head -1
/usr/bin/python3 scripts/plot_basis.py out/demo/model.h5 --output out/demo/parts_finetuned.png
/usr/bin/python3 scripts/plot_training.py out/demo/model.h5 --output out/demo/training.png
echo
echo "results:  out/demo/parts.h5 (W, H, history), out/demo/report.json, out/demo/model.h5"
echo "pictures: out/demo/parts.png (the 16 parts), out/demo/convergence.png,"
echo "          out/demo/parts_finetuned.png (the parts after training), out/demo/training.png"
