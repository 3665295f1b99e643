#!/usr/bin/python3
"""Bad input to train, evaluate and convert, through the real program at a given rank count:
one error line on stderr naming the file and dataset, exit code 1, no hang, and no output file
(nor a temporary one) left behind, and every file that was there before unchanged."""

import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from common import changed_files, run, snapshot


def data_file(path, train_labels=None, test_labels=None, drop=None, train=20):
    rng = np.random.default_rng(0)
    datasets = {"/train/images": rng.integers(0, 256, (train, 16), dtype=np.uint8),
                "/train/labels": np.arange(20) % 4 if train_labels is None else train_labels,
                "/test/images": rng.integers(0, 256, (8, 16), dtype=np.uint8),
                "/test/labels": np.arange(8) % 4 if test_labels is None else test_labels}
    with h5py.File(path, "w") as f:
        for name, values in datasets.items():
            if name != drop:
                f[name] = values
    return path


def case_setup(case, d, dnmf):
    """Returns (arguments, substrings the error line must contain)."""
    out = os.path.join(d, "out.h5")
    train = ["train", "--epochs", "1", "--batch-size", "4", "--output", out, "--progress", "none"]
    good = data_file(os.path.join(d, "good.h5"))
    if case == "basis_wrong_shape":
        basis = os.path.join(d, "basis.h5")
        with h5py.File(basis, "w") as f:
            f["/H"] = np.ones((5, 10))
        return (train + ["--data", good, "--model", "nmf", "--nmf-basis", basis],
                [basis + ":/H", "expected an NMF basis of k x 16", "found 5x10"])
    if case == "labels_out_of_range":
        labels = np.arange(20) % 4
        labels[13] = -1
        path = data_file(os.path.join(d, "bad.h5"), train_labels=labels)
        return train + ["--data", path], [path + ":/train/labels", "sample 13", "out of range"]
    if case == "test_labels_out_of_range":
        labels = np.arange(8) % 4
        labels[6] = 7
        path = data_file(os.path.join(d, "bad.h5"), test_labels=labels)
        return train + ["--data", path], [path + ":/test/labels", "sample 6", "out of range [0, 4)"]
    if case == "count_mismatch":
        path = data_file(os.path.join(d, "bad.h5"), train_labels=np.arange(19) % 4)
        return train + ["--data", path], [path + ":/train/labels", "19 labels for 20 images"]
    if case == "missing_dataset":
        path = data_file(os.path.join(d, "bad.h5"), drop="/test/images")
        return train + ["--data", path], [path + ":/test/images", "no such dataset"]
    if case == "not_a_model":
        return ["evaluate", "--model", good, "--data", good], [good, "not a dnmf model file"]
    if case in ("idx_wrong_magic", "idx_truncated"):
        images, labels = os.path.join(d, "images.idx"), os.path.join(d, "labels.idx")
        with open(labels, "wb") as f:
            f.write(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]))
        header = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28])
        with open(images, "wb") as f:
            if case == "idx_wrong_magic":
                f.write(bytes([0x1f, 0x8c]) + header[2:] + bytes(2 * 784))
            else:
                f.write(header + bytes(784 + 100))
        expected = "wrong magic number" if case == "idx_wrong_magic" else "truncated IDX data"
        return (["convert", "mnist", "--images", images, "--labels", labels, "--output", out],
                [images, expected])
    raise SystemExit(f"unknown case {case}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, required=True)
    parser.add_argument("--case", required=True)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        arguments, expected_text = case_setup(options.case, d, options.dnmf)
        before = set(os.listdir(d))
        files_before = snapshot(d)
        try:
            result = run(options.dnmf, options.ranks, arguments, timeout=60)
        except subprocess.TimeoutExpired as timeout:
            print(f"case {options.case} at {options.ranks} rank(s): no exit within {timeout.timeout} s")
            print("FAILED: hangs")
            return 1
        lines = [line for line in result.stderr.splitlines() if line.startswith("dnmf: error")]
        failures = []
        if result.returncode != 1:
            failures.append(f"exit code {result.returncode}, expected 1")
        if len(lines) != 1:
            failures.append(f"expected exactly one error line, got {len(lines)}")
        for text in expected_text:
            if not any(text in line for line in lines):
                failures.append(f"error line lacks {text!r}")
        if set(os.listdir(d)) - before:
            failures.append(f"left files behind: {sorted(set(os.listdir(d)) - before)}")
        changed = changed_files(files_before, snapshot(d))
        if changed:
            failures.append(f"files of the user's changed or removed: {changed}")
        print(f"case {options.case} at {options.ranks} rank(s): exit {result.returncode}")
        print("stderr:", result.stderr.strip())
        if failures:
            print("FAILED:", "; ".join(failures))
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
