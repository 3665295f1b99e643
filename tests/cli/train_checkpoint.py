#!/usr/bin/python3
"""Checkpoint and restart of dnmf train with real signals: a run sent SIGUSR1 through mpirun (or
SIGTERM as one process) in the middle of an epoch writes its checkpoint, exits with code 75, and
--resume then ends with bitwise the parameters and optimizer state of an uninterrupted run with
the same rank count. Periodic checkpoints (--checkpoint-every steps) resume the same way."""

import argparse
import os
import signal
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from common import (Checks, amplification, command, gamma, gamma_probabilistic, iterated_tolerance,
                    perturbed, run_interrupted)

check = Checks()


def arrays(path):
    """Every dataset but the timing history, by name."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, o: out.__setitem__(name, o[()])
                     if isinstance(o, h5py.Dataset) and name != "history/seconds"
                     and name != "history/images_per_second" else None)
        return out, dict(f.attrs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    options = parser.parse_args()
    dnmf, data = options.dnmf, options.data
    model = ["train", "--data", data, "--model", "cnn", "--conv-filters", "8", "--seed", "5"]
    train = model + ["--epochs", "2"]
    with tempfile.TemporaryDirectory() as d:
        reference = {}
        for ranks in (1, 2):
            out = os.path.join(d, f"reference-{ranks}.h5")
            subprocess.run(command(dnmf, ranks, train + ["--output", out, "--quiet"]), check=True,
                           timeout=300)
            reference[ranks] = arrays(out)[0]

        for ranks, signal_number, marker in ((2, signal.SIGUSR1, "step 40/"),
                                             (1, signal.SIGTERM, "step 90/")):
            name = signal.Signals(signal_number).name
            ckpt = os.path.join(d, f"ckpt-{ranks}.h5")
            out = os.path.join(d, f"resumed-{ranks}.h5")
            code, err = run_interrupted(dnmf, ranks, train + [
                "--output", out, "--checkpoint", ckpt, "--progress", "lines"], marker, signal_number)
            check(code == 75, f"{name} at {ranks} rank(s): exit code 75 (got {code})")
            check("continue with --resume" in err, f"{name}: says how to continue")
            check(os.path.exists(ckpt) and not os.path.exists(out),
                  f"{name}: checkpoint written, no output under the real name")
            saved = arrays(ckpt)[1]
            check(saved["epoch"] == 0 and 0 < saved["batch_in_epoch"] < 125,
                  f"{name}: stopped inside the first epoch (batch {saved['batch_in_epoch']})")
            subprocess.run(command(dnmf, ranks, ["train", "--data", data, "--epochs", "2",
                                                 "--resume", ckpt, "--output", out, "--quiet"]),
                           check=True, timeout=300)
            resumed = arrays(out)[0]
            same = [key for key in reference[ranks] if not key.startswith("history")
                    and np.array_equal(resumed[key], reference[ranks][key])]
            differing = sorted(set(reference[ranks]) - set(same) - {k for k in reference[ranks]
                                                                      if k.startswith("history")})
            check(not differing, f"{name}: parameters and optimizer state bitwise equal to the "
                                 f"uninterrupted run at {ranks} rank(s) (differing: {differing})")
            # The same per-step losses (the parameters are bitwise equal), summed in double in
            # another association at more than one rank (the saved sum over the ranks, then the
            # rest): two sums of 125 steps x ranks positive terms, each within γ of it.
            rtol = 2 * gamma(125 * ranks + ranks)
            check(np.allclose(resumed["history/loss"], reference[ranks]["history/loss"], rtol=rtol, atol=0),
                  f"{name}: the epochs' mean losses agree")

        # The 2-rank checkpoint resumed on 1 rank: the same to float32 rounding (the global
        # batches are the same at any rank count; only the order of the sums differs).
        other = os.path.join(d, "resumed-other.h5")
        subprocess.run(command(dnmf, 1, ["train", "--data", data, "--epochs", "2", "--resume",
                                         os.path.join(d, "ckpt-2.h5"), "--output", other,
                                         "--quiet"]), check=True, timeout=300)
        resumed = arrays(other)[0]
        # A step's rounding per gradient entry in both runs (products over at most dense1's
        # 13 x 13 x 8 = 1352 inputs, the batch of 64 and 2 ranks; probabilistic, as float's worst
        # case would be too loose), times the 1-rank run's amplification, measured from the
        # images perturbed.
        probe_data, probe = os.path.join(d, "probe-data.h5"), os.path.join(d, "probe.h5")
        with h5py.File(data, "r") as f, h5py.File(probe_data, "w") as g:
            for group in ("train", "test"):
                g[f"/{group}/images"] = perturbed(f[f"/{group}/images"][()] / 255, 1)
                g[f"/{group}/labels"] = f[f"/{group}/labels"][()]
        subprocess.run(command(dnmf, 1, model[:2] + [probe_data] + model[3:]
                               + ["--epochs", "2", "--output", probe, "--quiet"]), check=True, timeout=300)
        probed = arrays(probe)[0]
        rounding = 2 * gamma_probabilistic(1352 + 64 + 2, np.float32)
        for k in ("conv1/W", "dense1/W", "dense2/W"):
            difference = np.linalg.norm(resumed[k] - reference[1][k]) / np.linalg.norm(reference[1][k])
            tolerance = iterated_tolerance(amplification(reference[1][k], probed[k]), rounding)
            check(difference < tolerance,
                  f"a 2-rank checkpoint resumed on 1 rank agrees to rounding ({k}: {difference:.1e}, "
                  f"bound {tolerance:.1e})")

        # Periodic checkpoints: resume from the one written after step 100.
        ckpt = os.path.join(d, "periodic.h5")
        out = os.path.join(d, "periodic-out.h5")
        subprocess.run(command(dnmf, 2, model + ["--epochs", "1", "--output", os.path.join(d, "one.h5"),
                                                 "--checkpoint", ckpt, "--checkpoint-every", "100",
                                                 "--quiet"]),
                       check=True, timeout=300)
        check(arrays(ckpt)[1]["step"] == 100, "--checkpoint-every 100 wrote the state after step 100")
        subprocess.run(command(dnmf, 2, ["train", "--data", data, "--epochs", "2", "--resume", ckpt,
                                         "--output", out, "--quiet"]), check=True, timeout=300)
        resumed = arrays(out)[0]
        check(all(np.array_equal(resumed[k], reference[2][k]) for k in reference[2]
                  if not k.startswith("history")),
              "resumed from a periodic checkpoint: bitwise equal to the uninterrupted run")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
