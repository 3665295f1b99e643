#!/usr/bin/python3
"""What a run does to files that appear while it works, and what a resumed run records.

- An output (or report) that another run creates while this one computes is not replaced at the
  end without --force: the run ends with one error line naming it, exit 1, the other run's file
  as it was and no temporary file left; with --force it is replaced.
- A resumed factorization records the seed of the run it continues (its factors come from that
  seed), and refuses another --seed.
- A temporary file left beside the output by a killed run is named in a note, and left alone.
- Output and checkpoint paths of over 300 characters work."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

from common import Checks, changed_files, command, run, snapshot

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
             "--checkpoint-every", "10", "--report", os.path.join(d, "race.json")]
    process = subprocess.Popen(command(dnmf, ranks, factorize(data, out, extra + (["--force"] if force else []))),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1"))
    deadline = time.monotonic() + 60
    while not os.path.exists(ckpt) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    # Under heavy load the run could reach its time limit before the loop saw the checkpoint;
    # then the file below appears after the run, and the test would say nothing useful.
    still_running = process.poll() is None
    with open(target, "w") as f:
        f.write("written by another run meanwhile")
    before = {target: snapshot(d)[target]}
    _, err = process.communicate(timeout=120)
    check(still_running, f"{target_name}: the run was still working when the file appeared "
                         f"(exit {process.returncode}: {err.strip()[:300]})")
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


def seed_on_resume(dnmf, ranks, d, data):
    first, resumed, full = (os.path.join(d, n) for n in ("first.h5", "resumed.h5", "full.h5"))
    report = os.path.join(d, "resumed.json")
    for arguments in (factorize(data, first, ["--seed", "5", "--max-iter", "4"]),
                      factorize(data, full, ["--seed", "5", "--max-iter", "8"]),
                      factorize(data, resumed, ["--resume", first, "--max-iter", "8",
                                                "--report", report])):
        result = run(dnmf, ranks, arguments)
        check(result.returncode == 0, f"dnmf {' '.join(arguments[:2])}... exits 0 {result.stderr.strip()}")
    with h5py.File(resumed, "r") as f, h5py.File(full, "r") as g:
        check(f.attrs["seed"] == 5, f"a resumed run records the seed of the run it continues "
                                    f"(5, recorded {f.attrs['seed']})")
        check(np.array_equal(f["W"][()], g["W"][()]), "and its factors are that seed's run's")
    with open(report) as f:
        check(json.load(f)["seed"] == 5, "the report says the same seed")
    other = run(dnmf, ranks, factorize(data, os.path.join(d, "other.h5"),
                                       ["--resume", first, "--max-iter", "8", "--seed", "6"]))
    check(other.returncode == 2 and "--seed 5" in other.stderr and "same seed" in other.stderr
          and not os.path.exists(os.path.join(d, "other.h5")),
          f"resuming with another --seed is refused: {other.stderr.strip()}")
    same = run(dnmf, ranks, factorize(data, os.path.join(d, "same.h5"),
                                      ["--resume", first, "--max-iter", "8", "--seed", "5"]))
    check(same.returncode == 0, "resuming with the same --seed given again works")


def leftover_temporary(dnmf, ranks, d, data):
    """A temporary file that a killed run left beside the output is named, and left alone."""
    out = os.path.join(d, "left.h5")
    leftover = os.path.join(d, ".left.h5.tmp-999999")
    with open(leftover, "w") as f:
        f.write("half of a killed run's output")
    result = run(dnmf, ranks, factorize(data, out, ["--max-iter", "3", "--quiet"]))
    notes = [x for x in result.stderr.splitlines() if x.startswith("dnmf: note:")]
    check(result.returncode == 0, f"a run beside a leftover temporary file exits 0 ({result.returncode})")
    check(len(notes) == 1 and leftover in notes[0], f"one note names the leftover: {notes}")
    check(os.path.exists(leftover), "the leftover is left alone (another run may be writing it)")
    os.remove(leftover)


def long_paths(dnmf, ranks, d, data):
    """An output path of over 300 characters works: Open MPI's shared-file-pointer component once
    crashed in MPI_File_open on paths of about 230 and more; dnmf no longer opens files through
    MPI-IO."""
    deep = os.path.join(d, *(["a-directory-name-of-sixty-characters-to-make-a-long-path-xx"] * 5))
    os.makedirs(deep)
    out = os.path.join(deep, "an-output-file-with-a-long-name-too.h5")
    result = run(dnmf, ranks, factorize(data, out, ["--max-iter", "3", "--quiet",
                                                    "--checkpoint", out + ".checkpoint.h5",
                                                    "--checkpoint-every", "1"]))
    check(result.returncode == 0 and os.path.exists(out),
          f"an output path of {len(out)} characters works ({result.returncode} {result.stderr.strip()})")


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
        seed_on_resume(options.dnmf, options.ranks, d, data)
        leftover_temporary(options.dnmf, options.ranks, d, data)
        long_paths(options.dnmf, options.ranks, d, data)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
