"""Shared helpers for the tests that drive the dnmf program as a user would."""

import os
import subprocess

MPI_FLAGS = ["--oversubscribe", "--allow-run-as-root"]


def command(dnmf, ranks, arguments, as_user=None):
    """The argv that runs `dnmf arguments` on `ranks` MPI processes (no mpirun for one)."""
    argv = [dnmf] + list(arguments)
    if ranks > 1:
        argv = ["mpirun", "-np", str(ranks)] + MPI_FLAGS + argv
    if as_user is not None:
        argv = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups"] + argv
    return argv


def run(dnmf, ranks, arguments, timeout=60, as_user=None, extra_env=None):
    """Runs dnmf; a hang is a failure (TimeoutExpired propagates)."""
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1", **(extra_env or {}))
    return subprocess.run(command(dnmf, ranks, arguments, as_user), capture_output=True, text=True,
                          timeout=timeout, env=env)
