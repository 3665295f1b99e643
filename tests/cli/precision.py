#!/usr/bin/python3
"""dnmf factorize --precision single through the program at a given rank count: W and H are
written as float32 (float64 in double), the output and report record the precision, the final
relative error agrees with double's to the float rounding of an iteration times the run's
measured amplification (dense HALS, CSR KL), an output of either precision
is a valid --init of the other (converted exactly), a single-precision run resumed from its own
output continues bitwise, and an unknown precision is a usage error."""

import argparse
import json
import os
import sys
import tempfile

import h5py
import numpy as np
import scipy.sparse as sp

from common import (Checks, SCALAR_PROBES, amplification, gamma_probabilistic, iterated_tolerance,
                    iteration_rounding, perturbed, run, unit_roundoff)

check = Checks()


def factorize(dnmf, ranks, arguments):
    result = run(dnmf, ranks, ["factorize", "--quiet", "--tol", "0"] + arguments, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"dnmf failed ({result.returncode}): {result.stderr}")


def read(path):
    with h5py.File(path, "r") as f:
        return f["W"][()], f["H"][()], dict(f.attrs)


def error_amplification(dnmf, ranks, d, name, write_input, arguments, iterations, reference):
    """The double run's measured amplification (common.py) of its final relative error:
    `write_input(path, seed)` writes the input perturbed (seed > 0) or not (0), and each probe
    starts from the double start perturbed."""
    data = os.path.join(d, f"{name}-input.h5")
    write_input(data, 0)
    start = os.path.join(d, f"{name}-start.h5")
    factorize(dnmf, ranks, ["--input", data] + arguments + ["--max-iter", "0", "--output", start])
    W0, H0, _ = read(start)
    largest = 0.0
    for probe in range(1, SCALAR_PROBES + 1):
        probe_data = os.path.join(d, f"{name}-probe-input.h5")
        probe_start = os.path.join(d, f"{name}-probe-start.h5")
        out = os.path.join(d, f"{name}-probe.h5")
        write_input(probe_data, 10 * probe)
        with h5py.File(probe_start, "w") as f:
            f["W"], f["H"] = perturbed(W0, 10 * probe + 1), perturbed(H0, 10 * probe + 2)
        factorize(dnmf, ranks, ["--input", probe_data] + arguments
                  + ["--max-iter", str(iterations), "--init", probe_start, "--force", "--output", out])
        largest = max(largest, amplification(reference, read(out)[2]["relative_error"]))
    return largest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    options = parser.parse_args()
    dnmf, ranks = options.dnmf, options.ranks
    with tempfile.TemporaryDirectory() as d:
        dense = ["--input", options.data, "--dataset", "/train/images", "--rank", "8",
                 "--algorithm", "hals"]
        out = {p: os.path.join(d, f"{p}.h5") for p in ("single", "double")}
        for precision, path in out.items():
            report = os.path.join(d, f"{precision}.json")
            factorize(dnmf, ranks, dense + ["--max-iter", "30", "--precision", precision,
                                            "--output", path, "--report", report])
            W, H, attrs = read(path)
            expected = np.float32 if precision == "single" else np.float64
            check(W.dtype == expected and H.dtype == expected,
                  f"{precision}: W and H are {np.dtype(expected).name} (got {W.dtype}, {H.dtype})")
            check(attrs["precision"] == precision, f"{precision}: output attribute precision")
            with open(report) as f:
                check(json.load(f)["precision"] == precision, f"{precision}: report precision")
        single, double = read(out["single"])[2], read(out["double"])[2]
        difference = abs(single["relative_error"] - double["relative_error"])
        # The single run sees the digits exactly (uint8) and the start rounded (u), and forms the
        # products with A in float. Their worst case over the m = 8000 rows, γ_m = 5e-4, would
        # allow 5e-3; the probabilistic bound λ sqrt(m) u (3e-5) is the rounding here.
        with h5py.File(options.data, "r") as f:
            digits = f["/train/images"][()]

        def write_digits(path, seed):
            with h5py.File(path, "w") as f:
                f["/train/images"] = perturbed(digits, seed) if seed else digits

        rounding = unit_roundoff(np.float32) + gamma_probabilistic(
            max(digits.shape) + ranks + 8 + 3, np.float32)
        tolerance = iterated_tolerance(
            error_amplification(dnmf, ranks, d, "dense", write_digits,
                                dense[2:] + ["--precision", "double"], 30,
                                double["relative_error"]), rounding)
        check(difference <= tolerance * double["relative_error"],
              f"dense HALS: single {single['relative_error']:.9f} and double "
              f"{double['relative_error']:.9f} agree to {tolerance:.1e} (relative difference "
              f"{difference / double['relative_error']:.2e})")

        # A CSR AnnData matrix of counts, KL.
        rng = np.random.default_rng(5)
        counts = np.floor(rng.random((157, 61)) * 6) * (rng.random((157, 61)) < 0.3)
        m = sp.csr_matrix(counts)
        csr = os.path.join(d, "counts.h5ad")
        with h5py.File(csr, "w") as f:
            g = f.create_group("X")
            g.attrs["encoding-type"] = "csr_matrix"
            g.attrs["shape"] = np.array(counts.shape)
            g["data"], g["indices"], g["indptr"] = m.data.astype(np.float32), m.indices, m.indptr
        errors = {}
        for precision in ("single", "double"):
            path = os.path.join(d, f"kl-{precision}.h5")
            factorize(dnmf, ranks, ["--input", csr, "--rank", "5", "--algorithm", "mu",
                                    "--loss", "kl", "--max-iter", "40", "--precision", precision,
                                    "--output", path])
            errors[precision] = read(path)[2]["relative_error"]
        difference = abs(errors["single"] - errors["double"])

        def write_counts(path, seed):
            with h5py.File(path, "w") as f:
                g = f.create_group("X")
                g.attrs["encoding-type"] = "csr_matrix"
                g.attrs["shape"] = np.array(counts.shape)
                g["data"] = perturbed(m.data, seed) if seed else m.data.astype(np.float64)
                g["indices"], g["indptr"] = m.indices, m.indptr

        # Counts are exact in float; the start is rounded (u); the products worst case (157 rows).
        rounding = unit_roundoff(np.float32) + iteration_rounding(*counts.shape, 5, ranks, np.float32)
        tolerance = iterated_tolerance(
            error_amplification(dnmf, ranks, d, "kl", write_counts,
                                ["--rank", "5", "--algorithm", "mu", "--loss", "kl",
                                 "--precision", "double"], 40, errors["double"]), rounding)
        check(difference <= tolerance * errors["double"],
              f"CSR KL: single {errors['single']:.9f} and double {errors['double']:.9f} agree to "
              f"{tolerance:.1e} (relative difference {difference / errors['double']:.2e})")

        # Each precision's output as the other's --init, no iterations: the factors converted.
        for precision, source in (("single", "double"), ("double", "single")):
            path = os.path.join(d, f"init-{precision}.h5")
            factorize(dnmf, ranks, dense + ["--precision", precision, "--init", out[source],
                                            "--max-iter", "0", "--output", path])
            W, H, _ = read(path)
            W0, H0, _ = read(out[source])
            check(np.array_equal(W, W0.astype(W.dtype)) and np.array_equal(H, H0.astype(H.dtype)),
                  f"--precision {precision} --init <{source} output>: the factors converted exactly")

        # Resumed from a single-precision output: bitwise the uninterrupted run.
        part = os.path.join(d, "part.h5")
        resumed = os.path.join(d, "resumed.h5")
        single = dense + ["--precision", "single"]
        factorize(dnmf, ranks, single + ["--max-iter", "7", "--output", part])
        factorize(dnmf, ranks, single + ["--max-iter", "15", "--resume", part, "--output", resumed])
        reference = os.path.join(d, "reference.h5")
        factorize(dnmf, ranks, single + ["--max-iter", "15", "--output", reference])
        W, H, attrs = read(resumed)
        W0, H0, _ = read(reference)
        check(attrs["iterations"] == 15 and np.array_equal(W, W0) and np.array_equal(H, H0),
              "single: resumed after 7 of 15 iterations, bitwise the uninterrupted factors")

        bad = run(dnmf, ranks, ["factorize"] + dense + ["--precision", "half", "--output",
                                                        os.path.join(d, "bad.h5")])
        lines = [l for l in bad.stderr.splitlines() if l.startswith("dnmf: error")]
        check(bad.returncode == 2 and len(lines) == 1 and "--precision" in lines[0]
              and "half" in lines[0], f"--precision half: one usage error line (exit {bad.returncode})")
        check(not os.path.exists(os.path.join(d, "bad.h5")), "--precision half: no output")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
