#!/usr/bin/python3
"""Missing values and held-out entries driven as a user would (--missing nan, --mask, --holdout,
--holdout-seed, --stop-on test), against numpy:

- the held-out set rebuilt in numpy from the hash README documents: its counts are the file's,
  and the recorded training and test errors are numpy's errors over the rebuilt sets from the
  written W and H (another seed's set misses them by far more than rounding); --holdout-seed
  draws it from its own seed, recorded;
- MU, HALS, BPP and KL, dense with NaN entries and sparse with a sparse mask in another file;
- rows and columns with nothing observed get zero factors; a resumed run continues the same
  held-out set bitwise, and refuses another held-out set; --stop-on test stops on the test
  error;
- bad masks and options get one line each."""

import argparse
import math
import os
import sys
import tempfile

import h5py
import numpy as np

from common import Checks, counter_uniform, gamma, run, run_ok

check = Checks()

HELD_OUT_ROWS, HELD_OUT_COLUMNS = 8, 9  # core/random.hpp's RandomStream values
BINS = 256


def held_out_set(seed, fraction, m, n):
    """README's definition: (i, j) held out iff (row_bin(i) + column_bin(j)) mod 256 <
    ceil(256 F), the bins floor(256 u) of the counter uniforms u(seed, 8, i, 0), u(seed, 9, 0, j)."""
    row_bins = np.floor(BINS * counter_uniform(seed, HELD_OUT_ROWS, m, 1)).astype(np.int64)
    column_bins = np.floor(BINS * counter_uniform(seed, HELD_OUT_COLUMNS, 1, n)).astype(np.int64)
    return (row_bins + column_bins) % BINS < math.ceil(BINS * fraction)


def frobenius_error(A, WH, entries):
    return np.linalg.norm((A - WH)[entries]) / np.linalg.norm(A[entries])


def kl_error(A, WH, entries):
    a, wh = A[entries], WH[entries]
    positive = a > 0
    divergence = np.sum(a[positive] * np.log(a[positive] / wh[positive])) + np.sum(wh - a)
    return divergence / np.sum(a)


def error_tolerance(A, WH, entries, inner, loss):
    """The relative rounding of an error over `entries` that dnmf sums in other terms than
    numpy: Frobenius from sums of A², (WH)² and A WH (with WH over all entries, less the
    unobserved ones), KL from Σ A log(A / WH), Σ WH and Σ A, each of at most `inner` terms
    of rounded products, against the error itself."""
    a, wh = A[entries], WH[entries]
    if loss == "frobenius":
        scale = np.sum(a ** 2) + np.sum(WH ** 2)
        return 10 * gamma(inner) * scale / np.sum((a - wh) ** 2)
    positive = a > 0
    terms = np.abs(a[positive] * np.log(a[positive] / wh[positive]))
    return 10 * gamma(inner) * (np.sum(terms) + np.sum(WH) + np.sum(a)) / kl_error(A, WH, entries) \
        / np.sum(a)


def read(path):
    with h5py.File(path, "r") as f:
        return f["W"][()], f["H"][()], {key: f.attrs[key] for key in f.attrs}, \
            {key: f["history"][key][()] for key in f["history"]}


def factorize(input_path, output, extra, iterations=30):
    return ["factorize", "--input", input_path, "--rank", "4", "--max-iter", str(iterations),
            "--tol", "0", "--output", output, "--quiet"] + extra


