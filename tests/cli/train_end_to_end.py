#!/usr/bin/python3
"""dnmf train, evaluate, predict and convert driven as a user would, checked against numpy:
on the shipped digits the training loss halves within the first epoch; the same run at 1 and 3
ranks gives the same parameters (float32, to a step's rounding times the measured amplification,
common.py); a resumed run is bitwise the uninterrupted one;
the model file holds what it promises (and scripts/plot_basis.py draws its /nmf/H); evaluate on a
model with known weights prints the hand-computed accuracy and confusion matrix, and predict
writes one row of softmax probabilities per input; convert reads IDX and gzip IDX files; without
MPI shared memory the ranks of one node exchange messages and train the same model."""

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from common import (Checks, amplification, gamma, gamma_probabilistic, iterated_tolerance, perturbed,
                    run_ok, unit_roundoff)

check = Checks()


def arrays(path):
    """Every dataset of an HDF5 file by name."""
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, o: found.__setitem__(name, o[()]) if isinstance(o, h5py.Dataset) else None)
    return found


def evaluated_loss(dnmf, model, data, split):
    out = run_ok(dnmf, 2, ["evaluate", "--model", model, "--data", data, "--split", split]).stdout
    return float(re.search(r"^loss ([0-9.]+)", out, re.M).group(1))


def small_data(source, path, train=600, test=200):
    with h5py.File(source, "r") as s, h5py.File(path, "w") as f:
        for group, count in (("train", train), ("test", test)):
            f[f"/{group}/images"] = s[f"/{group}/images"][:count]
            f[f"/{group}/labels"] = s[f"/{group}/labels"][:count]
    return path


def perturbed_data(source, path):
    """The images of `source` as the program reads them (uint8 / 255), perturbed (common.py)."""
    with h5py.File(source, "r") as s, h5py.File(path, "w") as f:
        for group in ("train", "test"):
            images = s[f"/{group}/images"][()]
            scale = 1 / 255 if images.dtype == np.uint8 else 1
            f[f"/{group}/images"] = perturbed(images * scale, 1 if group == "train" else 2)
            f[f"/{group}/labels"] = s[f"/{group}/labels"][()]
    return path


def step_rounding(batch, ranks):
    """One step's rounding per gradient entry, in both runs: a sample's forward and backward
    (products over at most 784 inputs: the NMF encoder's, and dense1's 13 x 13 x 4 = 676 for the
    4-filter CNN), the sum over the batch and the ranks. In float the
    worst case, and the NMF encoder's doubling of it over 10 iterations, would be too loose to
    fail on anything; the probabilistic bound of each product stands for it, the encoder's own
    amplification being in what the probe measures (the data pass through it)."""
    return 2 * gamma_probabilistic(784 + batch + ranks, np.float32)


def loss_halves(dnmf, data, d):
    start, trained = os.path.join(d, "start.h5"), os.path.join(d, "one.h5")
    run_ok(dnmf, 2, ["train", "--data", data, "--epochs", "0", "--output", start, "--seed", "1"])
    run_ok(dnmf, 2, ["train", "--data", data, "--epochs", "1", "--output", trained, "--seed", "1"])
    before, after = evaluated_loss(dnmf, start, data, "train"), evaluated_loss(dnmf, trained, data, "train")
    check(after < before / 2, f"training loss halves within the first epoch ({before:.3f} -> {after:.3f})")


