#!/usr/bin/python3
"""Plots the relative error ||A - WH|| / ||A|| against iteration and time from the /history of
one or more `dnmf factorize` outputs."""

import argparse

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", help="factorize outputs (HDF5)")
    parser.add_argument("--output", required=True, help="PNG file to write")
    options = parser.parse_args()
    fig, (by_iteration, by_time) = plt.subplots(1, 2, figsize=(10, 4))
    for path in options.files:
        with h5py.File(path, "r") as f:
            history = f["history"]
            label = f"{path} ({f.attrs['algorithm']}, k={f.attrs['rank']})"
            by_iteration.plot(history["iteration"][()], history["relative_error"][()], label=label)
            by_time.plot(history["seconds"][()], history["relative_error"][()], label=label)
    by_iteration.set_xlabel("iteration")
    by_time.set_xlabel("seconds")
    for axis in (by_iteration, by_time):
        axis.set_ylabel("relative error")
        axis.grid(alpha=0.3)
    by_iteration.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(options.output, dpi=100)
    print(f"wrote {options.output}")


if __name__ == "__main__":
    main()