def check_errors(label, A, W, H, attrs, history, fit, test, loss):
    """The recorded errors against numpy's over the rebuilt sets; and that another set would
    not pass."""
    WH = W @ H
    error = frobenius_error if loss == "frobenius" else kl_error
    m, n = A.shape
    inner = m * n + W.shape[1]
    tolerance = error_tolerance(A, WH, fit, inner, loss)
    check(abs(attrs["relative_error"] - error(A, WH, fit)) <= tolerance * error(A, WH, fit),
          f"{label}: relative_error is the error on the fitted entries "
          f"({attrs['relative_error']:.12g} vs {error(A, WH, fit):.12g})")
    if test is None:
        return
    expected = error(A, WH, test)
    tolerance = error_tolerance(A, WH, test, inner, loss)
    recorded = history["test_error"][-1]
    check(abs(recorded - expected) <= tolerance * expected and attrs["test_error"] == recorded,
          f"{label}: test error is the error on the held-out entries ({recorded:.12g} vs "
          f"{expected:.12g})")
    wrong = held_out_set(int(attrs["seed"]) + 1, float(attrs["holdout"]), m, n) & ~np.isnan(A)
    check(abs(error(A, WH, wrong) - expected) > 100 * tolerance * expected,
          f"{label}: another seed's held-out set gives another test error")


def dense_with_nan(d, ranks, dnmf):
    rng = np.random.default_rng(3)
    m, n = 150, 60
    A = rng.uniform(size=(m, 4)) @ rng.uniform(size=(4, n)) + 0.2 * rng.uniform(size=(m, n))
    missing = rng.uniform(size=(m, n)) < 0.1
    missing[7, :] = True  # a row with nothing observed
    A_file = np.where(missing, np.nan, A)
    path = os.path.join(d, "dense.h5")
    with h5py.File(path, "w") as f:
        f["A"] = A_file
    A = np.where(missing, np.nan, A)
    for algorithm, loss in (("mu", "frobenius"), ("hals", "frobenius"), ("bpp", "frobenius"),
                            ("mu", "kl")):
        label = f"dense {algorithm}/{loss} at {ranks} ranks"
        out = os.path.join(d, f"dense-{algorithm}-{loss}.h5")
        run_ok(dnmf, ranks, factorize(path, out, ["--algorithm", algorithm, "--loss", loss,
                                                  "--missing", "nan", "--holdout", "0.2",
                                                  "--seed", "5"]))
        W, H, attrs, history = read(out)
        held = held_out_set(5, 0.2, m, n)
        fit = ~missing & ~held
        test = ~missing & held
        check(attrs["observed_entries"] == fit.sum() and attrs["heldout_entries"] == test.sum()
              and attrs["missing_entries"] == missing.sum(),
              f"{label}: counts {attrs['observed_entries']}, {attrs['heldout_entries']}, "
              f"{attrs['missing_entries']} (numpy {fit.sum()}, {test.sum()}, {missing.sum()})")
        check(attrs["missing"] == "nan" and attrs["holdout"] == 0.2 and attrs["mask"] == "",
              f"{label}: attributes missing, holdout, mask")
        check(np.all(W[7] == 0), f"{label}: the row with nothing observed has zero codes")
        check(np.all(np.isfinite(W)) and np.all(np.isfinite(H)), f"{label}: finite factors")
        check(len(history["test_error"]) == len(history["relative_error"]),
              f"{label}: /history/test_error beside /history/relative_error")
        check_errors(label, np.nan_to_num(A), W, H, attrs, history, fit, test, loss)
    label = f"dense hals --seed 5 --holdout-seed 11 at {ranks} ranks"
    out = os.path.join(d, "dense-holdout-seed.h5")
    run_ok(dnmf, ranks, factorize(path, out, ["--missing", "nan", "--holdout", "0.2", "--seed", "5",
                                              "--holdout-seed", "11"]))
    W, H, attrs, history = read(out)
    held = held_out_set(11, 0.2, m, n)
    check(attrs["holdout_seed"] == 11 and attrs["heldout_entries"] == (~missing & held).sum(),
          f"{label}: the held-out set is seed 11's, recorded as holdout_seed")
    check_errors(label, np.nan_to_num(A), W, H, attrs, history, ~missing & ~held, ~missing & held,
                 "frobenius")
    return path


