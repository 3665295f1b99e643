#!/usr/bin/python3
"""dnmf factorize on a sparse matrix against scikit-learn (issue 3, section 7).

A random 100000 x 10000 CSR matrix of density 0.5% (counts 1..9), k = 20, 30 iterations of
Frobenius MU and KL MU; dnmf at 1 and 2 ranks, scikit-learn's NMF(solver='mu') at 1 and 2
threads. Prints a Markdown table: seconds per iteration, the ratio, and peak memory (dnmf: the
largest rank's VmHWM from its run report, times the rank count; scikit-learn: the child
process's maximum resident set). Usage: factorize_sparse.py --dnmf build/src/dnmf [--scale 1]"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

SKLEARN_CHILD = r"""
import sys, time, resource, json
import numpy as np, scipy.sparse as sp, h5py
from threadpoolctl import threadpool_limits
from sklearn.decomposition import NMF
path, loss, threads, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with h5py.File(path) as f:
    g = f["X"]
    X = sp.csr_matrix((g["data"][()], g["indices"][()], g["indptr"][()]), shape=tuple(g.attrs["shape"]))
with threadpool_limits(threads):
    model = NMF(20, solver="mu", beta_loss=loss, init="random", max_iter=iterations, tol=0, random_state=0)
    start = time.perf_counter()
    model.fit_transform(X)
    seconds = time.perf_counter() - start
print(json.dumps({"seconds_per_iteration": seconds / model.n_iter_,
                  "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def write_matrix(path, rows, cols, density, seed=0):
    """A uniformly random set of density * rows * cols positions (drawn with replacement, then
    topped up: far faster than scipy.sparse.random at 10^9 cells) holding counts 1..9."""
    import h5py
    rng = np.random.default_rng(seed)
    nnz = int(round(density * rows * cols))
    flat = np.unique(rng.integers(0, rows * cols, nnz))
    while flat.size < nnz:
        flat = np.unique(np.concatenate([flat, rng.integers(0, rows * cols, nnz - flat.size)]))
    data = rng.integers(1, 10, nnz).astype(np.float64)
    m = sp.csr_matrix((data, (flat // cols, flat % cols)), shape=(rows, cols))
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["shape"] = np.array(m.shape)
        g["data"], g["indices"], g["indptr"] = m.data, m.indices, m.indptr
    return m.nnz


def run_dnmf(dnmf, ranks, path, loss, d):
    out, report = os.path.join(d, "out.h5"), os.path.join(d, "report.json")
    argv = [dnmf, "factorize", "--input", path, "--rank", "20", "--algorithm", "mu", "--loss", loss,
            "--max-iter", "30", "--tol", "0", "--output", out, "--report", report, "--force",
            "--progress", "none", "--quiet"]
    if ranks > 1:
        argv = ["mpirun", "-np", str(ranks), "--oversubscribe", "--allow-run-as-root"] + argv
    subprocess.run(argv, check=True, env=dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1"))
    with open(report) as f:
        r = json.load(f)
    return r["seconds_per_iteration"], r["peak_memory_bytes_per_rank"]["max"] * ranks


def run_sklearn(path, loss, threads, iterations):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    result = subprocess.run([sys.executable, "-c", SKLEARN_CHILD, path, loss, str(threads),
                             str(iterations)], check=True, capture_output=True, text=True, env=env)
    r = json.loads(result.stdout)
    return r["seconds_per_iteration"], r["peak_bytes"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the rows (quick runs)")
    parser.add_argument("--sklearn-kl-iterations", type=int, default=30,
                        help="scikit-learn's KL MU iterations (it is slow; dnmf always runs 30)")
    options = parser.parse_args()
    rows = int(100000 * options.scale)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sparse.h5ad")
        nnz = write_matrix(path, rows, 10000, 0.005)
        print(f"A: {rows} x 10000 CSR, {nnz} nonzeros; k = 20; 30 iterations; "
              f"scikit-learn KL: {options.sklearn_kl_iterations} iterations; "
              f"load average {os.getloadavg()[0]:.2f}\n")
        print("| loss | cores | dnmf s/it | sklearn s/it | speed-up | dnmf peak MB | sklearn peak MB |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for loss, sk_loss in (("frobenius", "frobenius"), ("kl", "kullback-leibler")):
            for cores in (1, 2):
                ours, our_memory = run_dnmf(options.dnmf, cores, path, loss, d)
                iterations = options.sklearn_kl_iterations if loss == "kl" else 30
                theirs, their_memory = run_sklearn(path, sk_loss, cores, iterations)
                print(f"| {loss} | {cores} | {ours:.4f} | {theirs:.4f} | {theirs / ours:.1f}x | "
                      f"{our_memory / 1e6:.0f} | {their_memory / 1e6:.0f} |", flush=True)
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
