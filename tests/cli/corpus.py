#!/usr/bin/python3
"""dnmf over every file of tests/corpus/: damaged HDF5 files on which dnmf once hung or crashed
(scripts/fuzz_inputs.py made most of them). `dnmf info` and `dnmf factorize` at the given rank
count must each end within seconds with exit 0, or with exit 1 or 2 and exactly one error line
naming the file, never by a signal; and the damage each file was kept for must be reported:
the command named in EXPECTED exits 1."""

import argparse
import os
import sys
import tempfile

from common import Checks, run

CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "corpus")

# file -> the command that must report the damage (exit 1): the one it once hung or crashed.
EXPECTED = {
    "fuzzed_dense_attribute.h5": "info",       # scripts/fuzz_inputs.py: SIGSEGV in H5HG_read
    "vlen_attribute_heap_loop.h5": "info",    # H5HG_read looped forever (free object of size 0)
    "vlen_attribute_heap_overrun.h5": "info",  # H5HG_read ran off its buffer (SIGSEGV)
}

SECONDS = 30  # the read guard gives up after 10 s; start-up under load takes a few more


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    options = parser.parse_args()
    check = Checks()
    files = sorted(f for f in os.listdir(CORPUS) if f.endswith((".h5", ".h5ad")))
    check(sorted(EXPECTED) == files, "every corpus file has its expected failure listed")
    with tempfile.TemporaryDirectory() as d:
        for name in files:
            path = os.path.join(CORPUS, name)
            out = os.path.join(d, "out.h5")
            commands = {"info": ["info", path],
                        "factorize": ["factorize", "--input", path, "--rank", "2", "--max-iter",
                                      "5", "--output", out, "--force", "--quiet"]}
            for what, arguments in commands.items():
                ranks = 1 if what == "info" else options.ranks
                result = run(options.dnmf, ranks, arguments, timeout=SECONDS)
                errors = [x for x in result.stderr.splitlines() if x.startswith("dnmf: error")]
                code = result.returncode
                print(f"{name}: {what} at {ranks} rank(s): exit {code}; {' | '.join(errors)}")
                check(code in (0, 1, 2), f"{name}: {what} ends with exit 0, 1 or 2, not {code}")
                if code != 0:
                    check(len(errors) == 1 and path in errors[0],
                          f"{name}: {what} prints one error line naming the file")
                if EXPECTED.get(name) == what:
                    check(code == 1, f"{name}: {what} reports the damage (exit 1)")
                if os.path.exists(out):
                    os.remove(out)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