def sparse_with_mask(d, ranks, dnmf):
    rng = np.random.default_rng(4)
    m, n = 90, 70
    A = np.floor(5 * rng.uniform(size=(m, n)) ** 3)  # counts, about 40 % zeros
    mask = rng.uniform(size=(m, n)) < 0.15
    mask[:, 11] = True  # a column with nothing observed
    path = os.path.join(d, "sparse.h5")
    mask_path = os.path.join(d, "mask.h5")
    for file, matrix, name in ((path, A, "counts"), (mask_path, mask.astype(np.float32), "pattern")):
        with h5py.File(file, "w") as f:
            g = f.create_group(name)
            data = matrix[matrix != 0]
            rows, cols = np.nonzero(matrix)
            indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=m))])
            g["data"], g["indices"], g["indptr"] = data, cols.astype(np.int32), indptr
            g.attrs["shape"] = np.array([m, n])
            g.attrs["encoding-type"] = "csr_matrix"
    for algorithm in ("hals", "bpp"):
        label = f"sparse {algorithm} with a sparse mask at {ranks} ranks"
        out = os.path.join(d, f"sparse-{algorithm}.h5")
        run_ok(dnmf, ranks, factorize(path, out, ["--algorithm", algorithm, "--mask",
                                                  mask_path + ":/pattern", "--holdout", "0.1"]))
        W, H, attrs, history = read(out)
        held = held_out_set(0, 0.1, m, n)
        fit, test = ~mask & ~held, ~mask & held
        check(attrs["observed_entries"] == fit.sum() and attrs["missing_entries"] == mask.sum(),
              f"{label}: counts")
        check(np.all(H[:, 11] == 0), f"{label}: the column with nothing observed is zero in H")
        check_errors(label, A, W, H, attrs, history, fit, test, "frobenius")
    return path, mask_path


def dense_with_boolean_mask(d, ranks, dnmf):
    """A numpy bool mask (an HDF5 enum) beside A in the input file."""
    rng = np.random.default_rng(5)
    A = rng.uniform(size=(40, 30))
    mask = rng.uniform(size=(40, 30)) < 0.3
    path = os.path.join(d, "with-mask.h5")
    with h5py.File(path, "w") as f:
        f["A"], f["mask"] = A, mask
    out = os.path.join(d, "with-mask-out.h5")
    run_ok(dnmf, ranks, factorize(path, out, ["--dataset", "/A", "--mask", "/mask"]))
    W, H, attrs, history = read(out)
    label = f"a boolean mask in the input file at {ranks} ranks"
    check(attrs["missing_entries"] == mask.sum() and attrs["mask"] == "/mask", f"{label}: counts")
    check_errors(label, A, W, H, attrs, history, ~mask, None, "frobenius")
    # Nothing left out: the factors of the plain run, bitwise.
    plain, asked = os.path.join(d, "plain.h5"), os.path.join(d, "asked.h5")
    run_ok(dnmf, ranks, factorize(path, plain, ["--dataset", "/A"]))
    run_ok(dnmf, ranks, factorize(path, asked, ["--dataset", "/A", "--missing", "nan"]))
    W1, H1, _, _ = read(plain)
    W2, H2, attrs, _ = read(asked)
    check(np.array_equal(W1, W2) and np.array_equal(H1, H2) and attrs["missing_entries"] == 0,
          f"--missing nan without a NaN at {ranks} ranks: the plain run's factors, bitwise")


