#!/usr/bin/python3
"""dnmf factorize --init nndsvd|nndsvda|nndsvdar driven as a user would: with --max-iter 0 the
written factors are scikit-learn's _initialize_nmf (its own code, given an exact SVD in place of
its randomized one) on a matrix whose min(m, n) fits in dnmf's sketch, so dnmf's randomized SVD
is exact too; dense and sparse input and 1 and 3 ranks give the same factors; on the digits,
--init nndsvda runs at 1 and 3 ranks and ends at the same W, H. "The same" is to the SVDs'
backward error (and the iterations' rounding) times the measured amplification (common.py)."""

import argparse
import os
import sys
import tempfile

import h5py
import numpy as np
import sklearn.decomposition._nmf as sklearn_nmf
from sklearn.utils.extmath import svd_flip

from common import (Checks, amplification, iterated_tolerance, iteration_rounding, perturbed,
                    relative, run_ok, sketch_backward_error, svd_backward_error)

check = Checks()


def read(path):
    with h5py.File(path, "r") as f:
        return f["W"][()], f["H"][()], dict(f.attrs)


def exact_svd(M, n_components, random_state=None):
    """Stands in for scikit-learn's randomized_svd: the exact truncated SVD."""
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    U, Vt = svd_flip(U, Vt)
    return U[:, :n_components], s[:n_components], Vt[:n_components, :]


