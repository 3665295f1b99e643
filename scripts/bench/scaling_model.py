#!/usr/bin/python3
"""The cost of one Frobenius iteration (MU or HALS) on paper, for dnmf's 1-D row partition and for
PLANC's 2-D grid, from 1 to 1024 nodes (DESIGN.md "Scaling"), and the model's counts checked
against what dnmf's run report measures at 1-4 ranks.

    /usr/bin/python3 scripts/bench/scaling_model.py --dnmf build/src/dnmf

Per iteration and node (one rank a node, its cores as threads), A m x n with nnz stored entries:
  flops      4 nnz k / p  (A Hᵀ and Wᵀ A)  +  k (k + 1) (m + n) / p  (the Grams, by symmetric
             rank updates)  +  2 k² (m + n) / p + c k (m + n) / p  (the rules)
  memory     A once (8 nnz dense, 12 nnz CSR) / p, plus the factors it meets: W's rows (m/p x k)
             read and written, H (k x n) read whole in 1-D (k x n/pc in 2-D)
  network    1-D: reduce-scatter of Wᵀ A (k x n) + allgather of H (k x n) + allreduces of k²
             and k² + 3 values; per rank (p-1)/p · 8 k n · 2 + 2 (p-1)/p · 8 (2k² + 3) bytes,
             which does not fall with p.
             2-D (pr x pc grid, pr/pc ≈ m/n): allgather of H's column block (k x n/pc) over pr and
             of W's row block (m/pr x k) over pc, reduce-scatter of A Hᵀ (m/pr x k) over pc and of
             Wᵀ A (k x n/pc) over pr, the same allreduces: ≈ 2·8 k (m/pr + n/pc) bytes, the
             O(√(m n k² / p)) of Kannan, Ballard & Park (PPoPP 2016).
Time = max(flops / R, memory bytes / B) + collectives (no overlap, as dnmf runs them), with
ring collectives on Open MPI over 100 Gb/s InfiniBand: a ring reduce-scatter or allgather of N
bytes over q ranks (q-1) α + (q-1)/q N β, an allreduce (Rabenseifner) 2 log2(q) α +
2 (q-1)/q N β, α = 2 µs, β = 1 / 12.5 GB/s. Node: R = 2 TFLOP/s (dense products; sparse
ones are bound by B), B = 200 GB/s. The figures are the model's, not measurements."""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

ALPHA = 2e-6            # s, per message
BETA = 1 / 12.5e9       # s per byte, 100 Gb/s
RATE = 2e12             # flop/s per node, dense products
BANDWIDTH = 200e9       # bytes/s per node

SHAPES = {
    "P1 dense 20000 x 2000, k = 50": dict(m=20000, n=2000, nnz=20000 * 2000, k=50, dense=True),
    "sparse 1e6 x 3e4 at 0.1 %, k = 30": dict(m=10**6, n=30000, nnz=3 * 10**7, k=30, dense=False),
    "wide dense 5e4 x 5e6, k = 50": dict(m=50000, n=5 * 10**6, nnz=50000 * 5 * 10**6, k=50,
                                         dense=True),
    "the same, --transpose (5e6 x 5e4)": dict(m=5 * 10**6, n=50000, nnz=50000 * 5 * 10**6,
                                              k=50, dense=True),
}


def ring(q, size):
    return (q - 1) * ALPHA + (q - 1) / q * size * BETA if q > 1 else 0.0


def allreduce(q, size):
    return 2 * math.log2(q) * ALPHA + 2 * (q - 1) / q * size * BETA if q > 1 else 0.0


def allreduces(p, k):
    """WᵀW (k²), and H's Gram with the loss terms, seconds and stop votes (k² + 3)."""
    return allreduce(p, 8 * k * k) + allreduce(p, 8 * (k * k + 3))


def compute_seconds(m, n, nnz, k, dense, p, h_columns):
    flops = (4 * nnz * k + (3 * k * k + 5 * k) * (m + n)) / p  # Grams k (k + 1), rules 2k² + 4k
    memory = (8 if dense else 12) * nnz / p + 8 * k * (2 * m / p + h_columns)
    rate = RATE if dense else min(RATE, BANDWIDTH * 2 * k / 12)
    return max(flops / rate, memory / BANDWIDTH)


