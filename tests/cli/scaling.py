#!/usr/bin/python3
"""The internal scaling of A (nmf/input_scaling.hpp) through the program at a given rank count.
dnmf factorizes 2^e A with its largest entry in [0.5, 2) (e even), so a matrix scaled by an even
power 2^s is the same problem bit for bit: for every algorithm and loss, with penalties scaled
as the objective's homogeneity says, 2^s A must give W and H that are exactly 2^(s/2) times
those of A, the same relative error bitwise and the objective times 2^(p s), for dense and
sparse data near the largest double, near 1e-300, subnormal-only data and float32 data near its
limits; transform's codes of 2^s A are 2^s times A's; a run on data near 1e300 resumed from its
checkpoint is bitwise an uninterrupted one, and a checkpoint resumes at the other precision
when the two precisions scale A by different powers of two."""

import argparse
import math
import os
import sys
import tempfile

import h5py
import numpy as np
import scipy.sparse as sp

from common import Checks, run, run_ok

check = Checks()

RUNS = [("mu", "frobenius"), ("hals", "frobenius"), ("bpp", "frobenius"), ("mu", "kl")]
PENALTIES = {"l1-w": 0.5, "l2-w": 0.25, "l1-h": 2.0, "l2-h": 1.0}


def counts():
    """Integers below 2^10 with zeros: exact at every power-of-two scale tested, subnormal
    included (2^-1064 keeps 10 bits)."""
    rng = np.random.default_rng(7)
    a = np.floor(rng.random((24, 13)) * 1000.0)
    a[rng.random(a.shape) < 0.3] = 0
    return a


def loss_degree(loss):
    return 2 if loss == "frobenius" else 1


def scaled_penalties(loss, s, w_shift, h_shift):
    """The penalties that make (2^s A, 2^w_shift W, 2^h_shift H) the same problem as (A, W, H):
    the objective is 2^(p s) times the original, so l1 (degree 1) and l2 (degree 2) on a factor
    scaled by 2^f are multiplied by 2^(p s - f) and 2^(p s - 2 f). None where one of them is not
    a normal double (a user could not give it): that scale is tested without penalties."""
    p = loss_degree(loss)
    exponents = {"l1-w": p * s - w_shift, "l2-w": p * s - 2 * w_shift,
                 "l1-h": p * s - h_shift, "l2-h": p * s - 2 * h_shift}
    scaled = {}
    for option, exponent in exponents.items():
        try:
            scaled[option] = math.ldexp(PENALTIES[option], exponent)
        except OverflowError:
            return None
        if scaled[option] < sys.float_info.min:
            return None
    return scaled


def split(s):
    """The powers of two of W and H of 2^s A against those of A (s even): dnmf factorizes 2^e A
    for an even e and gives W and H half of it each, as the random start does."""
    return s // 2, s // 2


def read(path):
    with h5py.File(path, "r") as f:
        return (f["W"][()], f["H"][()], dict(f.attrs),
                f["history/objective"][()], f["history/relative_error"][()])


def write_matrix(path, a, dtype, sparse):
    """A as a dense dataset /A, or as a CSR group /A (data, indices, indptr, shape)."""
    with h5py.File(path, "w") as f:
        if not sparse:
            f["A"] = a.astype(dtype)
            return
        m = sp.csr_matrix(a.astype(dtype))
        g = f.create_group("A")
        g["data"], g["indices"], g["indptr"] = m.data, m.indices, m.indptr
        g.attrs["shape"] = np.array(a.shape)


def factorize_arguments(path, out, algorithm, loss, penalties, precision="double", iterations=8):
    """The factorize command line of every run here: rank 4, seed 3, a fixed iteration count."""
    arguments = ["factorize", "--input", path, "--dataset", "/A", "--rank", "4",
                 "--algorithm", algorithm, "--loss", loss, "--max-iter", str(iterations),
                 "--tol", "0", "--seed", "3", "--precision", precision, "--output", out,
                 "--force", "--quiet"]
    for option, value in penalties.items():
        arguments += ["--" + option, repr(value)]
    return arguments


