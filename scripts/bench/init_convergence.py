#!/usr/bin/python3
"""Which --init converges fastest at equal cost? (issue 3, section 3)

dnmf factorize at 1 rank (one OpenBLAS thread) from --init random, nndsvd, nndsvda and nndsvdar,
--tol 0, on examples/data/digits.h5 /train/images (8000 x 784, dense, k = 16 and 64; as stored,
0..255, and divided by 255: NNDSVDa's fill mean(A) scales like A, its SVD part like sqrt(A),
so its start depends on the scale of A) and on a
synthetic sparse count matrix (Poisson counts of a planted nonnegative rank-20 model, 6%
nonzeros, k = 20), for --algorithm mu and hals. Cost is counted in iterations of the same run,
so the load of the machine cancels: the init's own seconds (the output's init_seconds) divided
by the run's seconds per iteration, plus the iterations done. The table gives the relative
error ||A - WH|| / ||A|| reached within equal budgets of that cost.
Usage: init_convergence.py --dnmf build/src/dnmf --digits examples/data/digits.h5"""

import argparse
import os
import subprocess
import tempfile

import h5py
import numpy as np
import scipy.sparse as sp

INITS = ("random", "nndsvd", "nndsvda", "nndsvdar")
BUDGETS = (10, 20, 50, 100, 200)  # in iterations


def write_sparse_counts(path, rows=20000, cols=2000, rank=20, seed=0):
    """Poisson counts of W0 H0 with sparse gamma factors, stored as an AnnData-style CSR group."""
    rng = np.random.default_rng(seed)
    W0 = rng.gamma(0.3, 1.0, (rows, rank)) * (rng.random((rows, rank)) < 0.3)
    H0 = rng.gamma(0.3, 1.0, (rank, cols)) * (rng.random((rank, cols)) < 0.3)
    counts = sp.csr_matrix(rng.poisson(W0 @ H0 * 0.5).astype(np.float64))
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["shape"] = np.array(counts.shape)
        g["data"], g["indices"], g["indptr"] = counts.data, counts.indices, counts.indptr
    return counts.shape, counts.nnz


def write_scaled_digits(digits, path):
    with h5py.File(digits, "r") as f:
        images = f["/train/images"][()].astype(np.float64) / 255
    with h5py.File(path, "w") as f:
        f["/train/images"] = images


def run(dnmf, path, dataset, k, algorithm, init, iterations, out):
    argv = [dnmf, "factorize", "--input", path, "--rank", str(k), "--algorithm", algorithm,
            "--init", init, "--seed", "1", "--max-iter", str(iterations), "--tol", "0",
            "--output", out, "--force", "--progress", "none", "--quiet"]
    if dataset:
        argv += ["--dataset", dataset]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    subprocess.run(argv, check=True, env=env)
    with h5py.File(out, "r") as f:
        init_seconds = float(f.attrs["init_seconds"])
        seconds = init_seconds + f["history/seconds"][()]
        errors = f["history/relative_error"][()]
        return init_seconds, seconds, errors, float(f.attrs["relative_error"])


def error_within(init_iterations, errors, budget):
    """The error after the last iteration that fits in `budget` iterations of cost, the init's
    cost included (None if none does)."""
    done = int(np.floor(budget - init_iterations))
    return errors[min(done, len(errors)) - 1] if done >= 1 else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--digits", required=True)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        sparse = os.path.join(d, "counts.h5")
        shape, nnz = write_sparse_counts(sparse)
        print(f"sparse counts: {shape[0]} x {shape[1]}, {nnz} nonzeros "
              f"({100 * nnz / shape[0] / shape[1]:.1f}%)\n")
        scaled = os.path.join(d, "digits_255.h5")
        write_scaled_digits(options.digits, scaled)
        cases = [("digits", options.digits, "/train/images", 16, 200),
                 ("digits", options.digits, "/train/images", 64, 200),
                 ("digits / 255", scaled, "/train/images", 16, 200),
                 ("digits / 255", scaled, "/train/images", 64, 200),
                 ("sparse counts", sparse, "", 20, 200)]
        header = " | ".join(f"err @ {b}" for b in BUDGETS)
        print(f"| input | k | algorithm | init | init s | init cost (iterations) | {header} | "
              f"iterations run | final error |")
        print("| --- " * (9 + len(BUDGETS) - 1) + "|")
        for name, path, dataset, k, iterations in cases:
            for algorithm in ("mu", "hals"):
                for init in INITS:
                    init_seconds, seconds, errors, final = run(
                        options.dnmf, path, dataset, k, algorithm, init, iterations,
                        os.path.join(d, "out.h5"))
                    init_iterations = init_seconds / ((seconds[-1] - init_seconds) / len(errors))
                    cells = []
                    for budget in BUDGETS:
                        error = error_within(init_iterations, errors, budget)
                        cells.append("—" if error is None else f"{error:.5f}")
                    print(f"| {name} | {k} | {algorithm} | {init} | {init_seconds:.3f} | "
                          f"{init_iterations:.1f} | {' | '.join(cells)} | {len(errors)} | "
                          f"{final:.5f} |", flush=True)
        print("\nerr @ B: relative error after the last iteration within a cost of B iterations, "
              "the init's cost included; a run that stopped earlier (--tol 0 still stops when the "
              "error rises by rounding) keeps its last error.")


if __name__ == "__main__":
    main()