def transform_with_holes(d, ranks, dnmf):
    """dnmf transform --missing nan: each row's codes are the NNLS fit of its observed entries
    (scipy's nnls on them, to the solve's rounding); KL's recorded error is over them."""
    from scipy.optimize import nnls
    rng = np.random.default_rng(6)
    m, n, k = 60, 40, 5
    A = rng.uniform(size=(m, k)) @ rng.uniform(size=(k, n)) + 0.1 * rng.uniform(size=(m, n))
    missing = rng.uniform(size=(m, n)) < 0.2
    missing[3, :] = True
    whole, holes = os.path.join(d, "whole-rows.h5"), os.path.join(d, "rows-with-holes.h5")
    with h5py.File(whole, "w") as f:
        f["A"] = A
    with h5py.File(holes, "w") as f:
        f["A"] = np.where(missing, np.nan, A)
    for loss, algorithm in (("frobenius", "hals"), ("kl", "mu")):
        fit = os.path.join(d, f"fit-{loss}.h5")
        run_ok(dnmf, 1, factorize(whole, fit, ["--algorithm", algorithm, "--loss", loss], 100))
        codes = os.path.join(d, f"codes-{loss}.h5")
        run_ok(dnmf, ranks, ["transform", "--basis", fit, "--input", holes, "--missing", "nan",
                             "--output", codes, "--quiet"])
        with h5py.File(fit, "r") as f:
            H = f["H"][()]
        with h5py.File(codes, "r") as f:
            W = f["W"][()]
            attrs = {key: f.attrs[key] for key in f.attrs}
        label = f"transform {loss} with NaN holes at {ranks} ranks"
        check(attrs["missing"] == "nan" and attrs["missing_entries"] == missing.sum()
              and np.all(W[3] == 0), f"{label}: attributes, zero codes for the row with no entry")
        check_errors(label, A, W, H, attrs, None, ~missing, None, loss)
        if loss != "frobenius":
            continue
        worst = 0.0
        for i in range(m):
            observed = ~missing[i]
            if not observed.any():
                continue
            F = H[:, observed].T
            expected, _ = nnls(F, A[i, observed])
            bound = 10 * np.linalg.cond(F.T @ F) * gamma(n + k) * np.linalg.norm(expected)
            worst = max(worst, np.linalg.norm(W[i] - expected) / max(bound, 1e-300))
        check(worst < 1, f"{label}: every row's codes are the NNLS of its observed entries "
                         f"(worst difference {worst:.2g} of its bound)")


def single_precision(d, ranks, dnmf, path):
    """--precision single leaves the same entries out: its errors agree with double's to the
    1e-4 the precision tests ask (README, --precision)."""
    errors = {}
    for precision in ("single", "double"):
        out = os.path.join(d, f"{precision}.h5")
        run_ok(dnmf, ranks, factorize(path, out, ["--missing", "nan", "--holdout", "0.2",
                                                  "--precision", precision]))
        _, _, attrs, _ = read(out)
        errors[precision] = (attrs["relative_error"], attrs["test_error"],
                             attrs["observed_entries"])
    single, double = errors["single"], errors["double"]
    check(single[2] == double[2] and abs(single[0] - double[0]) <= 1e-4 * double[0]
          and abs(single[1] - double[1]) <= 1e-4 * double[1],
          f"--precision single at {ranks} ranks: the same entries, errors within 1e-4 of double's "
          f"({single[0]:.8g} / {double[0]:.8g}, test {single[1]:.8g} / {double[1]:.8g})")