def factorize(dnmf, ranks, d, name, a, dtype, algorithm, loss, penalties, sparse=False):
    path = os.path.join(d, name + ".h5")
    write_matrix(path, a, dtype, sparse)
    out = os.path.join(d, name + "-out.h5")
    precision = "single" if dtype == np.float32 else "double"
    run_ok(dnmf, ranks, factorize_arguments(path, out, algorithm, loss, penalties, precision))
    return path, out


def same_up_to_power_of_two(x, y, shift):
    """x == 2^shift y entry by entry, exactly."""
    return x.dtype == y.dtype and np.array_equal(x.astype(np.float64),
                                                 np.ldexp(y.astype(np.float64), shift))


def check_scale(dnmf, ranks, d, a, dtype, s, label, sparse=False):
    for algorithm, loss in RUNS:
        w_shift, h_shift = split(s)
        penalties = scaled_penalties(loss, s, w_shift, h_shift)
        what = f"{label} {algorithm}/{loss}{'' if penalties else ' (no penalties)'}"
        _, base = factorize(dnmf, ranks, d, "base", a, dtype, algorithm, loss,
                            PENALTIES if penalties else {}, sparse)
        _, scaled = factorize(dnmf, ranks, d, "scaled", np.ldexp(a, s), dtype, algorithm, loss,
                              penalties or {}, sparse)
        W0, H0, attrs0, obj0, err0 = read(base)
        W1, H1, attrs1, obj1, err1 = read(scaled)
        check(np.isfinite(W1).all() and np.isfinite(H1).all() and W1.max() > 0,
              f"{what}: W and H finite and nonzero")
        check(same_up_to_power_of_two(W1, W0, w_shift) and same_up_to_power_of_two(H1, H0, h_shift),
              f"{what}: W = 2^{w_shift} W(A), H = 2^{h_shift} H(A) exactly")
        check(np.array_equal(err1, err0) and attrs1["relative_error"] == attrs0["relative_error"],
              f"{what}: the same relative error bitwise ({attrs1['relative_error']:.6g})")
        # objective(2^s A) = 2^(p s) objective(A); each file stores it times 2^-objective_exponent.
        shift = (loss_degree(loss) * s + int(attrs0["objective_exponent"])
                 - int(attrs1["objective_exponent"]))
        check(np.array_equal(obj1, np.ldexp(obj0, shift)),
              f"{what}: the objective is 2^{loss_degree(loss) * s} times A's "
              f"(stored with objective_exponent {attrs1['objective_exponent']})")


def check_transform(dnmf, ranks, d, a, s):
    for loss in ("frobenius", "kl"):
        algorithm = "bpp" if loss == "frobenius" else "mu"
        _, fit = factorize(dnmf, ranks, d, "fit", a, np.float64, algorithm, loss, {})
        outs = []
        for name, rows in (("rows", a), ("scaled-rows", np.ldexp(a, s))):
            rows_path = os.path.join(d, name + ".h5")
            with h5py.File(rows_path, "w") as f:
                f["A"] = rows
            out = os.path.join(d, name + "-codes.h5")
            run_ok(dnmf, ranks, ["transform", "--basis", fit, "--input", rows_path,
                                 "--output", out, "--force", "--quiet", "--max-iter", "20"])
            with h5py.File(out, "r") as f:
                outs.append((f["W"][()], f.attrs["relative_error"]))
        check(same_up_to_power_of_two(outs[1][0], outs[0][0], s) and outs[1][1] == outs[0][1],
              f"transform {loss}: the codes of 2^{s} A are 2^{s} times A's, the same error")