def write_inputs(directory, A):
    dense = os.path.join(directory, "dense.h5")
    with h5py.File(dense, "w") as f:
        f["A"] = A
    sparse = os.path.join(directory, "sparse.h5")
    nonzero = A != 0
    indptr = np.concatenate([[0], np.cumsum(nonzero.sum(axis=1))])
    with h5py.File(sparse, "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["shape"] = np.array(A.shape)
        g["data"] = A[nonzero]
        g["indices"] = np.nonzero(nonzero)[1]
        g["indptr"] = indptr
    return dense, sparse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--data", required=True)
    options = parser.parse_args()
    dnmf = options.dnmf
    sklearn_nmf.randomized_svd = exact_svd

    with tempfile.TemporaryDirectory() as d:
        rng = np.random.default_rng(5)
        A = rng.random((60, 14))
        A[A < 0.3] = 0  # a sparse file has something to skip
        k = 4
        dense, sparse = write_inputs(d, A)
        probe_directory = os.path.join(d, "probe")  # A perturbed, for the amplification
        os.makedirs(probe_directory)
        probe_dense, _ = write_inputs(probe_directory, perturbed(A, 1))
        sketch = sketch_backward_error(A.shape[0] + 3, A.shape[1], min(k + 10, min(A.shape)))
        factors = {}
        for init in ("nndsvd", "nndsvda", "nndsvdar"):
            for kind, path, ranks in (("dense", dense, 1), ("dense", dense, 3),
                                      ("sparse", sparse, 3)):
                out = os.path.join(d, f"{init}-{kind}-{ranks}.h5")
                run_ok(dnmf, ranks, ["factorize", "--input", path, "--rank", str(k),
                                     "--init", init, "--max-iter", "0", "--seed", "2",
                                     "--output", out, "--quiet"])
                W, H, attributes = read(out)
                factors[init, kind, ranks] = (W, H)
                check(attributes["init"] == init and attributes["init_seconds"] > 0,
                      f"{init} {kind} {ranks} ranks: init and init_seconds recorded")
            W1, H1 = factors[init, "dense", 1]
            probe = os.path.join(d, f"{init}-probe.h5")
            run_ok(dnmf, 1, ["factorize", "--input", probe_dense, "--rank", str(k), "--init", init,
                             "--max-iter", "0", "--seed", "2", "--output", probe, "--quiet"])
            Wp, Hp, _ = read(probe)
            # Both sketches' rounding (the sums in another order), times the amplification.
            w_tolerance = iterated_tolerance(amplification(W1, Wp), 2 * sketch)
            h_tolerance = iterated_tolerance(amplification(H1, Hp), 2 * sketch)
            for kind, ranks in (("dense", 3), ("sparse", 3)):
                W, H = factors[init, kind, ranks]
                check(relative(W, W1) < w_tolerance and relative(H, H1) < h_tolerance,
                      f"{init}: {kind} input at {ranks} ranks gives the dense 1-rank factors "
                      f"(W {relative(W, W1):.1e}, H {relative(H, H1):.1e}; bounds {w_tolerance:.1e}, "
                      f"{h_tolerance:.1e})")
            if init != "nndsvdar":
                # The sketch against LAPACK's dense SVD, times scikit-learn's amplification.
                Ws, Hs = sklearn_nmf._initialize_nmf(A, k, init=init)
                Wsp, Hsp = sklearn_nmf._initialize_nmf(perturbed(A, 1), k, init=init)
                rounding = sketch + svd_backward_error(*A.shape)
                w_tolerance = iterated_tolerance(amplification(Ws, Wsp), rounding)
                h_tolerance = iterated_tolerance(amplification(Hs, Hsp), rounding)
                check(relative(W1, Ws) < w_tolerance and relative(H1, Hs) < h_tolerance,
                      f"{init}: scikit-learn's _initialize_nmf with an exact SVD "
                      f"(W {relative(W1, Ws):.1e}, H {relative(H1, Hs):.1e}; bounds "
                      f"{w_tolerance:.1e}, {h_tolerance:.1e})")
        # nndsvdar is nndsvd with its zeros filled by values in (0, mean(A) / 100 * |N(0,1)|].
        (W0, H0), (Wr, Hr) = factors["nndsvd", "dense", 1], factors["nndsvdar", "dense", 1]
        for name, zero_filled, filled in (("W", W0, Wr), ("H", H0, Hr)):
            kept = zero_filled != 0
            check(np.array_equal(filled[kept], zero_filled[kept]) and kept.sum() < kept.size,
                  f"nndsvdar: {name} equals nndsvd's where that is nonzero")
            small = filled[~kept]
            check(small.min() > 0 and small.max() < A.mean() / 100 * 6 and np.std(small) > 0,
                  f"nndsvdar: {name}'s zeros filled with small positive values")

        # The digits: --init nndsvda then 10 HALS iterations, equal at 1 and 3 ranks: both
        # sketches' and both runs' iterations' rounding, times the amplification of the whole,
        # measured from the digits perturbed.
        with h5py.File(options.data, "r") as f:
            digits = f["/train/images"][()]
        probe_digits = os.path.join(d, "probe-digits.h5")
        with h5py.File(probe_digits, "w") as f:
            f["/train/images"] = perturbed(digits, 1)
        runs = {}
        for ranks, path in ((1, options.data), (3, options.data), ("probe", probe_digits)):
            out = os.path.join(d, f"digits-{ranks}.h5")
            run_ok(dnmf, 1 if ranks == "probe" else ranks,
                   ["factorize", "--input", path, "--dataset", "/train/images", "--rank", "8",
                    "--init", "nndsvda", "--algorithm", "hals", "--max-iter", "10", "--tol", "0",
                    "--output", out, "--quiet"])
            runs[ranks] = read(out)
        (W1, H1, a1), (W3, H3, _), (Wp, Hp, _) = runs[1], runs[3], runs["probe"]
        m, n = digits.shape
        rounding = 2 * (sketch_backward_error(m + 3, n, 18) + iteration_rounding(m, n, 8, 3))
        w_tolerance = iterated_tolerance(amplification(W1, Wp), rounding)
        h_tolerance = iterated_tolerance(amplification(H1, Hp), rounding)
        check(relative(W3, W1) < w_tolerance and relative(H3, H1) < h_tolerance,
              f"digits nndsvda + hals: 3 ranks equal 1 rank (W {relative(W3, W1):.1e}, "
              f"H {relative(H3, H1):.1e}; bounds {w_tolerance:.1e}, {h_tolerance:.1e})")
        check(a1["init"] == "nndsvda" and a1["iterations"] == 10, "digits: attributes")

    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
