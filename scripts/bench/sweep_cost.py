#!/usr/bin/python3
"""What a sweep costs, in the same run (BENCHMARKS.md "dnmf sweep"):

1. `dnmf sweep` of R replicates at one k against R separate `dnmf factorize --seed s+r` runs on
   the same cores (2 ranks pinned, one BLAS thread each; wall seconds of the whole commands, so
   the sweep's one read of A and one start of the job count for it), on a dense matrix (planted
   rank plus centred noise) and on the sparse benchmark (100000 x 10000 CSR at 0.5 %, counts
   1..9, as factorize_sparse.py writes it), at k = 10 and 30; HALS, --max-iter fixed (tol 0),
   --holdout 0.05; the sweep with one group of 2 ranks (the separate runs' layout) and with 2
   groups of 1 (no communication inside a fit), unbatched and with --batch R (one group) or
   R/2 (two groups).
2. A cNMF-style loop (Kotliar et al. 2019: scikit-learn NMF fits one after another, then the
   consensus: unit rows, local density over R/3 neighbours, k-means, medians, W refitted) against
   `dnmf sweep` over the same ks and replicates, both without held-out entries, both running the
   same fixed number of coordinate-descent iterations (scikit-learn's solver='cd', dnmf's HALS:
   the same update), scikit-learn on 2 BLAS threads with OPENBLAS_CORETYPE and
   OPENBLAS_L2_SIZE unset (the kernel it picks is printed), dnmf on 2 ranks.

    /usr/bin/python3 scripts/bench/sweep_cost.py --dnmf build/src/dnmf [--rows 20000 --cols 2000
        --replicates 10 --cnmf-ks 5:12 --cnmf-replicates 4 --iterations 50 --skip-sparse]

Prints seconds and ratios; nothing here is a test."""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

