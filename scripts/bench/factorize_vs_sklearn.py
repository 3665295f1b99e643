#!/usr/bin/python3
"""dnmf factorize against scikit-learn's NMF on the same dense matrix and the same starting point.

Generates A (default 20000 x 2000, planted rank 50 plus noise) with `dnmf generate`, draws one
initial W, H (scikit-learn's scaling), then runs a fixed number of iterations (tol = 0) of
  dnmf mu, hals, bpp at 1 and 2 ranks,  and  scikit-learn mu and cd at 1 and 2 threads,
and prints seconds per iteration, the ratio to scikit-learn's same algorithm at the same core
count (mu~mu, hals~cd; bpp against cd), the final relative error ||A - WH|| / ||A|| of each, peak
memory per rank against the rank's block of A, and this machine's DGEMM rate measured in the
same run, so the figures can be read against the hardware.

    /usr/bin/python3 scripts/bench/factorize_vs_sklearn.py [--rows 20000 --cols 2000 --rank 50]

With --compare-precision it runs dnmf only, --precision single against double on the same A and
start, alternating single and double run by run (--repeats times) so that load on a shared
machine falls on both alike, and prints s/iteration (the best of the repeats), the speed ratio,
peak memory per rank and the difference of the final relative errors.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNMF = os.path.join(ROOT, "build", "src", "dnmf")
# One rank per core, pinned, with one BLAS thread each (OMP_NUM_THREADS=1 below).
MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--bind-to", "core"]


def dgemm_gflops(threads, size=2000, repeats=3):
    a = np.random.default_rng(0).random((size, size))
    with threadpool_limits(threads):
        a @ a
        best = min(timed(lambda: a @ a) for _ in range(repeats))
    return 2 * size ** 3 / best / 1e9


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def run_dnmf(algorithm, ranks, data, init, iterations, directory, precision="double"):
    out = os.path.join(directory, f"dnmf-{algorithm}-{ranks}.h5")
    report = os.path.join(directory, f"dnmf-{algorithm}-{ranks}.json")
    command = [DNMF, "factorize", "--input", data, "--dataset", "/A", "--rank", str(init["k"]),
               "--algorithm", algorithm, "--max-iter", str(iterations), "--tol", "0",
               "--init", init["path"], "--output", out, "--report", report, "--force", "--quiet",
               "--precision", precision]
    if ranks > 1:
        command = MPIRUN + ["-np", str(ranks)] + command
    subprocess.run(command, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    with open(report) as f:
        r = json.load(f)
    return {"seconds_per_iteration": r["seconds_per_iteration"],
            "relative_error": r["relative_error"], "iterations": r["iterations"],
            "peak_memory": r["peak_memory_bytes_per_rank"]["max"],
            "gflops": r["gflops_per_second"],
            "bytes_per_iteration": r["bytes_per_iteration_per_rank"]["max"]}


def run_sklearn(solver, threads, A, W0, H0, iterations):
    from sklearn.decomposition import NMF
    model = NMF(n_components=W0.shape[1], solver=solver, beta_loss="frobenius", tol=0,
                max_iter=iterations, init="custom")
    with threadpool_limits(threads):
        start = time.perf_counter()
        W = model.fit_transform(A, W=W0.copy(), H=H0.copy())
        seconds = time.perf_counter() - start
    H = model.components_
    error = np.linalg.norm(A - W @ H) / np.linalg.norm(A)
    return {"seconds_per_iteration": seconds / model.n_iter_, "relative_error": error,
            "iterations": model.n_iter_}


def compare_precision(options, data, init, baseline, load, directory):
    runs = {}
    for repeat in range(options.repeats):
        for ranks in (1, 2):
            for algorithm in ("mu", "hals", "bpp"):
                for precision in ("single", "double") if repeat % 2 == 0 else ("double", "single"):
                    r = run_dnmf(algorithm, ranks, data, init, options.iterations, directory,
                                 precision)
                    runs.setdefault((algorithm, ranks, precision), []).append(r)
    print(f"A: {options.rows} x {options.cols} (float64 in the file), k = {options.rank}, "
          f"{options.iterations} iterations, tol = 0, same A and initial W, H; best of "
          f"{options.repeats} alternating runs")
    print(f"load average before the runs: {load:.2f}; dnmf process baseline (tiny input): "
          f"{baseline / 2**20:.1f} MiB")
    print()
    print("| algorithm | ranks | s/it double | s/it single | speed-up | peak MiB/rank double | "
          "peak MiB/rank single | memory ratio | rel. error double | single - double |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    for ranks in (1, 2):
        for algorithm in ("mu", "hals", "bpp"):
            best = {p: min(runs[(algorithm, ranks, p)], key=lambda r: r["seconds_per_iteration"])
                    for p in ("single", "double")}
            s, d = best["single"], best["double"]
            rows.append({"algorithm": algorithm, "ranks": ranks, "single": s, "double": d,
                         "all": {p: runs[(algorithm, ranks, p)] for p in ("single", "double")}})
            print(f"| {algorithm} | {ranks} | {d['seconds_per_iteration']:.4f} | "
                  f"{s['seconds_per_iteration']:.4f} | "
                  f"{d['seconds_per_iteration'] / s['seconds_per_iteration']:.2f}x | "
                  f"{d['peak_memory'] / 2**20:.0f} | {s['peak_memory'] / 2**20:.0f} | "
                  f"{s['peak_memory'] / d['peak_memory']:.2f} | {d['relative_error']:.7f} | "
                  f"{s['relative_error'] - d['relative_error']:+.1e} |")
    if options.json:
        with open(options.json, "w") as f:
            json.dump({"load_average": load, "baseline": baseline, "results": rows}, f, indent=1)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--cols", type=int, default=2000)
    parser.add_argument("--rank", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--compare-precision", action="store_true",
                        help="dnmf --precision single against double only (no scikit-learn)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs of each configuration with --compare-precision")
    options = parser.parse_args()
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "A.h5")
        subprocess.run([DNMF, "generate", "--rows", str(options.rows), "--cols", str(options.cols),
                        "--rank", str(options.rank), "--noise", "0.5", "--seed", "7",
                        "--output", data, "--quiet"], check=True)
        with h5py.File(data, "r") as f:
            A = f["A"][()]
        # One starting point for everybody, scaled like scikit-learn's init='random'.
        rng = np.random.default_rng(11)
        scale = np.sqrt(A.mean() / options.rank)
        W0 = np.abs(scale * rng.standard_normal((options.rows, options.rank)))
        H0 = np.abs(scale * rng.standard_normal((options.rank, options.cols)))
        init = {"path": os.path.join(d, "init.h5"), "k": options.rank}
        with h5py.File(init["path"], "w") as f:
            f["W"], f["H"] = W0, H0

        # The memory a dnmf process has before any data: libraries, MPI, OpenBLAS buffers.
        tiny = os.path.join(d, "tiny.h5")
        subprocess.run([DNMF, "generate", "--rows", "20", "--cols", "10", "--rank", "2",
                        "--output", tiny, "--quiet"], check=True)
        baseline = run_dnmf("mu", 1, tiny, {"path": "random", "k": 2}, 2, d)["peak_memory"]

        if options.compare_precision:
            return compare_precision(options, data, init, baseline, load, d)

        blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
        kernel = ", ".join(f"{p['internal_api']} {p.get('version')} {p.get('architecture')}" for p in blas)
        gemm = {threads: dgemm_gflops(threads) for threads in (1, 2)}
        results = {}
        for cores in (1, 2):
            for algorithm in ("mu", "hals", "bpp"):
                results[("dnmf", algorithm, cores)] = run_dnmf(algorithm, cores, data, init,
                                                               options.iterations, d)
            for solver in ("mu", "cd"):
                results[("sklearn", solver, cores)] = run_sklearn(solver, cores, A, W0, H0,
                                                                  options.iterations)

    block_bytes = {p: 8 * options.rows * options.cols / p for p in (1, 2)}
    print(f"A: {options.rows} x {options.cols}, k = {options.rank}, {options.iterations} iterations, "
          f"tol = 0, same A and same initial W, H for all")
    print(f"numpy BLAS: {kernel}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"DGEMM 2000^3 measured now: {gemm[1]:.1f} GFLOP/s on 1 thread, {gemm[2]:.1f} on 2")
    print(f"load average before the runs: {load:.2f}; dnmf process baseline (tiny input): "
          f"{baseline / 2**20:.1f} MiB")
    print()
    print("| tool | algorithm | cores | s/iteration | vs scikit-learn | relative error | GFLOP/s "
          "| peak memory / block of A | (peak - baseline) / block |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    reference_solver = {"mu": "mu", "hals": "cd", "bpp": "cd", "cd": "cd"}
    for cores in (1, 2):
        for (tool, algorithm, c), r in results.items():
            if c != cores:
                continue
            reference = results[("sklearn", reference_solver[algorithm], cores)]
            ratio = reference["seconds_per_iteration"] / r["seconds_per_iteration"]
            memory = (f"{r['peak_memory'] / block_bytes[cores]:.2f} | "
                      f"{(r['peak_memory'] - baseline) / block_bytes[cores]:.2f}"
                      if "peak_memory" in r else " | ")
            gflops = f"{r['gflops']:.1f}" if "gflops" in r else ""
            print(f"| {tool} | {algorithm} | {cores} | {r['seconds_per_iteration']:.4f} | "
                  f"{ratio:.2f}x faster than sklearn {reference_solver[algorithm]} | "
                  f"{r['relative_error']:.6f} | {gflops} | {memory} |")
    if options.json:
        with open(options.json, "w") as f:
            json.dump({"gemm": gemm, "kernel": kernel, "load_average": load, "baseline": baseline,
                       "results": [dict(zip(("tool", "algorithm", "cores"), key), **value)
                                   for key, value in results.items()]}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
