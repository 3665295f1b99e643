#!/usr/bin/python3
"""slurm/factorize.sbatch, slurm/sweep.sbatch or slurm/train.sbatch on a real (one-node) Slurm cluster: submitted
with `sbatch --wait` the job writes bitwise what the same run writes under mpirun -np 2; sent USR1
mid-run (as --signal=B:USR1@N does before a time limit) it checkpoints, requeues itself, resumes
by itself and ends with bitwise the result of the uninterrupted run. Needs SLURM_CONF
(scripts/slurm-local.sh start)."""

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


# Per job: the arguments of the batch script (after its output), of the equivalent dnmf command,
# the progress line after which the test signals the job, and the datasets compared.
JOBS = {
    "factorize": {
        "script_args": lambda data, out: [data, "/train/images", "12", out,
                                          "--max-iter", "150", "--tol", "0", "--seed", "3"],
        "dnmf_args": lambda data, out: ["factorize", "--input", data, "--dataset", "/train/images",
                                        "--rank", "12", "--output", out, "--max-iter", "150",
                                        "--tol", "0", "--seed", "3", "--quiet"],
        "marker": "it 30/",
        "checkpoint_every": "20",
        "datasets": ["W", "H"],
    },
    "sweep": {
        "script_args": lambda data, out: [data, "/train/images", "4:8:2", out, "--replicates",
                                          "3", "--groups", "2", "--max-iter", "80", "--tol", "0",
                                          "--seed", "3"],
        "dnmf_args": lambda data, out: ["sweep", "--input", data, "--dataset", "/train/images",
                                        "--rank", "4:8:2", "--replicates", "3", "--groups", "2",
                                        "--max-iter", "80", "--tol", "0", "--seed", "3",
                                        "--output", out, "--quiet"],
        "marker": "k = 8, replicate 0",
        "checkpoint_every": "0",
        "datasets": ["k4/H", "k4/W", "k8/H", "k8/W", "k4/replicates/H", "k6/replicates/H",
                     "k8/replicates/H", "summary/test_error_mean", "summary/stability"],
    },
    "train": {
        "script_args": lambda data, out: [data, out, "--model", "cnn", "--conv-filters", "8",
                                          "--epochs", "2", "--seed", "5"],
        "dnmf_args": lambda data, out: ["train", "--data", data, "--output", out, "--model", "cnn",
                                        "--conv-filters", "8", "--epochs", "2", "--seed", "5",
                                        "--quiet"],
        "marker": "step 60/",
        "checkpoint_every": "100",
        "datasets": ["conv1/W", "conv1/b", "dense1/W", "dense1/b", "dense2/W", "dense2/b",
                     "optimizer/adam/m", "optimizer/adam/v"],
    },
}


def read(path, names):
    with h5py.File(path, "r") as f:
        return [f[name][()] for name in names]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def job_state(job):
    out = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True).stdout
    fields = dict(item.split("=", 1) for item in out.split() if "=" in item)
    return fields.get("JobState"), int(fields.get("Restarts", "0"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--script", required=True)
    parser.add_argument("--job", required=True, choices=sorted(JOBS))
    options = parser.parse_args()
    job = JOBS[options.job]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        reference = os.path.join(d, "reference.h5")
        subprocess.run(command(options.dnmf, 2, job["dnmf_args"](options.data, reference)),
                       check=True, timeout=300)
        expected = read(reference, job["datasets"])
        env = dict(os.environ, DNMF=options.dnmf, DNMF_CHECKPOINT_EVERY=job["checkpoint_every"])

        # 1. A plain submission.
        plain = os.path.join(d, "plain.h5")
        log = os.path.join(d, "plain.log")
        result = subprocess.run(["sbatch", "--wait", f"--output={log}", options.script]
                                + job["script_args"](options.data, plain),
                                env=env, capture_output=True, text=True, timeout=300)
        check(result.returncode == 0, f"sbatch --wait exits 0 ({result.returncode}: {result.stderr.strip()})")
        check(same(read(plain, job["datasets"]), expected),
              "the batch job's result equals that of mpirun -np 2, bitwise")
        check(not os.path.exists(plain + ".checkpoint.h5"), "a finished job removes its checkpoint")

        # 2. USR1 mid-run: checkpoint, requeue, resume.
        signalled = os.path.join(d, "signalled.h5")
        log = os.path.join(d, "signalled.log")
        submitted = subprocess.run(["sbatch", "--parsable", f"--output={log}", options.script]
                                   + job["script_args"](options.data, signalled),
                                   env=env, capture_output=True, text=True, check=True)
        job_id = submitted.stdout.strip().split(";")[0]
        deadline = time.time() + 120
        while time.time() < deadline:
            if os.path.exists(log) and job["marker"] in open(log).read():
                break
            time.sleep(0.1)
        subprocess.run(["scancel", "--signal=USR1", "--batch", job_id], check=True)
        # Slurm holds a requeued job back for AuthInfo's cred_expire + 1 s (5 s on the test
        # cluster) so that the new run's credential is not taken for the revoked one of the first
        # run; forcing an earlier start makes the launch fail. Between the requeue and PENDING the
        # first run shows its own end state, so only an end state after PENDING is the restart's.
        deadline = time.time() + 240
        requeued = False
        while time.time() < deadline:
            state, restarts = job_state(job_id)
            requeued = requeued or (restarts >= 1 and state == "PENDING")
            if requeued and state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"):
                break
            time.sleep(0.5)
        state, restarts = job_state(job_id)
        text = open(log).read()
        print(text[-2000:])
        if state != "COMPLETED":
            print(subprocess.run(["scontrol", "show", "job", job_id], capture_output=True,
                                 text=True).stdout)
        check(state == "COMPLETED", f"the signalled job completed after its requeue (state {state})")
        check(restarts == 1, f"it was requeued once (restarts {restarts})")
        check("checkpointed; requeueing" in text and "resuming from" in text,
              "the log shows the checkpoint, the requeue and the resume")
        check(same(read(signalled, job["datasets"]), expected),
              "the resumed job's result equals the uninterrupted run's, bitwise")
    print(f"{len(PASSED)} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
