#!/usr/bin/python3
"""dnmf factorize, generate and info driven as a user would, checked against numpy:
the same command at 1 and 3 ranks gives the same factors (to the rounding of an iteration times
the run's measured amplification); the relative error and history it records agree with a
direct computation (to their evaluation bounds); output attributes, the JSON report and --init
work."""

import argparse
import json
import os
import sys
import tempfile

import h5py
import numpy as np

from common import (Checks, condition_number, direct_error_bound, factor_rounding_fit_change,
                    gamma, gram_trick_error_bound, iterated_tolerance, iteration_rounding,
                    perturbed, amplification, relative, residual_sums, run_ok, unit_roundoff)

check = Checks()


def read(path):
    with h5py.File(path, "r") as f:
        return ({name: f[name][()] for name in ("W", "H")},
                {key: f.attrs[key] for key in f.attrs},
                {name: f["history"][name][()] for name in f["history"]})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    options = parser.parse_args()
    dnmf = options.dnmf
    with h5py.File(options.data, "r") as f:
        A = f["/train/images"][()].astype(np.float64)

    m, n, k = A.shape[0], A.shape[1], 8
    with tempfile.TemporaryDirectory() as d:
        # The probe of the 1-rank runs' amplification (common.py): the same runs from the data and
        # the seed-1 start perturbed.
        start = os.path.join(d, "start.h5")
        run_ok(dnmf, 1, ["factorize", "--input", options.data, "--dataset", "/train/images",
                         "--rank", str(k), "--max-iter", "0", "--seed", "1", "--output", start,
                         "--quiet"])
        probe_data, probe_start = os.path.join(d, "probe_data.h5"), os.path.join(d, "probe_start.h5")
        with h5py.File(probe_data, "w") as f:
            f["/train/images"] = perturbed(A, 1)
        with h5py.File(start, "r") as f, h5py.File(probe_start, "w") as g:
            g["W"], g["H"] = perturbed(f["W"][()], 2), perturbed(f["H"][()], 3)
        for algorithm, iterations in (("hals", 30), ("mu", 30), ("bpp", 8)):
            outputs = {}
            # Ranks x kernel threads: a rank's threads sum Wᵀ A a part of its rows each
            # (nmf/row_parts), within the rounding an iteration allows whatever the order of its
            # sums, as ranks do.
            layouts = ((1, 1), (3, 1), (1, 2), (2, 1), (2, 2))
            for ranks, threads in layouts:
                out = os.path.join(d, f"{algorithm}-{ranks}x{threads}.h5")
                report = os.path.join(d, f"{algorithm}-{ranks}x{threads}.json")
                result = run_ok(dnmf, ranks, [
                    "factorize", "--input", options.data, "--dataset", "/train/images",
                    "--rank", "8", "--algorithm", algorithm, "--max-iter", str(iterations),
                    "--tol", "0", "--seed", "1", "--output", out, "--report", report,
                    "--progress", "lines", "--threads", str(threads)])
                check(f"wrote {out}" in result.stdout, f"{algorithm}: summary line on stdout")
                outputs[ranks, threads] = (out, report)
            (f1, a1, h1), (f3, a3, h3) = read(outputs[1, 1][0]), read(outputs[3, 1][0])
            probe = os.path.join(d, f"{algorithm}-probe.h5")
            run_ok(dnmf, 1, ["factorize", "--input", probe_data, "--dataset", "/train/images",
                             "--rank", str(k), "--algorithm", algorithm, "--max-iter",
                             str(iterations), "--tol", "0", "--init", probe_start, "--output",
                             probe, "--quiet"])
            probed = read(probe)[0]
            condition = (max(condition_number(f1["W"].T @ f1["W"]), condition_number(f1["H"] @ f1["H"].T))
                         if algorithm == "bpp" else 0.0)
            rounding = (iteration_rounding(m, n, k, 1, condition=condition)
                        + iteration_rounding(m, n, k, 3, condition=condition))
            for name in ("W", "H"):
                tolerance = iterated_tolerance(amplification(f1[name], probed[name]), rounding)
                for ranks, threads in layouts[1:]:
                    other = read(outputs[ranks, threads][0])[0]
                    check(relative(other[name], f1[name]) < tolerance,
                          f"{algorithm}: {name} at {ranks} x {threads} equals {name} at 1 x 1 "
                          f"(relative difference {relative(other[name], f1[name]):.2e}, "
                          f"bound {tolerance:.1e})")
            W, H = f3["W"], f3["H"]
            check(W.shape == (8000, 8) and H.shape == (8, 784), f"{algorithm}: shapes")
            check(W.min() >= 0 and H.min() >= 0, f"{algorithm}: nonnegative factors")
            direct = np.linalg.norm(A - W @ H) / np.linalg.norm(A)
            # Both evaluate the same factors: directly (the library and numpy), or by the Gram
            # trick with WᵀA a double product over the m rows and 3 ranks (the history).
            sums = residual_sums(A, W @ H)
            direct_bound = 2 * direct_error_bound(sums, n, k) * direct
            recorded_bound = (gram_trick_error_bound(sums, m, n, k, 3, gamma(m + 3) * sums["correlation"])
                              + direct_error_bound(sums, n, k)) * direct
            check(abs(a3["relative_error"] - direct) < direct_bound,
                  f"{algorithm}: relative_error attribute {a3['relative_error']} = numpy {direct}")
            check(abs(h3["relative_error"][-1] - direct) < recorded_bound,
                  f"{algorithm}: last history value (Gram trick) = numpy")
            check(len(h3["iteration"]) == iterations == a3["iterations"], f"{algorithm}: history length")
            check(np.all(np.diff(h3["seconds"]) >= 0), f"{algorithm}: history seconds increase")
            for key in ("dnmf_version", "command_line", "algorithm", "loss", "rank", "seed",
                        "iterations", "converged", "relative_error", "input_file",
                        "input_dataset", "mpi_ranks", "wall_seconds"):
                check(key in a3, f"{algorithm}: attribute {key}")
            check(a3["mpi_ranks"] == 3 and a1["mpi_ranks"] == 1, f"{algorithm}: mpi_ranks")
            check(a3["algorithm"] == algorithm and a3["input_dataset"] == "/train/images",
                  f"{algorithm}: algorithm and dataset attributes")
            with open(outputs[3, 1][1]) as f:
                report = json.load(f)
            for key in ("seconds", "bytes_per_iteration_per_rank", "flops_per_iteration",
                        "gflops_per_second", "peak_memory_bytes_per_rank"):
                check(key in report, f"{algorithm}: report has {key}")
            for phase in ("read", "compute", "communicate", "write"):
                check(set(report["seconds"][phase]) == {"max", "mean"}, f"{algorithm}: {phase} max/mean")
            check(abs(report["relative_error"] - direct) < direct_bound, f"{algorithm}: report error")
            # The model of DESIGN.md: 2kn(p-1)/p words for reduce-scatter + allgather, plus the
            # k x k allreduces (Wᵀ W; H Hᵀ with the four scalars: loss term, test term, seconds,
            # stop votes), per rank and iteration (8 bytes a word); the allreduce before the
            # loop adds its share over the iterations. Both sides are quotients of integers, off
            # by a few roundings (γ_8) of the value.
            p = 3
            expected = 8 * (2 * k * n * (p - 1) / p + 2 * (p - 1) / p * (k * k + k * k + 4))
            measured = report["bytes_per_iteration_per_rank"]["max"]
            check(abs(measured - expected) <= 8 * 2 * (k * k + 2) / iterations + gamma(8) * expected,
                  f"{algorithm}: bytes per iteration {measured:.0f} ~ model {expected:.0f}")

        # --init continues from an earlier output: the error keeps going down.
        first = os.path.join(d, "hals-1x1.h5")
        resumed = os.path.join(d, "resumed.h5")
        run_ok(dnmf, 2, ["factorize", "--input", options.data, "--dataset", "/train/images",
                         "--rank", "8", "--max-iter", "5", "--tol", "0", "--init", first,
                         "--output", resumed, "--quiet"])
        # HALS never increases the error in exact arithmetic: each of the 5 iterations may rise by
        # its rounding of the iterates, and the two final errors carry their evaluation bounds.
        (first_factors, first_attributes, _) = read(first)
        (resumed_factors, resumed_attributes, _) = read(resumed)
        first_sums = residual_sums(A, first_factors["W"] @ first_factors["H"])
        resumed_sums = residual_sums(A, resumed_factors["W"] @ resumed_factors["H"])
        rise = 5 * factor_rounding_fit_change(first_sums, iteration_rounding(m, n, k, 2))
        allowance = (0.5 * rise / first_sums["residual"] + direct_error_bound(first_sums, n, k)
                     + direct_error_bound(resumed_sums, n, k))
        check(resumed_attributes["relative_error"] <= first_attributes["relative_error"] * (1 + allowance),
              "--init FILE continues from the earlier factors")

        # --time-limit stops the iterations after the given seconds, on every rank together.
        limited = os.path.join(d, "limited.h5")
        run_ok(dnmf, 2, ["factorize", "--input", options.data, "--dataset", "/train/images",
                         "--rank", "8", "--max-iter", "100000", "--tol", "0", "--time-limit", "1",
                         "--output", limited, "--quiet"])
        with h5py.File(limited, "r") as f:
            seconds = f["history/seconds"][()]
            check(f.attrs["stop_reason"] == "time-limit" and 0 < f.attrs["iterations"] < 100000,
                  f"--time-limit 1 stops the run ({f.attrs['stop_reason']} after {f.attrs['iterations']})")
            # The last iteration's length (under heavy load the first may already pass 1 s).
            last_step = seconds[-1] - (seconds[-2] if len(seconds) > 1 else 0.0)
            check(1.0 <= seconds[-1] < 1.0 + 10 * last_step + 0.5,
                  f"... at the first iteration boundary after 1 s ({seconds[-1]:.3f} s)")

        # generate writes the same matrix at any rank count, and it is W_true H_true + noise.
        for ranks in (1, 2):
            run_ok(dnmf, ranks, ["generate", "--rows", "37", "--cols", "11", "--rank", "3",
                                 "--noise", "0.5", "--seed", "4",
                                 "--output", os.path.join(d, f"gen{ranks}.h5"), "--quiet"])
        with h5py.File(os.path.join(d, "gen1.h5")) as g1, h5py.File(os.path.join(d, "gen2.h5")) as g2:
            check(np.array_equal(g1["A"][()], g2["A"][()]), "generate: same /A at 1 and 2 ranks")
            product = g1["W_true"][()] @ g1["H_true"][()]
            noise = g1["A"][()] - product
            # W0 H0 in two orders (γ_3 each), the addition of the noise and this subtraction (u).
            rounding = 2 * gamma(3) * product + 2 * unit_roundoff() * np.abs(g1["A"][()])
            check(np.all(noise >= -rounding) and np.all(noise <= 0.5 + rounding),
                  "generate: noise in [0, 0.5)")

        info = run_ok(dnmf, 1, ["info", os.path.join(d, "hals-3x1.h5")]).stdout
        for text in ("/W  8000 x 8  float64", "/H  8 x 784  float64", "algorithm = hals",
                     "/history/relative_error"):
            check(text in info, f"info shows {text!r}")

    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
