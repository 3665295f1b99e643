#!/usr/bin/python3
"""The README's worked example of missing values: removes a fraction of the pixels of the shipped
digits (NaN, at random), factorizes the rest with `dnmf factorize --missing nan`, prints the
relative error of W·H on the removed pixels (which dnmf never saw) and on the kept ones, and
draws a few digits: as they are, with their holes (red), and as W·H fills them in."""

import argparse
import os
import subprocess

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dnmf", default="build/src/dnmf", help="the dnmf program")
    parser.add_argument("--data", default="examples/data/digits.h5")
    parser.add_argument("--removed", type=float, default=0.2, help="fraction of pixels removed")
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--ranks", type=int, default=2, help="MPI ranks (1: no mpirun)")
    parser.add_argument("--out", default="out/missing", help="folder for the files and picture")
    options = parser.parse_args()
    os.makedirs(options.out, exist_ok=True)
    with h5py.File(options.data, "r") as f:
        A = f["train/images"][()].astype(np.float64)
    removed = np.random.default_rng(0).uniform(size=A.shape) < options.removed
    holes = os.path.join(options.out, "digits_with_holes.h5")
    with h5py.File(holes, "w") as f:
        f["images"] = np.where(removed, np.nan, A)
    result = os.path.join(options.out, "filled.h5")
    command = [options.dnmf, "factorize", "--input", holes, "--missing", "nan",
               "--rank", str(options.rank), "--algorithm", "hals", "--max-iter", "300",
               "--tol", "1e-5", "--seed", "1", "--output", result, "--force", "--quiet"]
    if options.ranks > 1:
        command = ["mpirun", "-np", str(options.ranks), "--oversubscribe"] + command
    subprocess.run(command, check=True)
    with h5py.File(result, "r") as f:
        WH = f["W"][()] @ f["H"][()]
        fitted_error = float(f.attrs["relative_error"])
    removed_error = np.linalg.norm((A - WH)[removed]) / np.linalg.norm(A[removed])
    print(f"{removed.sum()} of {A.size} pixels removed; k = {options.rank}")
    print(f"relative error on the removed pixels: {removed_error:.4f}")
    print(f"relative error on the kept pixels:    {fitted_error:.4f} (dnmf's relative_error)")

    shown = 8
    fig, axes = plt.subplots(3, shown, figsize=(1.4 * shown, 4.6))
    for column in range(shown):
        image = A[column].reshape(28, 28)
        with_holes = plt.cm.gray_r(image / image.max())
        with_holes[removed[column].reshape(28, 28)] = (0.9, 0.1, 0.1, 1.0)
        for row, picture in enumerate((image, with_holes, WH[column].reshape(28, 28))):
            axes[row, column].imshow(picture, cmap="gray_r")
            axes[row, column].axis("off")
    for row, title in enumerate(("digit", f"{options.removed:.0%} of pixels removed (red)",
                                 f"W·H, k = {options.rank}")):
        axes[row, 0].set_title(title, fontsize=9, loc="left")
    fig.suptitle(f"error on the removed pixels {removed_error:.3f}, on the kept ones "
                 f"{fitted_error:.3f}", fontsize=9)
    fig.tight_layout()
    picture = os.path.join(options.out, "filled.png")
    fig.savefig(picture, dpi=100)
    print(f"wrote {picture}")


if __name__ == "__main__":
    main()