def rank_invariance_and_resume(dnmf, data, d, repo):
    basis = os.path.join(d, "basis.h5")
    run_ok(dnmf, 2, ["factorize", "--input", data, "--dataset", "/train/images", "--rank", "8",
                     "--max-iter", "20", "--output", basis, "--progress", "none"])
    common = ["train", "--data", data, "--model", "nmf-cnn", "--nmf-basis", basis, "--batch-size", "32",
              "--conv-filters", "4", "--hidden", "16", "--seed", "3", "--quiet"]
    models = {}
    for ranks in (1, 3):
        models[ranks] = os.path.join(d, f"ranks{ranks}.h5")
        run_ok(dnmf, ranks, common + ["--epochs", "1", "--output", models[ranks]])
    probe = os.path.join(d, "ranks-probe.h5")
    run_ok(dnmf, 1, ["train", "--data", perturbed_data(data, os.path.join(d, "probe-data.h5"))]
           + common[3:] + ["--epochs", "1", "--output", probe])
    one, three, probed = arrays(models[1]), arrays(models[3]), arrays(probe)
    for name in ("conv1/W", "nmf/H", "dense1/W", "dense2/b"):
        difference = np.linalg.norm(one[name] - three[name]) / np.linalg.norm(one[name])
        tolerance = iterated_tolerance(amplification(one[name], probed[name]), step_rounding(32, 3))
        check(difference < tolerance,
              f"{name} at 1 and 3 ranks agree ({difference:.2e}, bound {tolerance:.1e})")

    full, half, resumed = (os.path.join(d, n) for n in ("full.h5", "half.h5", "resumed.h5"))
    run_ok(dnmf, 2, common + ["--epochs", "2", "--output", full])
    run_ok(dnmf, 2, common + ["--epochs", "1", "--output", half])
    run_ok(dnmf, 2, ["train", "--data", data, "--resume", half, "--epochs", "2", "--output", resumed, "--quiet"])
    a, b = arrays(full), arrays(resumed)
    same = [n for n in a if not n.startswith("history") and np.array_equal(a[n], b[n])]
    check(len(same) == len([n for n in a if not n.startswith("history")]) and "optimizer/adam/m" in same,
          f"resumed run is bitwise the uninterrupted one ({len(same)} arrays)")

    with h5py.File(full, "r") as f:
        attributes = dict(f.attrs)
        check(f["nmf/H"].shape == (8, 784) and f["nmf/H"].dtype == np.float32 and f["nmf/H"][()].min() >= 0,
              "model holds /nmf/H (k x d, float32, >= 0)")
        check(list(f["history/epoch"][()]) == [1, 2] and len(f["history/validation_accuracy"]) == 2,
              "model holds the per-epoch history")
    check(attributes["architecture"] == "nmf-cnn" and attributes["epoch"] == 2 and attributes["step"] == 38
          and attributes["nmf_rank"] == 8 and attributes["classes"] == 10,
          "model attributes: architecture, epoch, step, nmf_rank, classes")
    png = os.path.join(d, "basis.png")
    subprocess.run([sys.executable, os.path.join(repo, "scripts", "plot_basis.py"), full, "--output", png],
                   check=True, capture_output=True)
    check(os.path.getsize(png) > 0, "scripts/plot_basis.py draws the model's /nmf/H")


def without_shared_memory(dnmf, data, d):
    """Where MPI cannot make a shared window (here: Open MPI without its shared-memory one-sided
    component), the ranks of one node exchange messages instead, and train the same model."""
    common = ["train", "--data", data, "--model", "cnn", "--conv-filters", "4", "--hidden", "64",
              "--batch-size", "32", "--epochs", "1", "--seed", "5"]
    models = {}
    for name, env in (("shared", None), ("messages", {"OMPI_MCA_osc": "^sm"})):
        models[name] = os.path.join(d, f"exchange_{name}.h5")
        out = run_ok(dnmf, 2, common + ["--output", models[name]], extra_env=env).stdout
        expected = "(sharing memory)" if name == "shared" else "(exchanging messages)"
        check(re.search(rf"over 2 ranks × \d+ threads? {re.escape(expected)}", out) is not None,
              f"train at 2 ranks says it is {expected[1:-1]}")
    probe = os.path.join(d, "exchange-probe.h5")
    run_ok(dnmf, 2, ["train", "--data", perturbed_data(data, os.path.join(d, "exchange-data.h5"))]
           + common[3:] + ["--output", probe])
    shared, messages, probed = arrays(models["shared"]), arrays(models["messages"]), arrays(probe)
    for name in ("conv1/W", "dense1/W", "dense2/W"):
        difference = np.linalg.norm(shared[name] - messages[name]) / np.linalg.norm(shared[name])
        tolerance = iterated_tolerance(amplification(shared[name], probed[name]), step_rounding(32, 2))
        check(difference < tolerance,
              f"{name} the same with and without shared memory ({difference:.2e}, bound {tolerance:.1e})")


