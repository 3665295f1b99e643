#!/usr/bin/python3
"""The held-out error finds a planted rank: on `dnmf generate --noise-model centered` data of rank
6, converged HALS and BPP fits with --holdout 0.1 have a test error that falls steeply up to
k = 6 (by more than 5 % a step from k = 3 to 5 to 6), falls by less than 1 % beyond it (k = 7),
and is higher at 2k + 2 = 14 than at 6: the extra components fit the noise of the fitted entries,
which the held-out ones do not share. MU converges too slowly to overfit within the run; its test
error must still fall steeply up to 6."""

import argparse
import os
import sys
import tempfile

import h5py

from common import Checks, run_ok

check = Checks()

PLANTED = 6


def test_errors(dnmf, ranks, data, d, algorithm, ranks_k):
    errors = {}
    for k in ranks_k:
        out = os.path.join(d, f"{algorithm}-{k}.h5")
        run_ok(dnmf, ranks, ["factorize", "--input", data, "--dataset", "/A", "--rank", str(k),
                             "--algorithm", algorithm, "--holdout", "0.1", "--seed", "1",
                             "--max-iter", "2000", "--tol", "1e-6", "--output", out, "--quiet"])
        with h5py.File(out, "r") as f:
            errors[k] = float(f.attrs["test_error"])
    print(algorithm, {k: round(e, 5) for k, e in errors.items()})
    return errors


def falls_steeply(errors, ks):
    return all((errors[a] - errors[b]) / errors[b] > 0.05 for a, b in zip(ks, ks[1:]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "planted.h5")
        run_ok(options.dnmf, options.ranks,
               ["generate", "--rows", "1000", "--cols", "300", "--rank", str(PLANTED), "--noise",
                "0.5", "--noise-model", "centered", "--seed", "3", "--output", data, "--quiet"])
        for algorithm in ("hals", "bpp"):
            errors = test_errors(options.dnmf, options.ranks, data, d, algorithm,
                                 (3, 5, PLANTED, PLANTED + 1, 2 * PLANTED + 2))
            check(falls_steeply(errors, (3, 5, PLANTED)),
                  f"{algorithm}: the test error falls by more than 5 % a step up to k = {PLANTED}")
            check((errors[PLANTED] - errors[PLANTED + 1]) / errors[PLANTED] < 0.01,
                  f"{algorithm}: it falls by less than 1 % beyond")
            check(errors[2 * PLANTED + 2] > errors[PLANTED],
                  f"{algorithm}: it is higher at k = {2 * PLANTED + 2} than at {PLANTED}")
        errors = test_errors(options.dnmf, options.ranks, data, d, "mu", (3, 5, PLANTED))
        check(falls_steeply(errors, (3, 5, PLANTED)),
              f"mu: the test error falls by more than 5 % a step up to k = {PLANTED}")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
