#!/usr/bin/python3
"""dnmf against PLANC's dense_distnmf (Kannan, Ballard & Park, "MPI-FAUN", 2018), the distributed
NMF anchor, on P1 (dense 20000 x 2000, planted rank 50 plus noise, k = 50) at 2 ranks pinned one
per core, one thread each: seconds per iteration of MU, HALS and ANLS-BPP.

    scripts/bench/planc_compare.py --dnmf build/src/dnmf --planc PATH/dense_distnmf \\
        [--rounds 3] [--iterations 30]

PLANC is built from its public source outside this repository, e.g. with Debian's
libarmadillo-dev and CUDA discovery off:

    cmake PLANC_SOURCE -DCMAKE_BUILD_TYPE=Release -DCMAKE_WITH_BARRIER_TIMING:BOOL=OFF \\
        -DCMAKE_DISABLE_FIND_PACKAGE_CUDA=ON && make dense_distnmf

Both read the same matrix: dnmf the HDF5 file, PLANC a column-major binary copy of it, on a
2 x 1 grid (each rank a block of rows, as dnmf splits them). PLANC draws its own start (it reads
none), dnmf starts from compare_builds' fixed one; MU and HALS cost the same per iteration from
any start, BPP's pivoting does not quite. dnmf's time is the run report's seconds per iteration,
PLANC's the "NMF took" seconds over the iterations (neither computes the error each iteration:
PLANC runs with -e 0). Each round runs both on every algorithm, in alternating order. Prints the
medians and dnmf / PLANC (the threads-and-speed goal: <= 0.7).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_builds import ENV, MPIRUN, factorize_report, prepare_p1  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALGORITHMS = {"mu": 0, "hals": 1, "bpp": 2}  # PLANC's -a codes


def planc_seconds_per_iteration(planc, matrix, algorithm, iterations):
    result = subprocess.run(
        MPIRUN + [planc, "-a", str(ALGORITHMS[algorithm]), "-k", "50", "-i", matrix,
                  "-d", "20000 2000", "-t", str(iterations), "-p", "2 1", "-e", "0"],
        check=True, env=ENV, capture_output=True, text=True)
    took = re.search(r"NMF took ([0-9.eE+-]+) secs", result.stdout)
    if took is None:
        sys.exit("PLANC printed no 'NMF took' line:\n" + result.stdout[-2000:] + result.stderr)
    return float(took.group(1)) / iterations


def dnmf_seconds_per_iteration(dnmf, d, algorithm, iterations):
    arguments = ["--input", os.path.join(d, "p1.h5"), "--dataset", "/A", "--rank", "50",
                 "--algorithm", algorithm, "--init", os.path.join(d, "p1-init.h5"),
                 "--max-iter", str(iterations)]
    return factorize_report(dnmf, d, arguments)["seconds_per_iteration"]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnmf", default=os.path.join(ROOT, "build", "src", "dnmf"))
    parser.add_argument("--planc", required=True, help="PLANC's dense_distnmf binary")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as d:
        prepare_p1(args.dnmf, d)
        matrix = os.path.join(d, "p1.bin")
        with h5py.File(os.path.join(d, "p1.h5"), "r") as f:
            np.asarray(f["A"][()], dtype=np.float64).T.tofile(matrix)  # column-major A
        times = {(tool, a): [] for tool in ("dnmf", "PLANC") for a in ALGORITHMS}
        for round_index in range(args.rounds):
            for algorithm in ALGORITHMS:
                order = ["dnmf", "PLANC"] if round_index % 2 == 0 else ["PLANC", "dnmf"]
                for tool in order:
                    seconds = (dnmf_seconds_per_iteration(args.dnmf, d, algorithm, args.iterations)
                               if tool == "dnmf" else
                               planc_seconds_per_iteration(args.planc, matrix, algorithm,
                                                           args.iterations))
                    times[(tool, algorithm)].append(seconds)
            print(f"round {round_index + 1} of {args.rounds} done", flush=True)

    print(f"\nmedian of {args.rounds} rounds, seconds per iteration, 2 ranks x 1 thread\n")
    print("| algorithm | dnmf | PLANC | dnmf / PLANC (goal <= 0.7) |")
    print("| --- | --- | --- | --- |")
    for algorithm in ALGORITHMS:
        ours = float(np.median(times[("dnmf", algorithm)]))
        theirs = float(np.median(times[("PLANC", algorithm)]))
        print(f"| {algorithm} | {ours:.4f} | {theirs:.4f} | {ours / theirs:.2f} |")


if __name__ == "__main__":
    main()
