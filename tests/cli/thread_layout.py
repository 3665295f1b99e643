#!/usr/bin/python3
"""The kernel threads of each rank follow the layout, as the run report and the first log line
say (expectations from this machine's own affinity mask, never a fixed core count):

- one process, no mpirun: the CPUs of its affinity mask (all of a laptop); under taskset one;
- OMP_NUM_THREADS when set, --threads N over both;
- ranks bound one per core (mpirun --bind-to core): one each; unbound ranks divide their CPUs
  (mpirun --bind-to none, also oversubscribed: at least one);
- the BLAS runs one thread in each of them (never a pool of its own beside dnmf's), with the
  pthreads and the OpenMP build of OpenBLAS (each that is installed): a second kernel thread adds
  one thread to the process; --threads 0 is a usage error.
(end_to_end.py checks that the factors at 1 rank x 2 threads equal 1 x 1's to rounding.)"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from common import MPI_FLAGS, Checks, run

check = Checks()


def peak_threads(argv, env):
    """Runs argv and returns (its exit code, the most threads its process had at once), sampling
    /proc every few milliseconds: a pool's threads live from their first loop to the exit."""
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, len(os.listdir(f"/proc/{process.pid}/task")))
        except FileNotFoundError:
            break
        time.sleep(0.005)
    process.communicate()
    return process.returncode, peak


def blas_builds():
    """The OpenBLAS builds installed beside each other (Debian's alternatives), by name."""
    builds = {}
    for name in ("pthread", "openmp"):
        found = glob.glob(f"/usr/lib/*/openblas-{name}/libopenblas.so.0")
        if found:
            builds[name] = os.path.dirname(found[0])
    return builds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    options = parser.parse_args()
    cpus = len(os.sched_getaffinity(0))
    # The layout is the subject: nothing inherited may choose the count.
    os.environ.pop("OMP_NUM_THREADS", None)

    with tempfile.TemporaryDirectory() as d:
        report, out = os.path.join(d, "run.json"), os.path.join(d, "out.h5")

        def factorize(prefix=(), extra=(), env=None):
            arguments = ["factorize", "--input", options.data, "--dataset", "/train/images",
                         "--rank", "6", "--max-iter", "15", "--tol", "0", "--seed", "3",
                         "--output", out, "--report", report, "--force", "--progress", "lines",
                         *extra]
            argv = [*prefix, options.dnmf, *arguments]
            result = subprocess.run(argv, capture_output=True, text=True, timeout=240,
                                    env=dict(os.environ, **(env or {})))
            check(result.returncode == 0, f"{' '.join(argv[:6])}...: exit 0"
                                          + (f" ({result.stderr[-300:]})" if result.returncode else ""))
            with open(report) as f:
                values = json.load(f)
            return values, result.stderr.splitlines()[:1]

        def expect(what, values, first_line, ranks, threads):
            got = values["threads_per_rank"]
            blas = values["blas_threads_per_rank"]
            check(got["max"] == threads and got["mean"] == threads,
                  f"{what}: {threads} thread(s) per rank (report: {got})")
            # One pool: the rank's threads are dnmf's own, and the BLAS runs in each of them alone.
            check(blas["max"] == 1 and blas["mean"] == 1,
                  f"{what}: the BLAS runs one thread in each of dnmf's (report: {blas})")
            layout = f"{ranks} rank{'s' if ranks > 1 else ''} × {threads} thread{'s' if threads > 1 else ''}"
            check(first_line and first_line[0].startswith(f"dnmf factorize: {layout}, "),
                  f"{what}: the first line says {layout!r} ({first_line})")

        single, line = factorize(env={"OMP_NUM_THREADS": "1"})
        expect("OMP_NUM_THREADS=1", single, line, 1, 1)
        alone, line = factorize()
        expect("one process", alone, line, 1, cpus)
        check(alone["blas"].startswith("OpenBLAS") or alone["blas"] == "Eigen's own kernels",
              f"the report names the BLAS ({alone['blas']})")
        if shutil.which("taskset"):
            bound, line = factorize(prefix=("taskset", "-c", str(min(os.sched_getaffinity(0)))))
            expect("taskset to one CPU", bound, line, 1, 1)
        given, line = factorize(env={"OMP_NUM_THREADS": "3"})
        expect("OMP_NUM_THREADS=3", given, line, 1, 3)
        forced, line = factorize(extra=("--threads", "2"), env={"OMP_NUM_THREADS": "3"})
        expect("--threads 2 over OMP_NUM_THREADS=3", forced, line, 1, 2)

        mpirun = ("mpirun", "-np", "2", *MPI_FLAGS)
        if cpus >= 2:
            per_core, line = factorize(prefix=(*mpirun, "--bind-to", "core"))
            expect("2 ranks bound to a core each", per_core, line, 2, 1)
        unbound, line = factorize(prefix=(*mpirun, "--bind-to", "none"))
        expect("2 unbound ranks", unbound, line, 2, max(1, cpus // 2))
        three = ("mpirun", "-np", "3", *MPI_FLAGS, "--bind-to", "none")
        crowded, line = factorize(prefix=three)
        expect("3 unbound ranks", crowded, line, 3, max(1, cpus // 3))

        # One pool whichever OpenBLAS build is loaded: a second kernel thread adds one thread to
        # the process (dnmf's worker), not a BLAS team beside it. An OpenMP-built OpenBLAS takes
        # its count per calling thread, so a worker calling it would start a team of its own
        # unless it set that count to one (core/threads.hpp). MU's H update calls the BLAS from
        # the workers; its other threads (MPI's, OpenBLAS's idle pthreads pool) are the same in
        # both runs.
        for build, directory in blas_builds().items():
            env = dict(os.environ, LD_LIBRARY_PATH=directory)
            peaks = {}
            for threads in (1, 2):
                argv = [options.dnmf, "factorize", "--input", options.data, "--dataset",
                        "/train/images", "--rank", "20", "--algorithm", "mu", "--max-iter", "60",
                        "--tol", "0", "--seed", "3", "--output", out, "--report", report,
                        "--force", "--quiet", "--threads", str(threads)]
                code, peaks[threads] = peak_threads(argv, env)
                check(code == 0, f"OpenBLAS {build} build, --threads {threads}: exit 0")
            with open(report) as f:
                named = json.load(f)["blas"]
            expected = "(OpenMP)" if build == "openmp" else "(pthreads)"
            check(expected in named, f"OpenBLAS {build} build: the report says {expected} ({named})")
            check(peaks[2] - peaks[1] == 1,
                  f"OpenBLAS {build} build: --threads 2 runs one thread more than --threads 1 "
                  f"({peaks[1]} and {peaks[2]} threads in the process)")

        bad = run(options.dnmf, 1, ["factorize", "--input", options.data, "--dataset",
                                    "/train/images", "--rank", "2", "--output", out, "--force",
                                    "--threads", "0"])
        lines = [line for line in bad.stderr.splitlines() if line.startswith("dnmf")]
        check(bad.returncode == 2 and lines == ["dnmf: error: --threads must be >= 1, got 0"],
              f"--threads 0: one usage line ({bad.returncode}, {lines})")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
