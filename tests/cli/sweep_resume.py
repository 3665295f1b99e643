#!/usr/bin/python3
"""dnmf sweep stopped by a signal (SIGTERM at one rank, SIGUSR1 through mpirun, which forwards
it) writes the replicates it finished to --checkpoint, exits with code 75 and leaves no output;
--resume fits only the others and ends with every dataset of an uninterrupted sweep, bitwise
(the same layout), but the seconds and which group fitted a replicate. A checkpoint resumed
with other options, or one whose replicate columns are cut short, is refused in one line;
without --checkpoint the stop keeps nothing and says so."""

import argparse
import os
import signal
import sys
import tempfile

import h5py
import numpy as np

from common import Checks, run, run_interrupted, run_ok

check = Checks()


def datasets(path):
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: found.__setitem__(name, item[()])
                     if isinstance(item, h5py.Dataset) else None)
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    options = parser.parse_args()
    dnmf, ranks = options.dnmf, options.ranks
    stop = signal.SIGTERM if ranks == 1 else signal.SIGUSR1
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "planted.h5")
        run_ok(dnmf, 1, ["generate", "--rows", "400", "--cols", "150", "--rank", "5", "--noise",
                         "0.5", "--noise-model", "centered", "--seed", "2", "--output", data,
                         "--quiet"])
        sweep = ["sweep", "--input", data, "--dataset", "/A", "--rank", "3:6", "--replicates",
                 "4", "--groups", str(ranks), "--max-iter", "1500", "--tol", "0", "--threads",
                 "1", "--seed", "4"]
        whole = os.path.join(d, "whole.h5")
        run_ok(dnmf, ranks, sweep + ["--output", whole, "--quiet"])

        out, checkpoint = os.path.join(d, "out.h5"), os.path.join(d, "checkpoint.h5")
        # Largest k first: the first fit of k = 6 ends before those of k = 3 begin.
        code, err = run_interrupted(dnmf, ranks, sweep + ["--output", out, "--checkpoint",
                                                          checkpoint],
                                    "dnmf sweep: group 0: k = 6, replicate 0", stop)
        name = signal.Signals(stop).name
        check(code == 75, f"{name}: exit code 75 (got {code})")
        check("--resume" in err, f"{name}: says how to continue")
        check(os.path.exists(checkpoint) and not os.path.exists(out),
              f"{name}: checkpoint written, no output")
        check(all(not f.startswith(".") for f in os.listdir(d)), f"{name}: no temporary file left")
        with h5py.File(checkpoint, "r") as f:
            done = {k: f[f"k{k}/replicates/done"][()] for k in (3, 4, 5, 6)}
        finished = sum(int(v.sum()) for v in done.values())
        check(1 <= finished < 16, f"{name}: stopped mid-sweep ({finished} of 16 replicates done)")

        wrong = run(dnmf, ranks, sweep[:-1] + ["5", "--output", out, "--resume", checkpoint])
        lines = [line for line in wrong.stderr.splitlines() if line.startswith("dnmf:")]
        check(wrong.returncode == 2 and len(lines) == 1 and "--seed 4" in lines[0]
              and not os.path.exists(out), f"another --seed is refused in one line: {lines}")
        wrong = run(dnmf, ranks, sweep + ["--batch", "2", "--output", out, "--resume", checkpoint])
        lines = [line for line in wrong.stderr.splitlines() if line.startswith("dnmf:")]
        check(wrong.returncode == 2 and len(lines) == 1 and "--batch 1" in lines[0]
              and not os.path.exists(out),
              f"another --batch (its windows draw the held-out sets) is refused: {lines}")

        damaged = os.path.join(d, "damaged.h5")
        with h5py.File(checkpoint, "r") as f, h5py.File(damaged, "w") as g:
            for name in f:
                f.copy(f[name], g, name)
            g.attrs.update(f.attrs)
            seconds = g["k6/replicates/seconds"][()]
            del g["k6/replicates/seconds"]
            g["k6/replicates/seconds"] = seconds[:-1]
        broken = run(dnmf, ranks, sweep + ["--output", out, "--resume", damaged])
        lines = [line for line in broken.stderr.splitlines() if line.startswith("dnmf:")]
        check(broken.returncode == 1 and len(lines) == 1 and "k6/replicates/seconds" in lines[0]
              and not os.path.exists(out), f"a checkpoint with a short column is refused in one "
                                           f"line naming it: {lines}")

        result = run_ok(dnmf, ranks, sweep + ["--output", out, "--resume", checkpoint])
        fitted = sum(1 for line in result.stderr.splitlines() if ", replicate " in line)
        check(fitted == 16 - finished, f"--resume fits the {16 - finished} replicates not done "
                                       f"(fitted {fitted})")
        resumed, reference = datasets(out), datasets(whole)
        # The replicates left are shared among the groups anew: which group fitted one (of the
        # same size here) may change, and the time it took.
        differ = [name for name in reference if not name.endswith(("seconds", "group"))
                  and not np.array_equal(resumed.get(name), reference[name])]
        check(sorted(resumed) == sorted(reference) and not differ,
              f"resumed = uninterrupted, bitwise but the seconds and groups (differ: {differ})")

        kept = os.path.join(d, "kept.h5")
        code, err = run_interrupted(dnmf, ranks, sweep + ["--output", kept],
                                    "dnmf sweep: group 0: k = 6, replicate 0", stop)
        check(code == 75 and "nothing kept" in err and not os.path.exists(kept),
              f"{name} without --checkpoint: exit 75, says nothing was kept, writes nothing")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
