#!/usr/bin/python3
"""Draws the rows of an NMF basis H (k x d, d a square image size such as 784 = 28 x 28) as a grid
of images. Reads /H of a `dnmf factorize` output, or /nmf/H of a model file."""

import argparse
import math

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", help="factorize output or model file (HDF5)")
    parser.add_argument("--dataset", help="path of the basis (default /H, else /nmf/H)")
    parser.add_argument("--output", required=True, help="PNG file to write")
    options = parser.parse_args()
    with h5py.File(options.file, "r") as f:
        name = options.dataset or ("/H" if "/H" in f else "/nmf/H")
        H = f[name][()]
    k, d = H.shape
    side = math.isqrt(d)
    if side * side != d:
        raise SystemExit(f"{options.file}:{name}: rows of length {d} are not square images")
    cols = math.ceil(math.sqrt(k))
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.6 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < k:
            axis.imshow(H[index].reshape(side, side), cmap="gray_r")
            axis.set_title(str(index), fontsize=8)
    fig.suptitle(f"{options.file}:{name} ({k} parts)", fontsize=9)
    fig.tight_layout()
    fig.savefig(options.output, dpi=100)
    print(f"wrote {options.output}")


if __name__ == "__main__":
    main()