def one_d(shape, p):
    m, n, nnz, k, dense = shape["m"], shape["n"], shape["nnz"], shape["k"], shape["dense"]
    network = 2 * ring(p, 8 * k * n) + allreduces(p, k)
    words = 2 * (p - 1) / p * 8 * k * n + 2 * (p - 1) / p * 8 * (2 * k * k + 3)
    return compute_seconds(m, n, nnz, k, dense, p, n), network, words


def grid(p, m, n):
    """pr x pc = p (powers of two) with pr / pc closest to m / n."""
    best = None
    for e in range(int(math.log2(p)) + 1):
        pr, pc = 2 ** e, p // 2 ** e
        score = abs(math.log(pr / pc) - math.log(m / n))
        if best is None or score < best[0]:
            best = (score, pr, pc)
    return best[1], best[2]


def two_d(shape, p):
    m, n, nnz, k, dense = shape["m"], shape["n"], shape["nnz"], shape["k"], shape["dense"]
    pr, pc = grid(p, m, n)
    network = ring(pr, 8 * k * n / pc) * 2 + ring(pc, 8 * k * m / pr) * 2 + allreduces(p, k)
    words = (2 * (pr - 1) / pr * 8 * k * n / pc + 2 * (pc - 1) / pc * 8 * k * m / pr
             + 2 * (p - 1) / p * 8 * (2 * k * k + 3))
    return compute_seconds(m, n, nnz, k, dense, p, n / pc), network, words


def table():
    for name, shape in SHAPES.items():
        print(f"\n{name}: seconds per iteration (compute + network), parallel efficiency, "
              f"MB sent per node")
        print(f"{'nodes':>6} | {'1-D (dnmf)':>28} | {'2-D (PLANC)':>28}")
        base = sum(one_d(shape, 1)[:2])
        for p in (1, 4, 16, 64, 256, 1024):
            cells = []
            for model in (one_d, two_d):
                compute, network, words = model(shape, p)
                total = compute + network
                cells.append(f"{total:9.3g} s {base / (p * total):5.0%} {words / 1e6:8.3g} MB")
            print(f"{p:>6} | {cells[0]:>28} | {cells[1]:>28}")


def check(dnmf):
    """The model's bytes and flops against dnmf's report, at 1-4 ranks (HALS and MU)."""
    m, n, k, iterations = 4000, 1000, 20, 200
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    with tempfile.TemporaryDirectory() as d:
        data, out, report = (os.path.join(d, name) for name in ("a.h5", "o.h5", "r.json"))
        subprocess.run([dnmf, "generate", "--rows", str(m), "--cols", str(n), "--rank", "10",
                        "--output", data, "--quiet"], check=True, env=env)
        print(f"\ncheck: dense {m} x {n}, k = {k}, {iterations} iterations; bytes per rank and "
              f"iteration (the report's include the start's and the end's collectives, spread "
              f"over the iterations), flops per iteration over all ranks")
        for p in (1, 2, 3, 4):
            for algorithm, c in (("hals", 4), ("mu", 3)):
                subprocess.run(["mpirun", "-np", str(p), dnmf, "factorize", "--input", data,
                                "--dataset", "/A", "--rank", str(k), "--algorithm", algorithm,
                                "--max-iter", str(iterations), "--tol", "0", "--threads", "1",
                                "--output", out, "--report", report, "--force", "--quiet"],
                               check=True, env=env)
                with open(report) as f:
                    measured = json.load(f)
                words = 2 * (p - 1) / p * 8 * k * n + 2 * (p - 1) / p * 8 * (2 * k * k + 3)
                flops = 4 * m * n * k + k * (k + 1) * (m + n) + 2 * k * k * (m + n) + c * k * (m + n)
                got = measured["bytes_per_iteration_per_rank"]["max"]
                print(f"  {p} ranks {algorithm:4s}: bytes model {words:10.0f}, report {got:10.0f}"
                      f" ({(got - words) / max(words, 1):+.2%}); flops model {flops:.6g}, "
                      f"report {measured['flops_per_iteration']:.6g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnmf", default="build/src/dnmf")
    parser.add_argument("--no-check", action="store_true", help="the model's table only")
    options = parser.parse_args()
    table()
    if not options.no_check:
        check(options.dnmf)


if __name__ == "__main__":
    sys.exit(main())