def known_weights(dnmf, d):
    """nmf model, d = 4, k = 4, T = 1, H = G = I: codes x / (1 + eps); identity dense layers, so
    the logits are x / (1 + eps) and the prediction is the largest pixel."""
    rng = np.random.default_rng(5)
    x = rng.random((10, 4))
    labels = x.argmax(axis=1)
    labels[[1, 4, 8]] = (labels[[1, 4, 8]] + 1) % 4  # three wrong: accuracy 0.7
    data = os.path.join(d, "known.h5")
    with h5py.File(data, "w") as f:
        f["/test/images"], f["/test/labels"] = x, labels
        f["/images"] = x
    model = os.path.join(d, "known_model.h5")
    eps = 1e-6
    with h5py.File(model, "w") as f:
        attrs = dict(format="dnmf model 1", architecture="nmf", input_height=2, input_width=2,
                     input_channels=1, classes=4, conv_filters=1, conv_kernel=3, hidden=4, nmf_rank=4,
                     nmf_steps=1, nmf_epsilon=eps, optimizer="adam", learning_rate=1e-3, momentum=0.9,
                     beta1=0.9, beta2=0.999, adam_epsilon=1e-8, batch_size=4, seed=0, shuffle="global",
                     freeze_basis=0, nmf_basis="random", epoch=0, step=0, batch_in_epoch=0,
                     epoch_loss_sum=0.0, epoch_correct=0.0)
        for key, value in attrs.items():
            f.attrs[key] = value
        f["nmf/H"] = np.eye(4, dtype=np.float32)
        for layer in ("dense1", "dense2"):
            f[f"{layer}/W"], f[f"{layer}/b"] = np.eye(4, dtype=np.float32), np.zeros(4, np.float32)
        for name in ("epoch", "loss", "train_accuracy", "validation_accuracy", "images_per_second", "seconds"):
            f[f"history/{name}"] = np.zeros(0)
    predicted = x.argmax(axis=1)
    confusion = np.zeros((4, 4), int)
    for t, p in zip(labels, predicted):
        confusion[t, p] += 1
    for ranks in (1, 3):
        out = run_ok(dnmf, ranks, ["evaluate", "--model", model, "--data", data]).stdout
        check(out.startswith("accuracy 0.7000 (7 of 10 images"), f"evaluate at {ranks} ranks: accuracy 0.7")
        logits = x / (1 + eps)
        loss = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(10), labels])
        printed = float(re.search(r"^loss ([0-9.]+)", out, re.M).group(1))
        # Printed to 6 decimals (half a unit, 5e-7); the float model's logits carry 3u (x read
        # as float, 1 + eps and the division; identity layers are exact), the log-sum-exp
        # another 15u at most (the shift, exp within an ulp, the log of the sum's error), on
        # values no larger than 1 + max |z|.
        evaluation = 5e-7 + 18 * unit_roundoff(np.float32) * (1 + np.abs(logits).max())
        check(abs(printed - loss) < evaluation,
              f"evaluate at {ranks} ranks: mean cross-entropy {printed} = {loss:.6f}")
        rows = [list(map(int, line.split()[1:])) for line in out.splitlines()[4:8]]
        check(rows == confusion.tolist(), f"evaluate at {ranks} ranks: confusion matrix")
        output = os.path.join(d, f"predictions{ranks}.h5")
        run_ok(dnmf, ranks, ["predict", "--model", model, "--input", data, "--output", output])
        with h5py.File(output, "r") as f:
            probabilities = f["probabilities"][()]
        logits = x / (1 + eps)
        expected = np.exp(logits - logits.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)
        # Each p_i moves by |δz_i| + Σ p_j |δz_j| (logits within 3u, see above) plus the float
        # exp (an ulp, 2u), the sum of 4 (3u) and the division (u): γ_14 of float, relatively.
        check(probabilities.shape == (10, 4)
              and np.all(np.abs(probabilities - expected) <= gamma(14, np.float32) * expected),
              f"predict at {ranks} ranks: one row of softmax probabilities per input")


def idx_bytes(array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def convert(dnmf, d):
    rng = np.random.default_rng(2)
    images, labels = rng.integers(0, 256, (5, 28, 28)), rng.integers(0, 10, 5)
    paths = [os.path.join(d, n) for n in ("i.gz", "l", "ti", "tl.gz")]
    for path, array in zip(paths, (images, labels, images[:2], labels[:2])):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "wb") as f:
            f.write(idx_bytes(array))
    out = os.path.join(d, "mnist.h5")
    run_ok(dnmf, 3, ["convert", "mnist", "--images", paths[0], "--labels", paths[1], "--test-images",
                     paths[2], "--test-labels", paths[3], "--output", out])
    got = arrays(out)
    check(np.array_equal(got["train/images"], images) and np.array_equal(got["train/labels"], labels)
          and np.array_equal(got["test/images"], images[:2]) and got["train/images"].dtype == np.uint8,
          "convert mnist: IDX and gzip IDX into /train and /test")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    options = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with tempfile.TemporaryDirectory() as d:
        known_weights(options.dnmf, d)
        convert(options.dnmf, d)
        small = small_data(options.data, os.path.join(d, "small.h5"))
        rank_invariance_and_resume(options.dnmf, small, d, repo)
        without_shared_memory(options.dnmf, small, d)
        loss_halves(options.dnmf, options.data, d)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
