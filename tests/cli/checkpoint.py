#!/usr/bin/python3
"""Checkpoint and restart of dnmf factorize with real signals: a run sent SIGUSR1 (through mpirun,
as Slurm's --signal does) or SIGTERM (a single process) at an arbitrary iteration writes its
checkpoint, exits with code 75 and leaves no output; --resume then ends with bitwise the factors
of an uninterrupted run with the same rank count, and to rounding with another rank count (both
runs' rounding of an iteration times the measured amplification, common.py)."""

import argparse
import os
import signal
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from common import (Checks, amplification, command, iterated_tolerance, iteration_rounding,
                    perturbed, run_interrupted)

check = Checks()


def factorize(data, out, extra):
    return ["factorize", "--input", data, "--dataset", "/train/images", "--rank", "12",
            "--algorithm", "hals", "--max-iter", "120", "--tol", "0", "--seed", "3",
            "--output", out, "--progress", "lines"] + extra


def factors(path):
    with h5py.File(path, "r") as f:
        return f["W"][()], f["H"][()], f["history/relative_error"][()], dict(f.attrs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    options = parser.parse_args()
    dnmf, data = options.dnmf, options.data
    with tempfile.TemporaryDirectory() as d:
        reference = {}
        for ranks in (1, 2):
            out = os.path.join(d, f"reference-{ranks}.h5")
            subprocess.run(command(dnmf, ranks, factorize(data, out, ["--quiet"])), check=True,
                           timeout=300)
            reference[ranks] = factors(out)

        for ranks, signal_number, stop_after in ((2, signal.SIGUSR1, 30), (1, signal.SIGTERM, 50)):
            name = signal.Signals(signal_number).name
            ckpt = os.path.join(d, f"ckpt-{ranks}.h5")
            out = os.path.join(d, f"resumed-{ranks}.h5")
            code, err = run_interrupted(dnmf, ranks, factorize(data, out, [
                "--checkpoint", ckpt, "--checkpoint-every", "20"]), f"it {stop_after}/", signal_number)
            check(code == 75, f"{name} at {ranks} rank(s): exit code 75 (got {code})")
            check("checkpoint in" in err and "--resume" in err, f"{name}: says how to continue")
            check(os.path.exists(ckpt) and not os.path.exists(out),
                  f"{name}: checkpoint written, no output under the real name")
            check(sorted(os.listdir(d)) == sorted(
                f for f in os.listdir(d) if not f.startswith(".")), f"{name}: no temporary files left")
            with h5py.File(ckpt, "r") as f:
                stopped_at = int(f.attrs["iterations"])
                check(f.attrs["checkpoint"] == 1 and f.attrs["stop_reason"] == "signal",
                      f"{name}: checkpoint attributes")
            check(stop_after < stopped_at < 120, f"{name}: stopped mid-run (iteration {stopped_at})")
            subprocess.run(command(dnmf, ranks, factorize(data, out, [
                "--checkpoint", ckpt, "--checkpoint-every", "20", "--resume", ckpt, "--quiet"])),
                check=True, timeout=300)
            W, H, history, attributes = factors(out)
            W0, H0, history0, _ = reference[ranks]
            check(np.array_equal(W, W0) and np.array_equal(H, H0),
                  f"{name}: resumed factors bitwise equal to the uninterrupted run at {ranks} rank(s)")
            check(np.array_equal(history, history0), f"{name}: the same history")
            check(attributes["iterations"] == 120, f"{name}: 120 iterations in all")

        # Resume the 2-rank checkpoint on 3 ranks: the same to rounding.
        other = os.path.join(d, "resumed-other.h5")
        subprocess.run(command(dnmf, 3, factorize(data, other, [
            "--resume", os.path.join(d, "ckpt-2.h5"), "--quiet"])), check=True, timeout=300)
        W, H, _, _ = factors(other)
        W0, H0, _, _ = reference[2]
        # The amplification of the 120 iterations (the runs part at the checkpoint, after 30 or
        # more), measured at 1 rank from the digits and the seed-3 start perturbed.
        start, probe_data, probe_start, probe = (os.path.join(d, name) for name in (
            "start.h5", "probe-data.h5", "probe-start.h5", "probe.h5"))
        subprocess.run(command(dnmf, 1, ["factorize", "--input", data, "--dataset", "/train/images",
                                         "--rank", "12", "--max-iter", "0", "--seed", "3",
                                         "--output", start, "--quiet"]), check=True, timeout=300)
        with h5py.File(data, "r") as f, h5py.File(probe_data, "w") as g:
            digits = f["/train/images"][()]
            g["/train/images"] = perturbed(digits, 1)
        with h5py.File(start, "r") as f, h5py.File(probe_start, "w") as g:
            g["W"], g["H"] = perturbed(f["W"][()], 2), perturbed(f["H"][()], 3)
        subprocess.run(command(dnmf, 1, factorize(probe_data, probe, ["--init", probe_start, "--quiet"])),
                       check=True, timeout=300)
        Wp, Hp, _, _ = factors(probe)
        W1, H1, _, _ = reference[1]
        m, n = digits.shape
        rounding = iteration_rounding(m, n, 12, 2) + iteration_rounding(m, n, 12, 3)
        w_tolerance = iterated_tolerance(amplification(W1, Wp), rounding)
        h_tolerance = iterated_tolerance(amplification(H1, Hp), rounding)
        w_difference = np.linalg.norm(W - W0) / np.linalg.norm(W0)
        h_difference = np.linalg.norm(H - H0) / np.linalg.norm(H0)
        check(w_difference < w_tolerance and h_difference < h_tolerance,
              f"resumed on 3 ranks agrees to rounding (W {w_difference:.1e}, H {h_difference:.1e}; "
              f"bounds {w_tolerance:.1e}, {h_tolerance:.1e})")

        # What decides the steps must be unchanged: the penalties and the matrix itself.
        checkpoint = os.path.join(d, "ckpt-2.h5")
        refused = os.path.join(d, "refused.h5")
        penalised = subprocess.run(command(dnmf, 2, factorize(data, refused, [
            "--resume", checkpoint, "--l2-h", "0.5"])), capture_output=True, text=True, timeout=300)
        check(penalised.returncode != 0 and "--l2-h 0" in penalised.stderr
              and "same penalties" in penalised.stderr and not os.path.exists(refused),
              f"resume with other penalties refused: {penalised.stderr.splitlines()[:1]}")
        scaled = os.path.join(d, "scaled.h5")
        with h5py.File(data, "r") as f, h5py.File(scaled, "w") as g:
            g["/train/images"] = 2.0 * f["/train/images"][()]
        other_matrix = subprocess.run(command(dnmf, 2, factorize(scaled, refused, [
            "--resume", checkpoint])), capture_output=True, text=True, timeout=300)
        check(other_matrix.returncode != 0 and "another matrix" in other_matrix.stderr
              and not os.path.exists(refused),
              f"resume on another matrix of the same shape refused: {other_matrix.stderr.splitlines()[:1]}")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
