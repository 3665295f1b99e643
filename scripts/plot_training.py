#!/usr/bin/python3
"""Draws the training curves of a `dnmf train` model file: the mean training loss and the train
and validation accuracy per epoch, from its /history datasets."""

import argparse

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="model file written by dnmf train")
    parser.add_argument("--output", required=True, help="PNG file to write")
    options = parser.parse_args()
    with h5py.File(options.model, "r") as f:
        history = {name: f["history"][name][()] for name in f["history"]}
        architecture = f.attrs["architecture"]
    epochs = history["epoch"]
    if len(epochs) == 0:
        raise SystemExit(f"{options.model}: no completed epoch in /history")
    fig, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(9, 3.5))
    loss_axis.plot(epochs, history["loss"], marker="o")
    loss_axis.set(xlabel="epoch", ylabel="mean training loss", yscale="log", title="loss")
    accuracy_axis.plot(epochs, 100 * history["train_accuracy"], marker="o", label="train")
    accuracy_axis.plot(epochs, 100 * history["validation_accuracy"], marker="o", label="validation (/test)")
    accuracy_axis.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    accuracy_axis.legend()
    fig.suptitle(f"{options.model} ({architecture})", fontsize=9)
    fig.tight_layout()
    fig.savefig(options.output, dpi=100)
    print(f"wrote {options.output}")


if __name__ == "__main__":
    main()