def check_resume(dnmf, ranks, d, a, s):
    for algorithm, loss in (("hals", "frobenius"), ("mu", "kl")):
        what = f"resume at 2^{s} {algorithm}/{loss}"
        path, whole = factorize(dnmf, ranks, d, "whole", np.ldexp(a, s), np.float64, algorithm,
                                loss, PENALTIES)
        first = os.path.join(d, "first.h5")
        run_ok(dnmf, ranks, factorize_arguments(path, first, algorithm, loss, PENALTIES,
                                                iterations=3))
        resumed = os.path.join(d, "resumed.h5")
        run_ok(dnmf, ranks, factorize_arguments(path, resumed, algorithm, loss, PENALTIES)
               + ["--resume", first])
        W0, H0, _, obj0, err0 = read(whole)
        W1, H1, _, obj1, err1 = read(resumed)
        check(np.array_equal(W0, W1) and np.array_equal(H0, H1) and np.array_equal(obj0, obj1)
              and np.array_equal(err0, err1), f"{what}: bitwise the uninterrupted run")


def check_resume_across_precisions(dnmf, ranks, d, a):
    """A largest entry just below 2 is 2 in float32: the single run scales A by another power of
    two than the double run. A single-precision checkpoint resumes in double all the same."""
    a = a / a.max() * (2 - 1e-9)
    path = os.path.join(d, "near-two.h5")
    with h5py.File(path, "w") as f:
        f["A"] = a
    single = os.path.join(d, "single.h5")
    run_ok(dnmf, ranks, factorize_arguments(path, single, "hals", "frobenius", {}, "single", 3))
    resumed = os.path.join(d, "resumed-double.h5")
    result = run(dnmf, ranks, factorize_arguments(path, resumed, "hals", "frobenius", {},
                                                  iterations=6) + ["--resume", single])
    with h5py.File(single, "r") as f:
        exponent_single = int(f.attrs["input_scale_exponent"])
    ok = result.returncode == 0
    if ok:
        with h5py.File(resumed, "r") as f:
            ok = (int(f.attrs["input_scale_exponent"]) != exponent_single
                  and len(f["history/objective"]) == 6 and np.isfinite(f["W"][()]).all())
    check(ok, "a single-precision checkpoint scaled by another power of two resumes in double "
          + ("" if result.returncode == 0 else result.stderr.strip()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    args = parser.parse_args()
    a = counts()
    with tempfile.TemporaryDirectory() as d:
        # Near the largest double (W H ~ 1e301: ||A||² and the objective are beyond double's range),
        # near 1e-300, and subnormal-only (largest entry ~ 2^-1054).
        for s in (1000, -1000, -1064):
            check_scale(args.dnmf, args.ranks, d, a, np.float64, s, f"double 2^{s}")
        # float32 near its largest (~1e33) and smallest normal (~1e-27) values.
        for s in (100, -100):
            check_scale(args.dnmf, args.ranks, d, a, np.float32, s, f"single 2^{s}")
        for s in (1000, -1064):
            check_scale(args.dnmf, args.ranks, d, a, np.float64, s, f"sparse double 2^{s}", True)
        check_transform(args.dnmf, args.ranks, d, a, 1000)
        check_resume(args.dnmf, args.ranks, d, a, 1000)
        check_resume_across_precisions(args.dnmf, args.ranks, d, a)
        # A value beyond float's range read for --precision single is Inf there: refused, named.
        path = os.path.join(d, "beyond-float.h5")
        with h5py.File(path, "w") as f:
            f["A"] = a * 1e36
        result = run(args.dnmf, args.ranks, ["factorize", "--input", path, "--rank", "2",
                                             "--precision", "single", "--output",
                                             os.path.join(d, "never.h5")])
        check(result.returncode == 1 and "NaN or Inf" in result.stderr
              and "--precision double" in result.stderr
              and not os.path.exists(os.path.join(d, "never.h5")),
              "--precision single: a value beyond 3.4e38 is refused with a hint")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
