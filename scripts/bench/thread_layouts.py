#!/usr/bin/python3
"""The same workloads in several ranks x threads layouts of one build, in one run: what the
threads of a rank buy against ranks, and what the default layout gives a user who runs dnmf
without mpirun.

    scripts/bench/thread_layouts.py --dnmf build/src/dnmf [--rounds 3] [--iterations 20]

Layouts: 2x1 (mpirun -np 2 --bind-to core, one thread a rank), 1x2 (one process,
OMP_NUM_THREADS=2), 1x1 (one process, OMP_NUM_THREADS=1), default (one process, no mpirun and
no OMP_NUM_THREADS: the threads follow the affinity mask). Workloads those of compare_builds.py:
P1 (dense 20000 x 2000, k = 50) MU / HALS / BPP, the sparse 100000 x 10000 at 0.5 % (k = 20)
MU, KL MU, HALS and BPP, and train cnn and nmf-cnn on the digits. Each round runs every layout on every workload,
in a rotated order. Prints the medians and the ratios the threads-and-speed goals name:
1x2 / 2x1 (target >= 0.95) and default / 1x1 (target >= 1.8 on 2 cores); speed, above 1 faster;
and the P1 workloads' GFLOP/s against OpenBLAS DGEMM 2000³ on all CPUs measured in every round
(target for MU: >= 70 %), P1 MU and HALS in `--precision single` too, against SGEMM 2000³
(target: >= 70 %); with R and r-cran-rcppml, sparse HALS against RcppML's nmf at 1 and 2
threads (target: 10 times faster).
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_builds import (factorize_report, prepare, train_images_per_second,  # noqa: E402
                            workload_arguments)
from masked_cost import rcppml_elapsed, write_rcppml_input  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE_ENV = {key: value for key, value in os.environ.items()
            if key not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
BASE_ENV["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
LAYOUTS = {
    "2x1": (["mpirun", "--allow-run-as-root", "--bind-to", "core", "-np", "2"], {"OMP_NUM_THREADS": "1"}),
    "1x2": ([], {"OMP_NUM_THREADS": "2"}),
    "1x1": ([], {"OMP_NUM_THREADS": "1"}),
    "default": ([], {}),
}


def run(layout, dnmf, arguments):
    prefix, env = LAYOUTS[layout]
    subprocess.run(prefix + [dnmf] + arguments, check=True, env=dict(BASE_ENV, **env),
                   stdout=subprocess.DEVNULL)


def in_layout(layout):
    """compare_builds' runner for `layout`."""
    return lambda dnmf, arguments: run(layout, dnmf, arguments)


def rates(report):
    """(iterations/s, GFLOP/s) of a factorize run report."""
    return 1 / report["seconds_per_iteration"], report["gflops_per_second"]