MPIRUN = ["mpirun", "-np", "2", "--oversubscribe", "--allow-run-as-root", "--bind-to", "core"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def wall(command, env=ENV):
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def separate_against_sweep(dnmf, data, dataset, k, replicates, iterations, d):
    fit = ["--input", data, "--dataset", dataset, "--algorithm", "hals", "--max-iter",
           str(iterations), "--tol", "0", "--holdout", "0.05", "--quiet", "--force"]
    separate = sum(wall(MPIRUN + [dnmf, "factorize", "--rank", str(k), "--seed", str(1 + r),
                                  "--output", os.path.join(d, f"single-{r}.h5")] + fit)
                   for r in range(replicates))
    line = f"{dataset} k = {k:3d}, {replicates} replicates: {replicates} factorize runs " \
           f"{separate:8.2f} s"
    for groups, batch in ((1, 1), (2, 1), (1, replicates), (2, replicates // 2)):
        seconds = wall(MPIRUN + [dnmf, "sweep", "--rank", str(k), "--replicates",
                                 str(replicates), "--seed", "1", "--groups", str(groups),
                                 "--batch", str(batch), "--output", os.path.join(d, "sweep.h5")]
                       + fit)
        line += f"; --groups {groups} --batch {batch} {seconds:.2f} s ({seconds / separate:.2f})"
    print(line, flush=True)


CNMF = r"""
import sys, time, json
import h5py, numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import NMF, non_negative_factorization
from threadpoolctl import threadpool_info, threadpool_limits

path, ks, replicates, iterations = sys.argv[1], eval(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
A = h5py.File(path, "r")["A"][()]
with threadpool_limits(2):
    start = time.perf_counter()
    errors = {}
    for k in ks:
        spectra = []
        for r in range(replicates):
            model = NMF(k, init="random", solver="cd", max_iter=iterations, tol=0,
                        random_state=1 + r)
            model.fit(A)
            spectra.append(model.components_)
        pooled = np.vstack(spectra)
        unit = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        distance = np.linalg.norm(unit[:, None, :] - unit[None, :, :], axis=2)
        neighbours = max(1, replicates // 3)
        density = np.sort(distance, axis=1)[:, 1:neighbours + 1].mean(axis=1)
        kept = unit[density <= 0.5]
        labels = KMeans(k, n_init=10, random_state=1).fit(kept).labels_
        medians = np.array([np.median(kept[labels == c], axis=0) for c in range(k)])
        medians /= np.linalg.norm(medians, axis=1, keepdims=True)
        W, _, _ = non_negative_factorization(A, H=medians, n_components=k, update_H=False,
                                             solver="cd", max_iter=iterations)
        errors[k] = float(np.linalg.norm(A - W @ medians) / np.linalg.norm(A))
    seconds = time.perf_counter() - start
blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()]
print(json.dumps({"seconds": seconds, "errors": errors, "blas": blas}))
"""


def cnmf_against_sweep(dnmf, data, ks, replicates, iterations, d):
    import json
    env = {key: value for key, value in os.environ.items()
           if key not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    first, last = ks
    listed = f"range({first}, {last + 1})"
    result = subprocess.run(["/usr/bin/python3", "-c", CNMF, data, listed, str(replicates),
                             str(iterations)], check=True, env=env, capture_output=True,
                            text=True)
    cnmf = json.loads(result.stdout.strip().splitlines()[-1])
    out = os.path.join(d, "cnmf-sweep.h5")
    fits = (last - first + 1) * replicates
    print(f"cNMF-style loop (scikit-learn {cnmf['blas']}): k = {first}..{last}, {replicates} "
          f"replicates ({fits} fits of {iterations} iterations): {cnmf['seconds']:.1f} s",
          flush=True)
    for groups, batch in ((2, 1), (1, replicates), (2, max(1, replicates // 2))):
        sweep = wall(MPIRUN + [dnmf, "sweep", "--input", data, "--dataset", "/A", "--rank",
                               f"{first}:{last}", "--replicates", str(replicates), "--holdout",
                               "0", "--algorithm", "hals", "--max-iter", str(iterations), "--tol",
                               "0", "--seed", "1", "--groups", str(groups), "--batch", str(batch),
                               "--output", out, "--quiet", "--force"])
        print(f"  dnmf sweep --groups {groups} --batch {batch}: {sweep:.1f} s; cNMF-style / dnmf "
              f"= {cnmf['seconds'] / sweep:.1f}", flush=True)
    with h5py.File(out, "r") as f:
        dnmf_errors = dict(zip(f["summary/k"][()], f["summary/consensus_error"][()]))
    for k in range(first, last + 1):
        print(f"  k = {k:2d}: consensus relative error, scikit-learn {cnmf['errors'][str(k)]:.5f}, "
              f"dnmf {dnmf_errors[k]:.5f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnmf", default="build/src/dnmf")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--cols", type=int, default=2000)
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=50,
                        help="per fit in part 1 (part 2 uses --cnmf-iterations)")
    parser.add_argument("--cnmf-ks", default="5:12")
    parser.add_argument("--cnmf-replicates", type=int, default=4)
    parser.add_argument("--cnmf-iterations", type=int, default=200)
    parser.add_argument("--skip-separate", action="store_true")
    parser.add_argument("--skip-sparse", action="store_true")
    parser.add_argument("--skip-cnmf", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "planted.h5")
        subprocess.run([options.dnmf, "generate", "--rows", str(options.rows), "--cols",
                        str(options.cols), "--rank", "8", "--noise", "0.5", "--noise-model",
                        "centered", "--seed", "1", "--output", data, "--quiet"], check=True)
        if not options.skip_separate:
            for k in (10, 30):
                separate_against_sweep(options.dnmf, data, "/A", k, options.replicates,
                                       options.iterations, d)
        if not options.skip_sparse:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from factorize_sparse import write_matrix
            sparse = os.path.join(d, "sparse.h5")
            write_matrix(sparse, 100000, 10000, 0.005)
            for k in (10, 30):
                separate_against_sweep(options.dnmf, sparse, "/X", k, options.replicates,
                                       options.iterations, d)
        if not options.skip_cnmf:
            first, last = (int(x) for x in options.cnmf_ks.split(":"))
            cnmf_against_sweep(options.dnmf, data, (first, last), options.cnmf_replicates,
                               options.cnmf_iterations, d)


if __name__ == "__main__":
    sys.exit(main())
