#!/usr/bin/python3
"""Flips random bytes of small HDF5 inputs and runs dnmf over each mutant, as a hostile user or
a failing disk would: prints and keeps every mutant on which dnmf hangs, crashes or says nothing.

    /usr/bin/python3 scripts/fuzz_inputs.py --dnmf build/src/dnmf --count 200 --keep out/fuzz

Each mutant is read by `dnmf info` (one process) and `dnmf factorize` at 2 ranks; the expected
outcome is exit 0 (the damage missed what is read) or exit 1 / 2 with one `dnmf: error` line,
within --timeout seconds. A mutant that fails this is copied to --keep; the ones worth keeping
go to tests/corpus/, which the suite runs dnmf over (tests/cli/corpus.py).
"""

import argparse
import os
import shutil
import subprocess
import tempfile

import h5py
import numpy as np


def seed_files(d):
    """A dense matrix with string attributes, and an AnnData-style CSR group."""
    rng = np.random.default_rng(0)
    dense = os.path.join(d, "dense.h5")
    with h5py.File(dense, "w") as f:
        f["A"] = rng.random((12, 7))
        f.attrs["note"] = "a variable-length string"
        f.attrs["loss"] = "frobenius"
    sparse = os.path.join(d, "cells.h5ad")
    a = (rng.random((30, 9)) < 0.3) * rng.integers(1, 9, (30, 9))
    rows, cols = np.nonzero(a)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=30))])
    with h5py.File(sparse, "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["shape"] = np.array(a.shape)
        g["data"], g["indices"], g["indptr"] = a[rows, cols].astype(np.float32), cols, indptr
    return [dense, sparse]


def outcome(argv, timeout):
    """'ok', 'error' (exit 1/2 with one error line) or what went wrong."""
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1")
    try:
        r = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return "hang"
    lines = [x for x in r.stderr.splitlines() if x.startswith("dnmf: error")]
    if r.returncode == 0:
        return "ok"
    if r.returncode in (1, 2) and len(lines) == 1:
        return "error"
    return f"exit {r.returncode} with {len(lines)} error lines"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--flips", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("--keep", required=True)
    options = parser.parse_args()
    os.makedirs(options.keep, exist_ok=True)
    rng = np.random.default_rng(options.seed)
    tally = {}
    with tempfile.TemporaryDirectory() as d:
        seeds = seed_files(d)
        for i in range(options.count):
            source = seeds[i % len(seeds)]
            data = bytearray(open(source, "rb").read())
            for _ in range(options.flips):
                data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
            mutant = os.path.join(d, f"mutant-{i}" + os.path.splitext(source)[1])
            open(mutant, "wb").write(data)
            out = os.path.join(d, "out.h5")
            results = {
                "info": outcome([options.dnmf, "info", mutant], options.timeout),
                "factorize np2": outcome(["mpirun", "-np", "2", "--allow-run-as-root", options.dnmf,
                                          "factorize", "--input", mutant, "--rank", "2",
                                          "--max-iter", "5", "--output", out, "--force"],
                                         options.timeout),
            }
            for what, result in results.items():
                tally[(what, result)] = tally.get((what, result), 0) + 1
            bad = {w: r for w, r in results.items() if r not in ("ok", "error")}
            if bad:
                kept = os.path.join(options.keep, os.path.basename(mutant))
                shutil.copy(mutant, kept)
                print(f"{kept}: {bad}", flush=True)
            if os.path.exists(out):
                os.remove(out)
    for (what, result), n in sorted(tally.items()):
        print(f"{what}: {result}: {n}")


if __name__ == "__main__":
    main()