def gemm_gflops(threads, dtype, size=2000):
    """OpenBLAS GEMM size³ through numpy (the same library and kernel variables as dnmf) in
    `dtype` ("float64": DGEMM, "float32": SGEMM), on `threads` threads, best of 5."""
    code = ("import numpy as np, time\n"
            f"a = np.random.default_rng(0).random(({size}, {size})).astype('{dtype}')\n"
            "b = a @ a; best = 1e9\n"
            "for _ in range(5):\n"
            "    t = time.perf_counter(); a @ a; best = min(best, time.perf_counter() - t)\n"
            f"print(2 * {size} ** 3 / best / 1e9)")
    env = dict(BASE_ENV, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return float(subprocess.run([sys.executable, "-c", code], check=True, env=env,
                                capture_output=True, text=True).stdout)


def round_ratio(results, name, faster, slower):
    """The median over the rounds of each round's ratio of two layouts' speeds on a workload: the
    two ran within a minute of each other, so a slow spell of the machine moves both."""
    return float(np.median(np.array(results[(name, faster)]) / results[(name, slower)]))


def factorize_measure(d, arguments):
    """A workload's measure: `dnmf factorize arguments` in a layout, its (iterations/s, GFLOP/s)."""
    return lambda layout, dnmf: rates(factorize_report(dnmf, d, arguments, in_layout(layout)))


def workloads(d, digits, iterations):
    """(name, unit, function of (layout, dnmf) giving (that unit, GFLOP/s or None): higher is
    better)."""
    basis = os.path.join(d, "basis.h5")
    items = []
    for name, unit, command, arguments in workload_arguments(d, iterations):
        if command == "factorize":
            measure = factorize_measure(d, arguments)
        else:
            measure = lambda layout, dnmf, m=arguments: (train_images_per_second(  # noqa: E731
                dnmf, d, digits, m, basis, in_layout(layout)), None)
        items.append((name, unit, measure))
        if name in ("P1 mu", "P1 hals"):  # and in single precision, against SGEMM
            items.append((name + " single", unit,
                          factorize_measure(d, arguments + ["--precision", "single"])))
    return items


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnmf", default=os.path.join(ROOT, "build", "src", "dnmf"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20, help="P1 iterations per run")
    parser.add_argument("--data", default=os.path.join(ROOT, "examples", "data", "digits.h5"))
    options = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "unknown CPU")
    print(f"CPU: {cpu}, {len(os.sched_getaffinity(0))} CPUs; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    names = list(LAYOUTS)
    with tempfile.TemporaryDirectory() as d:
        prepare(options.dnmf, d, options.data)
        items = workloads(d, options.data, options.iterations)
        rcppml_input = write_rcppml_input(d)
        rcppml = {1: [], 2: []}  # threads -> seconds per iteration, a value a round
        results, gflops, gemm = {}, {}, {"float64": [], "float32": []}
        cpus = len(os.sched_getaffinity(0))
        for r in range(options.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for dtype, rates_of_dtype in gemm.items():
                rates_of_dtype.append(gemm_gflops(cpus, dtype))
            for name, _, measure in items:
                for layout in order:
                    value, rate = measure(layout, options.dnmf)
                    results.setdefault((name, layout), []).append(value)
                    gflops.setdefault((name, layout), []).append(rate)
            for threads in rcppml if rcppml_input else ():
                # Per iteration without the setup: the difference of 30 and 5 iterations.
                rcppml[threads].append((rcppml_elapsed(rcppml_input, 30, threads=threads)
                                        - rcppml_elapsed(rcppml_input, 5, threads=threads)) / 25)
            print(f"round {r + 1} of {options.rounds} done", file=sys.stderr, flush=True)
    print(f"\nmedian of {options.rounds} rounds (higher is faster); the ratios are medians of "
          f"each round's ratio\n")
    print("| workload | unit | " + " | ".join(names) + " | 1x2 / 2x1 | default / 1x1 |")
    print("| --- | --- | " + " | ".join("---" for _ in names) + " | --- | --- |")
    for name, unit, _ in items:
        cells = [f"{float(np.median(results[(name, layout)])):.3g}" for layout in names]
        print(f"| {name} | {unit} | " + " | ".join(cells)
              + f" | {round_ratio(results, name, '1x2', '2x1'):.2f}"
              + f" | {round_ratio(results, name, 'default', '1x1'):.2f} |")
    for dtype, routine in (("float64", "DGEMM"), ("float32", "SGEMM")):
        reference = float(np.median(gemm[dtype]))
        print(f"\nGFLOP/s of the dense workloads (the report's) against OpenBLAS {routine} 2000³ "
              f"on {cpus} threads in the same rounds, {reference:.1f} GFLOP/s (median of "
              f"{', '.join(f'{g:.1f}' for g in gemm[dtype])}):\n")
        print("| workload | " + " | ".join(names) + " |")
        print("| --- | " + " | ".join("---" for _ in names) + " |")
        for name, _, _ in items:
            if not name.startswith("P1") or name.endswith("single") != (dtype == "float32"):
                continue
            cells = []
            for layout in names:
                rate = float(np.median(gflops[(name, layout)]))
                cells.append(f"{rate:.1f} ({rate / reference:.0%})")
            print(f"| {name} | " + " | ".join(cells) + " |")
    if rcppml_input:
        hals = {layout: 1 / float(np.median(results[("sparse HALS", layout)])) for layout in names}
        best = min(hals["2x1"], hals["1x2"], hals["default"])
        one, two = (float(np.median(rcppml[threads])) for threads in (1, 2))
        print("\nsparse HALS against RcppML 0.3.7 nmf (its alternating least squares, k = 20, "
              "seconds per iteration, RcppML's as (30 iterations - 5) / 25):\n")
        print("| cores | dnmf | RcppML | RcppML / dnmf (goal >= 10) |")
        print("| --- | --- | --- | --- |")
        print(f"| 1 | {hals['1x1']:.4f} (1x1) | {one:.4f} | {one / hals['1x1']:.1f} |")
        print(f"| 2 | {best:.4f} (best of 2x1, 1x2, default) | {two:.4f} | {two / best:.1f} |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
