#!/usr/bin/python3
"""slurm/factorize.sbatch on a real (one-node) Slurm cluster: submitted with `sbatch --wait` it
writes the same factors as the same run under mpirun; sent USR1 mid-run (as --signal=B:USR1@N
does before a time limit) it checkpoints, requeues itself, resumes by itself and ends with
bitwise the factors of the uninterrupted run. Needs SLURM_CONF (scripts/slurm-local.sh start)."""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from common import command  # noqa: E402

FAILURES, PASSED = [], []


def check(condition, what):
    (PASSED if condition else FAILURES).append(what)
    print(("ok: " if condition else "FAILED: ") + what, flush=True)


def factors(path):
    with h5py.File(path, "r") as f:
        return f["W"][()], f["H"][()]


def job_state(job):
    out = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True).stdout
    fields = dict(item.split("=", 1) for item in out.split() if "=" in item)
    return fields.get("JobState"), int(fields.get("Restarts", "0"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--script", required=True)
    options = parser.parse_args()
    arguments = ["--max-iter", "150", "--tol", "0", "--seed", "3"]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        reference = os.path.join(d, "reference.h5")
        subprocess.run(command(options.dnmf, 2, [
            "factorize", "--input", options.data, "--dataset", "/train/images", "--rank", "12",
            "--output", reference, "--quiet"] + arguments), check=True, timeout=300)
        env = dict(os.environ, DNMF=options.dnmf, DNMF_CHECKPOINT_EVERY="20")

        # 1. A plain submission.
        plain = os.path.join(d, "plain.h5")
        log = os.path.join(d, "plain.log")
        result = subprocess.run(["sbatch", "--wait", f"--output={log}", options.script, options.data,
                                 "/train/images", "12", plain] + arguments,
                                env=env, capture_output=True, text=True, timeout=300)
        check(result.returncode == 0, f"sbatch --wait exits 0 ({result.returncode}: {result.stderr.strip()})")
        W, H = factors(plain)
        W0, H0 = factors(reference)
        check(np.array_equal(W, W0) and np.array_equal(H, H0),
              "the batch job's factors equal those of mpirun -np 2, bitwise")
        check(not os.path.exists(plain + ".checkpoint.h5"), "a finished job removes its checkpoint")

        # 2. USR1 mid-run: checkpoint, requeue, resume.
        signalled = os.path.join(d, "signalled.h5")
        log = os.path.join(d, "signalled.log")
        submitted = subprocess.run(["sbatch", "--parsable", f"--output={log}", options.script,
                                    options.data, "/train/images", "12", signalled] + arguments,
                                   env=env, capture_output=True, text=True, check=True)
        job = submitted.stdout.strip().split(";")[0]
        deadline = time.time() + 120
        while time.time() < deadline:
            if os.path.exists(log) and "it 30/" in open(log).read():
                break
            time.sleep(0.2)
        subprocess.run(["scancel", "--signal=USR1", "--batch", job], check=True)
        # Slurm holds a requeued job back for a while (BeginTime); release it at once.
        deadline = time.time() + 240
        released = False
        while time.time() < deadline:
            state, restarts = job_state(job)
            if restarts >= 1 and state == "PENDING" and not released:
                subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], check=True)
                released = True
            if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT") and restarts >= 1:
                break
            time.sleep(0.5)
        state, restarts = job_state(job)
        text = open(log).read()
        print(text[-2000:])
        check(state == "COMPLETED", f"the signalled job completed after its requeue (state {state})")
        check(restarts == 1, f"it was requeued once (restarts {restarts})")
        check("checkpointed; requeueing" in text and "resuming from" in text,
              "the log shows the checkpoint, the requeue and the resume")
        W, H = factors(signalled)
        check(np.array_equal(W, W0) and np.array_equal(H, H0),
              "the resumed job's factors equal the uninterrupted run's, bitwise")
    print(f"{len(PASSED)} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
