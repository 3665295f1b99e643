#!/usr/bin/python3
"""dnmf sweep chooses the planted rank: on `dnmf generate` data of rank 5, centred noise at two
levels (HALS, Frobenius) and Poisson counts (MU, KL), a sweep of k = 3..8 with 4 replicates and
held-out entries records chosen_k = 5, the smallest k whose mean test error is within one
standard error of the least."""

import argparse
import os
import sys
import tempfile

import h5py

from common import Checks, run_ok

check = Checks()

PLANTED = 5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    options = parser.parse_args()
    cases = (("centered", "0.3", ["--algorithm", "hals", "--max-iter", "2000", "--rank", "3:8"]),
             ("centered", "1.0", ["--algorithm", "hals", "--max-iter", "2000", "--rank", "3:8"]),
             ("poisson", "0.05", ["--algorithm", "mu", "--loss", "kl", "--max-iter", "1500",
                                  "--rank", "3:7"]))
    with tempfile.TemporaryDirectory() as d:
        for model, noise, fit in cases:
            data = os.path.join(d, f"{model}-{noise}.h5")
            run_ok(options.dnmf, 1, ["generate", "--rows", "300", "--cols", "120", "--rank",
                                     str(PLANTED), "--noise", noise, "--noise-model", model,
                                     "--seed", "11", "--output", data, "--quiet"])
            out = os.path.join(d, f"sweep-{model}-{noise}.h5")
            run_ok(options.dnmf, options.ranks,
                   ["sweep", "--input", data, "--dataset", "/A", "--replicates", "4",
                    "--holdout", "0.1", "--tol", "1e-7", "--seed", "1", "--groups",
                    str(options.ranks), "--output", out, "--quiet", *fit], timeout=600)
            with h5py.File(out, "r") as f:
                chosen = int(f.attrs["chosen_k"])
                means = dict(zip(f["summary/k"][()], f["summary/test_error_mean"][()].round(5)))
            check(chosen == PLANTED, f"{model} noise {noise}: chosen_k {chosen} is the planted "
                                     f"{PLANTED} (mean test errors {means})")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
