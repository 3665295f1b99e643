"""Shared helpers for the tests that drive the dnmf program as a user would."""

import os
import stat
import subprocess

import numpy as np

MPI_FLAGS = ["--oversubscribe", "--allow-run-as-root"]


def command(dnmf, ranks, arguments, as_user=None):
    """The argv that runs `dnmf arguments` on `ranks` MPI processes (no mpirun for one)."""
    argv = [dnmf] + list(arguments)
    if ranks > 1:
        argv = ["mpirun", "-np", str(ranks)] + MPI_FLAGS + argv
    if as_user is not None:
        argv = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups"] + argv
    return argv


def run(dnmf, ranks, arguments, timeout=60, as_user=None, extra_env=None, cwd=None):
    """Runs dnmf in `cwd` (default: this one); a hang is a failure (TimeoutExpired propagates)."""
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1", **(extra_env or {}))
    return subprocess.run(command(dnmf, ranks, arguments, as_user), capture_output=True, text=True,
                          errors="replace", timeout=timeout, env=env, cwd=cwd)


def run_interrupted(dnmf, ranks, arguments, marker, signal_number):
    """Starts dnmf with progress lines on stderr and sends it `signal_number` once a line starting
    with `marker` appears; returns (exit code, everything it wrote to stderr)."""
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1")
    process = subprocess.Popen(command(dnmf, ranks, arguments), stderr=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=env)
    lines = []
    for line in process.stderr:
        lines.append(line)
        if line.startswith(marker):
            process.send_signal(signal_number)
            break
    _, err = process.communicate(timeout=120)
    return process.returncode, "".join(lines) + err


def run_ok(dnmf, ranks, arguments, timeout=240, extra_env=None):
    """Runs dnmf and stops the test (printing its output) unless it exits with 0."""
    result = run(dnmf, ranks, arguments, timeout=timeout, extra_env=extra_env)
    if result.returncode != 0:
        print(result.stdout, result.stderr)
        raise SystemExit(f"dnmf {' '.join(arguments)} at {ranks} ranks exited {result.returncode}")
    return result


def snapshot(directory):
    """Every regular file under `directory` (not FIFOs, which reading would block) with its bytes
    and modification time: what a failed run must leave as it was."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            status = os.lstat(path)
            if stat.S_ISREG(status.st_mode):
                with open(path, "rb") as f:
                    files[path] = (f.read(), status.st_mtime_ns)
    return files


def changed_files(before, after):
    """The names of the files of snapshot `before` that `after` lacks or holds changed."""
    return sorted(os.path.basename(path) for path in before if after.get(path) != before[path])


class Checks:
    """Records named checks; `check(condition, what)` prints each as it is made."""

    def __init__(self):
        self.passed = []
        self.failed = []

    def __call__(self, condition, what):
        (self.passed if condition else self.failed).append(what)
        print(("ok: " if condition else "FAILED: ") + what, flush=True)

    def exit_code(self):
        """Prints the tally; 1 if any check failed."""
        print(f"{len(self.passed)} passed, {len(self.failed)} failed")
        return 1 if self.failed else 0


def relative(x, y):
    """||x - y|| / ||y||: how far x is from the reference y."""
    return np.linalg.norm(x - y) / max(np.linalg.norm(y), 1e-300)
