#!/usr/bin/python3
"""Draws a `dnmf sweep` output: the held-out (test) error's mean ± one standard deviation over the
replicates and the training error against k, with the chosen k marked; and the stability (the
silhouette of the consensus clustering) against k."""

import argparse

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sweep", help="a dnmf sweep output (HDF5)")
    parser.add_argument("--output", default="sweep.png", help="PNG file to write (sweep.png)")
    options = parser.parse_args()
    with h5py.File(options.sweep, "r") as f:
        summary = {name: f["summary"][name][()] for name in f["summary"]}
        chosen = int(f.attrs["chosen_k"]) if "chosen_k" in f.attrs else None
        title = (f"{f.attrs['input_file']}: {f.attrs['algorithm']}, {f.attrs['replicates']} "
                 f"replicates, holdout {f.attrs['holdout']:g}")
    k = summary["k"]
    fig, (errors, stability) = plt.subplots(1, 2, figsize=(10, 4))
    if (summary["test_error_mean"] > 0).any():
        errors.errorbar(k, summary["test_error_mean"], yerr=summary["test_error_sd"], marker="o",
                        capsize=3, label="test error (held-out entries), mean ± sd")
    errors.plot(k, summary["train_error_mean"], marker=".", label="training error, mean")
    stability.plot(k, summary["stability"], marker="o", color="C2")
    for axis in (errors, stability):
        if chosen is not None:
            axis.axvline(chosen, color="gray", linestyle="--", label=f"chosen k = {chosen}")
        axis.set_xlabel("k")
        axis.grid(alpha=0.3)
    errors.set_ylabel("relative error")
    errors.legend(fontsize=8)
    stability.set_ylabel("stability (silhouette of the consensus)")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(options.output, dpi=100)
    print(f"wrote {options.output}")


if __name__ == "__main__":
    main()