def resume_and_stop_on_test(d, ranks, dnmf, path):
    options = ["--missing", "nan", "--holdout", "0.25", "--seed", "2"]
    whole = os.path.join(d, "whole.h5")
    run_ok(dnmf, ranks, factorize(path, whole, options, 40))
    first = os.path.join(d, "first.h5")
    run_ok(dnmf, ranks, factorize(path, first, options, 15))
    resumed = os.path.join(d, "resumed.h5")
    run_ok(dnmf, ranks, ["factorize", "--input", path, "--rank", "4", "--max-iter", "40",
                         "--tol", "0", "--resume", first, "--output", resumed, "--quiet"] + options)
    W1, H1, _, history1 = read(whole)
    W2, H2, _, history2 = read(resumed)
    check(np.array_equal(W1, W2) and np.array_equal(H1, H2)
          and np.array_equal(history1["test_error"], history2["test_error"]),
          f"resumed at {ranks} ranks: the factors and test errors of the uninterrupted run, bitwise")
    result = run(dnmf, ranks, ["factorize", "--input", path, "--rank", "4", "--resume", first,
                               "--output", os.path.join(d, "other.h5"), "--missing", "nan",
                               "--holdout", "0.3"])
    check(result.returncode == 2 and "--holdout 0.25" in result.stderr,
          f"resume with another --holdout is refused ({result.stderr.strip()[-120:]})")
    result = run(dnmf, ranks, ["factorize", "--input", path, "--rank", "4", "--resume", first,
                               "--output", os.path.join(d, "other.h5"), "--holdout-seed", "3"]
                 + options)
    check(result.returncode == 2 and "without --holdout-seed" in result.stderr,
          f"resume with another held-out set is refused ({result.stderr.strip()[-120:]})")

    stopped = os.path.join(d, "stopped.h5")
    run_ok(dnmf, ranks, ["factorize", "--input", path, "--rank", "12", "--max-iter", "2000",
                         "--tol", "1e-3", "--stop-on", "test", "--output", stopped,
                         "--quiet"] + options)
    _, _, attrs, history = read(stopped)
    test = history["test_error"]
    check(attrs["stop_reason"] == "converged" and len(test) > 11
          and (test[-11] - test[-1]) / test[-11] < 1e-3,
          f"--stop-on test: stopped when the test error improved by less than --tol over 10 "
          f"iterations ({attrs['stop_reason']} after {len(test) - 1})")


def bad_input(d, ranks, dnmf, dense, sparse, mask_path):
    wrong_shape = os.path.join(d, "wrong.h5")
    with h5py.File(wrong_shape, "w") as f:
        f["mask"] = np.zeros((90, 71), dtype=np.int8)
    out = os.path.join(d, "bad.h5")
    all_missing = os.path.join(d, "all.h5")
    with h5py.File(all_missing, "w") as f:
        f["mask"] = np.ones((90, 70), dtype=np.int8)
        f["text"] = np.array([[b"x"] * 70] * 90)
    cases = [
        (["--input", dense], 1, ["dense.h5", "NaN", "--missing nan"]),
        (["--input", sparse, "--mask", wrong_shape + ":/mask"], 1,
         ["wrong.h5:/mask", "90x71", "90x70"]),
        (["--input", sparse, "--mask", "/nothing"], 1, ["sparse.h5", "/nothing"]),
        (["--input", sparse, "--mask", all_missing + ":/mask"], 1,
         ["sparse.h5", "every entry is missing"]),
        (["--input", sparse, "--mask", all_missing + ":/text"], 1,
         ["all.h5:/text", "not numeric"]),
        (["--input", sparse, "--holdout", "1"], 2, ["--holdout 1", "[0, 1)"]),
        (["--input", sparse, "--holdout", "-0.5"], 2, ["--holdout -0.5"]),
        (["--input", sparse, "--holdout", "0.999"], 2, ["every entry"]),
        (["--input", sparse, "--stop-on", "test"], 2, ["--stop-on test", "--holdout"]),
        (["--input", sparse, "--missing", "zero"], 2, ["--missing", "'zero'"]),
    ]
    for arguments, code, expected in cases:
        result = run(dnmf, ranks, ["factorize", "--rank", "3", "--output", out] + arguments)
        lines = [line for line in result.stderr.splitlines() if line.startswith("dnmf: error")]
        check(result.returncode == code and len(lines) == 1
              and all(text in result.stderr for text in expected) and not os.path.exists(out),
              f"{' '.join(arguments[2:])}: exit {result.returncode}, one line: "
              f"{result.stderr.strip()[:160]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        dense = dense_with_nan(d, options.ranks, options.dnmf)
        sparse, mask_path = sparse_with_mask(d, options.ranks, options.dnmf)
        dense_with_boolean_mask(d, options.ranks, options.dnmf)
        transform_with_holes(d, options.ranks, options.dnmf)
        single_precision(d, options.ranks, options.dnmf, dense)
        resume_and_stop_on_test(d, options.ranks, options.dnmf, dense)
        bad_input(d, options.ranks, options.dnmf, dense, sparse, mask_path)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
