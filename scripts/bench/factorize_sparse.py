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
path, loss, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(path) as f:
    g = f["X"]
    X = sp.csr_matrix((g["data"][()], g["indices"][()], g["indptr"][()]), shape=tuple(g.attrs["shape"]))
with threadpool_limits(threads):
    model = NMF(20, solver="mu", beta_loss=loss, init="random", max_iter=30, tol=0, random_state=0)
    start = time.perf_counter()
    model.fit_transform(X)
    seconds = time.perf_counter() - start
print(json.dumps({"seconds_per_iteration": seconds / model.n_iter_,
                  "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def write_matrix(path, rows, cols, density, seed=0):
    import h5py
    rng = np.random.default_rng(seed)
    m = sp.random(rows, cols, density=density, format="csr", random_state=seed,
                  data_rvs=lambda n: rng.integers(1, 10, n)).astype(np.float64)
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


def run_sklearn(path, loss, threads):
    result = subprocess.run([sys.executable, "-c", SKLEARN_CHILD, path, loss, str(threads)],
                            check=True, capture_output=True, text=True)
    r = json.loads(result.stdout)
    return r["seconds_per_iteration"], r["peak_bytes"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the rows (quick runs)")
    options = parser.parse_args()
    rows = int(100000 * options.scale)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sparse.h5ad")
        nnz = write_matrix(path, rows, 10000, 0.005)
        print(f"A: {rows} x 10000 CSR, {nnz} nonzeros; k = 20; 30 iterations; "
              f"load average {os.getloadavg()[0]:.2f}\n")
        print("| loss | cores | dnmf s/it | sklearn s/it | speed-up | dnmf peak MB | sklearn peak MB |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for loss, sk_loss in (("frobenius", "frobenius"), ("kl", "kullback-leibler")):
            for cores in (1, 2):
                ours, our_memory = run_dnmf(options.dnmf, cores, path, loss, d)
                theirs, their_memory = run_sklearn(path, sk_loss, cores)
                print(f"| {loss} | {cores} | {ours:.4f} | {theirs:.4f} | {theirs / ours:.1f}x | "
                      f"{our_memory / 1e6:.0f} | {their_memory / 1e6:.0f} |", flush=True)
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
