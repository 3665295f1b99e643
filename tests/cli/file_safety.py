#!/usr/bin/python3
"""What a run does to files that appear while it works.

- An output (or report) that another run creates while this one computes is not replaced at the
  end without --force: the run ends with one error line naming it, exit 1, the other run's file
  as it was and no temporary file left; with --force it is replaced.
- A resumed factorization records the seed of the run it continues (its factors come from that
  seed), and refuses another --seed."""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

from common import Checks, changed_files, command, snapshot

check = Checks()


def factorize(data, out, extra):
    return ["factorize", "--input", data, "--rank", "4", "--tol", "0", "--output", out,
            "--progress", "none", *extra]


def created_meanwhile(dnmf, ranks, d, data, target_name, force):
    """Starts a 3-second run; once its first checkpoint shows it is past every start-up check,
    another "run" creates `target_name`. Returns (exit code, stderr, the snapshot taken then)."""
    out, ckpt = os.path.join(d, "race.h5"), os.path.join(d, "race-ckpt.h5")
    target = os.path.join(d, target_name)
    extra = ["--max-iter", "100000000", "--time-limit", "3", "--checkpoint", ckpt,
             "--checkpoint-every", "50", "--report", os.path.join(d, "race.json")]
    process = subprocess.Popen(command(dnmf, ranks, factorize(data, out, extra + (["--force"] if force else []))),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1"))
    deadline = time.monotonic() + 60
    while not os.path.exists(ckpt) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    with open(target, "w") as f:
        f.write("written by another run meanwhile")
    before = {target: snapshot(d)[target]}
    _, err = process.communicate(timeout=120)
    for name in (out, ckpt, os.path.join(d, "race.json")):
        if os.path.exists(name) and name != target:
            os.remove(name)
    return process.returncode, err, before


def concurrent_outputs(dnmf, ranks, d, data):
    for target in ("race.h5", "race.json"):
        what = f"{target} created meanwhile, {ranks} rank(s)"
        code, err, before = created_meanwhile(dnmf, ranks, d, data, target, force=False)
        lines = [line for line in err.splitlines() if line.startswith("dnmf: error")]
        check(code == 1, f"{what}: exit 1 (got {code})")
        check(len(lines) == 1 and os.path.join(d, target) in lines[0] and "exists" in lines[0],
              f"{what}: one error line naming it ({lines})")
        check(not changed_files(before, snapshot(d)), f"{what}: the other run's file is unchanged")
        hidden = [name for name in os.listdir(d) if name.startswith(".")]
        check(not hidden, f"{what}: no temporary file left ({hidden})")
        os.remove(os.path.join(d, target))

    code, err, _ = created_meanwhile(dnmf, ranks, d, data, "race.h5", force=True)
    with open(os.path.join(d, "race.h5"), "rb") as f:
        replaced = f.read(8) == b"\x89HDF\r\n\x1a\n"
    check(code == 0 and replaced, f"with --force, an output created meanwhile is replaced "
                                  f"({ranks} rank(s), exit {code}) {err.strip()[:200]}")
    os.remove(os.path.join(d, "race.h5"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "A.h5")
        with h5py.File(data, "w") as f:
            f["A"] = np.random.default_rng(0).random((60, 40))
        concurrent_outputs(options.dnmf, options.ranks, d, data)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
