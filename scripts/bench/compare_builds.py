#!/usr/bin/python3
"""The same workloads through several builds of dnmf, in one run: what an instruction-set
choice (-march=native against a portable x86-64-v2 or -v3 build) costs.

    scripts/bench/compare_builds.py --build native=build/src/dnmf \\
        --build x86-64-v3=build-v3/src/dnmf --build x86-64-v2=build-v2/src/dnmf [--rounds 3]

Workloads, each at 2 ranks (one per core, pinned, one BLAS thread each):
  P1: dense 20000 x 2000 (planted rank 50 plus noise), k = 50, MU / HALS / BPP, from one start,
      --iterations iterations, tol 0: seconds per iteration from the run report;
  sparse: 100000 x 10000 CSR at 0.5 % (factorize_sparse.py's matrix), k = 20, Frobenius MU,
      KL MU, HALS and BPP, 30 iterations;
  train: the cnn and nmf-cnn models on the shipped digits, 4 epochs, batch 64: images/s of the
      epochs after the first (an epoch takes about 0.4 s at 2 cores: one alone moved by +-10 %).
Every round runs every build on every workload, the builds in a rotated order, so load on a
shared machine falls on all alike. Prints the median over the rounds and each build's speed
relative to the first one named (above 1: faster).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from factorize_sparse import write_matrix  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--bind-to", "core", "-np", "2"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def run(dnmf, arguments):
    subprocess.run(MPIRUN + [dnmf] + arguments, check=True, env=ENV, stdout=subprocess.DEVNULL)


def factorize_report(dnmf, d, arguments, run=run):
    """The run report of `dnmf factorize arguments`; `run(dnmf, arguments)` starts it (here: 2
    ranks pinned; thread_layouts.py passes its layouts')."""
    report = os.path.join(d, "report.json")
    run(dnmf, ["factorize"] + arguments + ["--output", os.path.join(d, "out.h5"), "--report",
                                           report, "--force", "--quiet", "--tol", "0"])
    with open(report) as f:
        return json.load(f)


def factorize_seconds(dnmf, d, arguments, run=run):
    """Seconds per iteration of `dnmf factorize arguments`, from its run report."""
    return factorize_report(dnmf, d, arguments, run)["seconds_per_iteration"]


def train_images_per_second(dnmf, d, data, model, basis, run=run):
    out = os.path.join(d, "model.h5")
    arguments = ["train", "--data", data, "--model", model, "--epochs", "4", "--batch-size", "64",
                 "--seed", "0", "--output", out, "--force", "--quiet"]
    if model != "cnn":
        arguments += ["--nmf-basis", basis]
    run(dnmf, arguments)
    with h5py.File(out, "r") as f:
        return float(np.mean(f["history/images_per_second"][1:]))


def workload_arguments(d, iterations):
    """(name, unit, command, arguments): the workloads of the runs here and of thread_layouts.py;
    command is "factorize" (measured in iterations/s) or "train" (images/s, the model named)."""
    dense, init, sparse = (os.path.join(d, name) for name in ("p1.h5", "p1-init.h5", "sparse.h5ad"))
    items = []
    for algorithm in ("mu", "hals", "bpp"):
        items.append((f"P1 {algorithm}", "it/s", "factorize",
                      ["--input", dense, "--dataset", "/A", "--rank", "50", "--algorithm",
                       algorithm, "--init", init, "--max-iter", str(iterations)]))
    for name, extra in (("MU", ["--algorithm", "mu"]), ("KL MU", ["--algorithm", "mu", "--loss", "kl"]),
                        ("HALS", ["--algorithm", "hals"]), ("BPP", ["--algorithm", "bpp"])):
        items.append((f"sparse {name}", "it/s", "factorize",
                      ["--input", sparse, "--rank", "20", "--max-iter", "30"] + extra))
    for model in ("cnn", "nmf-cnn"):
        items.append((f"train {model}", "images/s", "train", model))
    return items


def workloads(d, digits, iterations):
    """(name, unit, function of a dnmf binary giving that unit: higher is better)."""
    basis = os.path.join(d, "basis.h5")
    items = []
    for name, unit, command, arguments in workload_arguments(d, iterations):
        if command == "factorize":
            measure = lambda dnmf, a=arguments: 1 / factorize_seconds(dnmf, d, a)  # noqa: E731
        else:
            measure = lambda dnmf, m=arguments: train_images_per_second(dnmf, d, digits, m, basis)  # noqa: E731
        items.append((name, unit, measure))
    return items


def prepare_p1(dnmf, d):
    """P1 (d/p1.h5, dataset /A) and its start (d/p1-init.h5, /W and /H)."""
    dense = os.path.join(d, "p1.h5")
    run(dnmf, ["generate", "--rows", "20000", "--cols", "2000", "--rank", "50", "--noise", "0.5",
               "--seed", "7", "--output", dense, "--quiet"])
    with h5py.File(dense, "r") as f:
        mean = float(np.mean(f["A"][()]))
    rng = np.random.default_rng(11)
    scale = np.sqrt(mean / 50)
    with h5py.File(os.path.join(d, "p1-init.h5"), "w") as f:
        f["W"] = np.abs(scale * rng.standard_normal((20000, 50)))
        f["H"] = np.abs(scale * rng.standard_normal((50, 2000)))


def prepare(dnmf, d, digits):
    """The inputs, made once with the first build: P1 and its start, the sparse matrix, a basis."""
    prepare_p1(dnmf, d)
    write_matrix(os.path.join(d, "sparse.h5ad"), 100000, 10000, 0.005)
    run(dnmf, ["factorize", "--input", digits, "--dataset", "/train/images", "--rank", "64",
               "--max-iter", "100", "--seed", "1", "--output", os.path.join(d, "basis.h5"),
               "--force", "--quiet"])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="append", required=True, metavar="NAME=PATH",
                        help="a build's dnmf binary; the first is the reference")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20, help="P1 iterations per run")
    parser.add_argument("--data", default=os.path.join(ROOT, "examples", "data", "digits.h5"))
    options = parser.parse_args()
    builds = [tuple(b.split("=", 1)) for b in options.build]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "unknown CPU")
    print(f"CPU: {cpu}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        prepare(builds[0][1], d, options.data)
        items = workloads(d, options.data, options.iterations)
        results = {}  # (workload, build) -> values
        for r in range(options.rounds):
            order = builds[r % len(builds):] + builds[:r % len(builds)]
            for name, _, measure in items:
                for build, dnmf in order:
                    results.setdefault((name, build), []).append(measure(dnmf))
            print(f"round {r + 1} of {options.rounds} done", file=sys.stderr, flush=True)
    names = [b for b, _ in builds]
    print(f"\nmedian of {options.rounds} rounds; in brackets: speed relative to {names[0]}\n")
    print("| workload | unit | " + " | ".join(names) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in names) + " |")
    for name, unit, _ in items:
        reference = np.median(results[(name, names[0])])
        cells = []
        for build in names:
            value = np.median(results[(name, build)])
            cells.append(f"{value:.3g}" + ("" if build == names[0] else f" ({value / reference:.2f})"))
        print(f"| {name} | {unit} | " + " | ".join(cells) + " |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
