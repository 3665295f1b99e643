#!/usr/bin/python3
"""Every command that writes, with its output on a file system that fills up (a 300 KiB tmpfs,
so the test needs root): one error line naming the output, exit 1, every rank gone within
seconds, no temporary file left, and a file that was there before (replaced only with --force)
unchanged. Before the writes stopped being collective, train at 2 ranks hung here and
factorize, generate, train and transform at 1 rank died of SIGSEGV in MPI_Finalize."""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from common import Checks, run

SECONDS = 60


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    options = parser.parse_args()
    check = Checks()
    with tempfile.TemporaryDirectory() as d:
        full = os.path.join(d, "full")
        os.mkdir(full)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", full], check=True)
        try:
            basis = os.path.join(d, "basis.h5")  # on the roomy file system
            run(options.dnmf, 1, ["factorize", "--input", options.data, "--dataset",
                                  "/test/images", "--rank", "8", "--max-iter", "3", "--output",
                                  basis, "--quiet"])
            images = ["--input", options.data, "--dataset", "/train/images"]
            commands = {
                "factorize": ["factorize"] + images + ["--rank", "16", "--max-iter", "3"],
                "factorize checkpoint": ["factorize"] + images + [
                    "--rank", "16", "--max-iter", "4", "--checkpoint-every", "2",
                    "--checkpoint", os.path.join(full, "checkpoint.h5")],
                "generate": ["generate", "--rows", "3000", "--cols", "50", "--rank", "4"],
                "transform": ["transform", "--basis", basis] + images,
                "train": ["train", "--data", options.data, "--model", "cnn", "--epochs", "1"],
            }
            for what, arguments in commands.items():
                output = os.path.join(full, "out.h5")
                with open(output, "w") as f:
                    f.write("the file that was here")  # replaced only when the run succeeds
                expected_path = (os.path.join(full, "checkpoint.h5") if "checkpoint" in what
                                 else output)
                start = time.monotonic()
                try:
                    result = run(options.dnmf, options.ranks,
                                 arguments + ["--output", output, "--force", "--quiet"],
                                 timeout=SECONDS)
                except subprocess.TimeoutExpired:
                    check(False, f"{what}: ends within {SECONDS} s")
                    continue
                seconds = time.monotonic() - start
                errors = [x for x in result.stderr.splitlines() if x.startswith("dnmf: error")]
                print(f"{what}: exit {result.returncode} after {seconds:.1f} s: {errors}")
                check(result.returncode == 1, f"{what}: exit 1, not {result.returncode}")
                check(len(errors) == 1 and expected_path in errors[0],
                      f"{what}: one error line naming {expected_path}")
                with open(output) as f:
                    check(f.read() == "the file that was here", f"{what}: the old output is intact")
                left = sorted(set(os.listdir(full)) - {"out.h5"})
                check(not left, f"{what}: no file left behind ({left})")
                for name in os.listdir(full):
                    os.remove(os.path.join(full, name))
        finally:
            subprocess.run(["umount", "--lazy", full], check=False)  # also if a rank hung there
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
