#!/usr/bin/python3
"""The factors do not depend on how a run's work is spread over ranks x kernel threads beyond
the rounding an iteration allows: dense (with NaN missing entries) and sparse (CSR, its arrays
gzip-compressed in small chunks, which a rank's threads inflate: io/deflated_chunks) input,
Frobenius HALS, MU and BPP and KL MU, with and without held-out entries, at 1x1, 1x2, 2x1, 2x2
and 3x1, each against 1x1 within the iterated tolerance that 1x1's own perturbed run measures.
The input spans several row blocks of 256 rows on every rank count, so a rank's threads each
take a part of its rows (nmf/row_parts) and sum their own share of Wᵀ A.
(end_to_end.py does the same for the dense input without masks.)"""

import argparse
import os
import sys
import tempfile

import h5py
import numpy as np

from common import (Checks, amplification, condition_number, iterated_tolerance,
                    iteration_rounding, perturbed, relative, run_ok)

check = Checks()
M, N, K = 1100, 60, 4
ITERATIONS = 20
LAYOUTS = ((1, 1), (1, 2), (2, 1), (2, 2), (3, 1))
MISSING = 0.1  # of the dense input's entries, NaN


def write_inputs(d, A, missing, perturbation=None):
    """The dense input (NaN where `missing`) and the sparse one (A's nonzeros, CSR), with A's
    values multiplied by `perturbation` when given; returns their paths."""
    values = A if perturbation is None else A * perturbation
    suffix = "" if perturbation is None else "-probe"
    dense, sparse = os.path.join(d, f"dense{suffix}.h5"), os.path.join(d, f"sparse{suffix}.h5")
    with h5py.File(dense, "w") as f:
        f["A"] = np.where(missing, np.nan, values)
    with h5py.File(sparse, "w") as f:
        g = f.create_group("X")
        rows, cols = np.nonzero(values)
        arrays = {"data": values[rows, cols], "indices": cols.astype(np.int32),
                  "indptr": np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=M))])}
        for name, array in arrays.items():
            g.create_dataset(name, data=array, chunks=(500,), compression="gzip",
                             shuffle=name != "indices")
        g.attrs["shape"] = np.array([M, N])
        g.attrs["encoding-type"] = "csr_matrix"
    return {"dense": (dense, "/A"), "sparse": (sparse, "/X")}


def read_factors(path):
    with h5py.File(path, "r") as f:
        return f["W"][()].astype(np.float64), f["H"][()].astype(np.float64)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    options = parser.parse_args()
    dnmf = options.dnmf
    rng = np.random.default_rng(5)
    A = np.floor(6 * rng.uniform(size=(M, N)) ** 3)  # counts, about 45 % zeros
    missing = rng.uniform(size=(M, N)) < MISSING

    # (input, algorithm, loss, options): the dense input always has its NaN entries missing.
    cases = (("dense", "hals", "frobenius", ["--holdout", "0.1"]),
             ("dense", "bpp", "frobenius", []),
             ("sparse", "mu", "frobenius", ["--holdout", "0.1"]),
             ("sparse", "bpp", "frobenius", []),
             ("dense", "mu", "kl", ["--holdout", "0.1"]),
             ("sparse", "mu", "kl", []))
    with tempfile.TemporaryDirectory() as d:
        inputs = write_inputs(d, A, missing)
        probe_inputs = write_inputs(d, A, missing, perturbed(np.ones((M, N)), 1))
        for number, (source, algorithm, loss, extra) in enumerate(cases):
            label = f"{source} {algorithm}/{loss}{' ' + ' '.join(extra) if extra else ''}"
            path, dataset = inputs[source]
            masking = ["--missing", "nan"] if source == "dense" else []

            def factorize(ranks, threads, output, input_path=path, init=()):
                run_ok(dnmf, ranks, ["factorize", "--input", input_path, "--dataset", dataset,
                                     "--rank", str(K), "--algorithm", algorithm, "--loss", loss,
                                     "--max-iter", str(ITERATIONS), "--tol", "0", "--seed", "1",
                                     "--threads", str(threads), "--output", output, "--quiet",
                                     *masking, *extra, *init])
                return read_factors(output)

            runs = {layout: factorize(*layout, os.path.join(d, f"{number}-{ranks}x{threads}.h5"))
                    for layout in LAYOUTS for ranks, threads in [layout]}
            # The amplification of rounding: 1x1 from the data and the start perturbed.
            start = os.path.join(d, "start.h5")
            run_ok(dnmf, 1, ["factorize", "--input", path, "--dataset", dataset, "--rank", str(K),
                             "--max-iter", "0", "--seed", "1", "--output", start, "--force",
                             "--quiet", *masking])
            probe_start = os.path.join(d, "probe-start.h5")
            with h5py.File(start, "r") as f, h5py.File(probe_start, "w") as g:
                g["W"], g["H"] = perturbed(f["W"][()], 2), perturbed(f["H"][()], 3)
            probed = factorize(1, 1, os.path.join(d, f"{number}-probe.h5"),
                               input_path=probe_inputs[source][0], init=("--init", probe_start))
            W1, H1 = runs[1, 1]
            condition = (max(condition_number(W1.T @ W1), condition_number(H1 @ H1.T))
                         if algorithm == "bpp" else 0.0)
            # A masked Gram is a bin sum less the missing entries' terms: its rounding grows by
            # the share the fitted entries keep, at least 1 - MISSING - the held-out fraction.
            kept = 1 - (MISSING if source == "dense" else 0) - (0.1 if extra else 0)
            rounding = 2 * iteration_rounding(M, N, K, 3, condition=condition) / kept
            for index, reference in enumerate((W1, H1)):
                name = "WH"[index]
                tolerance = iterated_tolerance(amplification(reference, probed[index]), rounding)
                for layout in LAYOUTS[1:]:
                    difference = relative(runs[layout][index], reference)
                    check(difference < tolerance,
                          f"{label}: {name} at {layout[0]} x {layout[1]} equals 1 x 1's "
                          f"(relative difference {difference:.2e}, bound {tolerance:.1e})")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
