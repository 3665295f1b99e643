#!/usr/bin/python3
"""What leaving entries out costs: seconds per iteration with --holdout 0.1 against the plain
iteration, in the same run (README "Missing values and held-out entries").

    scripts/bench/masked_cost.py --dnmf build/src/dnmf [--rounds 3]

Workloads, each at 2 ranks (one per core, pinned, one BLAS thread each), tol 0:
  P1: dense 20000 x 2000 (planted rank 50 plus noise), k = 50, MU / HALS / BPP, 10 iterations
      (goal: --holdout 0.1 at most 2 times the plain iteration);
  sparse: 100000 x 10000 CSR at 0.5 % (factorize_sparse.py's matrix), k = 20, MU / HALS / BPP /
      KL MU, 30 iterations (goal: at most 3 times).
Every round runs each workload plain and held out, in an order that alternates, so load on a
shared machine falls on both alike; prints the median over the rounds. With R and Debian's
r-cran-rcppml, also RcppML 0.3.7's nmf on the sparse matrix at 2 threads, plain and with
mask_zeros = TRUE, the only mask it has (zeros missing: another problem than a held-out set,
which it cannot do), for scale."""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_builds import ENV, factorize_seconds, run  # noqa: E402
from factorize_sparse import write_matrix  # noqa: E402

# One variant a process: mask_zeros ran for minutes on the full matrix and crashed ("free():
# invalid next size") on a 20000 x 2000 one in RcppML 0.3.7 on Debian 12.
RCPPML = r"""
suppressMessages({library(Matrix); library(RcppML)})
args <- commandArgs(trailingOnly = TRUE)
A <- as(readMM(args[1]), "dgCMatrix")
iterations <- as.integer(args[2])
setRcppMLthreads(as.integer(args[4]))
seconds <- system.time(nmf(A, 20, tol = 1e-12, maxit = iterations, verbose = FALSE, seed = 1,
                           mask_zeros = args[3] == "mask_zeros"))[["elapsed"]]
cat(sprintf("%.6f\n", seconds))
"""


def workloads(d):
    """(name, goal, arguments) of every workload."""
    dense, sparse = os.path.join(d, "p1.h5"), os.path.join(d, "sparse.h5ad")
    items = []
    for algorithm in ("mu", "hals", "bpp"):
        items.append((f"P1 {algorithm}", 2, ["--input", dense, "--dataset", "/A", "--rank", "50",
                                             "--algorithm", algorithm, "--seed", "1",
                                             "--max-iter", "10"]))
    for name, extra in (("MU", ["--algorithm", "mu"]), ("HALS", ["--algorithm", "hals"]),
                        ("BPP", ["--algorithm", "bpp"]),
                        ("KL MU", ["--algorithm", "mu", "--loss", "kl"])):
        items.append((f"sparse {name}", 3, ["--input", sparse, "--rank", "20", "--seed", "1",
                                            "--max-iter", "30"] + extra))
    return items


def write_rcppml_input(d):
    """The sparse matrix of `d`/sparse.h5ad as Matrix Market and the R script that times
    RcppML's nmf on it; returns (matrix path, script path), or None without R."""
    if shutil.which("Rscript") is None:
        return None
    import h5py
    import scipy.io
    import scipy.sparse as sp
    with h5py.File(os.path.join(d, "sparse.h5ad"), "r") as f:
        g = f["X"]
        X = sp.csr_matrix((g["data"][()], g["indices"][()], g["indptr"][()]),
                          shape=tuple(g.attrs["shape"]))
    path = os.path.join(d, "sparse.mtx")
    scipy.io.mmwrite(path, X.tocoo())
    script = os.path.join(d, "rcppml.R")
    with open(script, "w") as f:
        f.write(RCPPML)
    return path, script


def rcppml_elapsed(paths, iterations, variant="plain", threads=2, timeout=600):
    """Seconds RcppML 0.3.7's nmf (k = 20) takes for `iterations` iterations, reading and
    converting the matrix excluded; raises RuntimeError (its last line) or TimeoutExpired."""
    path, script = paths
    result = subprocess.run(["Rscript", script, path, str(iterations), variant, str(threads)],
                            capture_output=True, text=True, env=ENV, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1][:80])
    return float(result.stdout.split()[-1])


def rcppml_seconds(d, iterations):
    """RcppML's seconds per iteration on the sparse matrix at 2 threads, plain and with
    mask_zeros (a few iterations, at most 10 minutes), or what went wrong; {} without R."""
    paths = write_rcppml_input(d)
    if paths is None:
        return {}
    measured = {}
    for variant, count in (("plain", iterations), ("mask_zeros", 2)):
        try:
            measured[variant] = f"{rcppml_elapsed(paths, count, variant) / count:.4f} s per iteration"
        except RuntimeError as error:
            measured[variant] = f"failed: {error}"
        except subprocess.TimeoutExpired:
            measured[variant] = f"more than 600 s for {count} iterations"
    return measured


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--holdout", default="0.1")
    options = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "unknown CPU")
    print(f"CPU: {cpu}; load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        run(options.dnmf, ["generate", "--rows", "20000", "--cols", "2000", "--rank", "50",
                           "--noise", "0.5", "--seed", "7", "--output", os.path.join(d, "p1.h5"),
                           "--quiet"])
        write_matrix(os.path.join(d, "sparse.h5ad"), 100000, 10000, 0.005)
        items = workloads(d)
        variants = (("plain", []), ("held out", ["--holdout", options.holdout]))
        seconds = {}
        for r in range(options.rounds):
            order = variants if r % 2 == 0 else variants[::-1]
            for name, _, arguments in items:
                for variant, extra in order:
                    seconds.setdefault((name, variant), []).append(
                        factorize_seconds(options.dnmf, d, arguments + extra))
            print(f"round {r + 1} of {options.rounds} done", file=sys.stderr, flush=True)
        rcppml = rcppml_seconds(d, 30)
    print(f"\nmedian of {options.rounds} rounds, seconds per iteration at 2 ranks\n")
    print(f"| workload | plain | --holdout {options.holdout} | ratio | goal |")
    print("| --- | --- | --- | --- | --- |")
    for name, goal, _ in items:
        plain = np.median(seconds[(name, "plain")])
        held = np.median(seconds[(name, "held out")])
        print(f"| {name} | {plain:.4f} | {held:.4f} | {held / plain:.2f} | ≤ {goal} |")
    if rcppml:
        print(f"\nRcppML 0.3.7 nmf, sparse, k = 20, 2 threads: plain {rcppml['plain']}; "
              f"mask_zeros = TRUE {rcppml['mask_zeros']}")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
