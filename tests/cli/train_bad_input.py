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


def idx_pair(d):
    """A valid pair of MNIST IDX files: 2 images of 28 x 28 and their labels."""
    images, labels = os.path.join(d, "images.idx"), os.path.join(d, "labels.idx")
    with open(labels, "wb") as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]))
    with open(images, "wb") as f:
        f.write(bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(2 * 784))
    return images, labels


def trained_model(dnmf, good, path, epochs=0):
    """A real model file of good.h5, made before the case runs."""
    subprocess.run([dnmf, "train", "--data", good, "--epochs", str(epochs), "--batch-size", "4",
                    "--conv-filters", "2", "--hidden", "4", "--output", path, "--quiet"],
                   check=True, timeout=60)
    return path


def file_safety_case(case, d, good, out, train, dnmf):
    """Outputs of train, predict and convert that must never replace an input, and a checkpoint
    that must not replace an existing file without --force."""
    ckpt = os.path.join(d, "ckpt.h5")
    if case == "train_checkpoint_exists":
        with open(ckpt, "w") as f:
            f.write("keep me")
        return train + ["--data", good, "--checkpoint", ckpt], [ckpt, "exists", "--force"]
    if case == "train_checkpoint_is_data":
        return (train + ["--data", good, "--checkpoint", good, "--force"],
                [good, "--checkpoint", "same file as --data"])
    if case == "train_output_is_data":
        args = [a if a != out else good for a in train]
        return args + ["--data", good, "--force"], [good, "--output", "same file as --data"]
    if case == "train_output_is_basis":
        basis = os.path.join(d, "basis.h5")
        with h5py.File(basis, "w") as f:
            f["/H"] = np.ones((5, 16))
        args = [a if a != out else basis for a in train]
        return (args + ["--data", good, "--model", "nmf", "--nmf-basis", basis, "--force"],
                [basis, "--output", "same file as --nmf-basis"])
    if case == "train_output_is_resume":
        model = trained_model(dnmf, good, os.path.join(d, "model.h5"))
        args = [a if a != out else model for a in train if a not in ("--batch-size", "4")]
        return (args + ["--data", good, "--resume", model, "--force"],
                [model, "--output", "same file as --resume"])
    if case in ("predict_output_is_model", "predict_output_is_input"):
        model = trained_model(dnmf, good, os.path.join(d, "model.h5"))
        target = model if case == "predict_output_is_model" else good
        return (["predict", "--model", model, "--input", good, "--dataset", "/test/images",
                 "--output", target, "--force"],
                [target, "--output", "same file as " + ("--model" if target == model else "--input")])
    if case == "convert_output_is_images":
        images, labels = idx_pair(d)
        return (["convert", "mnist", "--images", images, "--labels", labels, "--output", images,
                 "--force"], [images, "--output", "same file as --images"])
    raise SystemExit(f"unknown case {case}")


FILE_SAFETY_CASES = ("train_checkpoint_exists", "train_checkpoint_is_data", "train_output_is_data",
                     "train_output_is_basis", "train_output_is_resume", "predict_output_is_model",
                     "predict_output_is_input", "convert_output_is_images")


def model_case(case, d, good, out, dnmf):
    """A model file with one defect, read by evaluate, predict or train --resume."""
    model = trained_model(dnmf, good, os.path.join(d, "model.h5"), epochs=1)
    with h5py.File(model, "a") as f:
        if case == "model_nan_evaluate":
            f["/dense1/W"][3, 1] = np.nan
            expected = [model + ":/dense1/W", "NaN or Inf"]
        elif case == "model_inf_predict":
            f["/conv1/b"][1] = np.inf
            expected = [model + ":/conv1/b", "NaN or Inf"]
        elif case == "model_nan_resume":
            f["/optimizer/adam/v"][7] = np.nan
            expected = [model + ":/optimizer/adam/v", "NaN or Inf"]
        elif case == "model_history_inconsistent":
            f.attrs["epoch"] = np.int64(2)
            expected = [model, "2 epochs", "/history/epoch holds 1"]
    if case == "model_nan_evaluate":
        return ["evaluate", "--model", model, "--data", good], expected
    if case == "model_inf_predict":
        return (["predict", "--model", model, "--input", good, "--dataset", "/test/images",
                 "--output", out], expected)
    return (["train", "--data", good, "--resume", model, "--epochs", "3", "--output", out,
             "--progress", "none"], expected)


MODEL_CASES = ("model_nan_evaluate", "model_inf_predict", "model_nan_resume",
               "model_history_inconsistent")


def case_setup(case, d, dnmf):
    """Returns (arguments, substrings the error line must contain)."""
    out = os.path.join(d, "out.h5")
    train = ["train", "--epochs", "1", "--batch-size", "4", "--output", out, "--progress", "none"]
    good = data_file(os.path.join(d, "good.h5"))
    if case in FILE_SAFETY_CASES:
        return file_safety_case(case, d, good, out, train, dnmf)
    if case in MODEL_CASES:
        return model_case(case, d, good, out, dnmf)
    if case == "idx_fifo":
        images, labels = idx_pair(d)
        os.remove(images)
        os.mkfifo(images)
        return (["convert", "mnist", "--images", images, "--labels", labels, "--output", out],
                [images, "not a regular file"])
    if case == "basis_wrong_shape":
        basis = os.path.join(d, "basis.h5")
        with h5py.File(basis, "w") as f:
            f["/H"] = np.ones((5, 10))
        return (train + ["--data", good, "--model", "nmf", "--nmf-basis", basis],
                [basis + ":/H", "expected an NMF basis of k x 16", "found 5x10"])
    if case == "basis_not_finite":
        # Once named only the layer; the file and dataset are what the user can fix.
        basis = os.path.join(d, "basis.h5")
        H = np.ones((5, 16))
        H[2, 7] = np.nan
        with h5py.File(basis, "w") as f:
            f["/H"] = H
        return (train + ["--data", good, "--model", "nmf", "--nmf-basis", basis],
                [basis + ":/H", "NaN or Inf", "row 2, column 7"])
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
        images, labels = idx_pair(d)
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
