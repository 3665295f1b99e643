#!/usr/bin/python3
"""dnmf transform driven as a user would, at 1 and 3 ranks, checked against numpy and scipy:
planted codes of a planted model are recovered from dense and CSR input; the codes of a random
matrix equal scipy.optimize.nnls row by row (with the fit's penalties); with a KL basis the
divergence never increases and ends near zero with the planted codes; transforming a converged
bpp fit's own input gives back the fit's W; the attributes describe the run."""

import argparse
import os
import sys
import tempfile

import h5py
import numpy as np
import scipy.optimize
import scipy.sparse as sp

from common import Checks, relative, run_ok

check = Checks()


def write_basis(path, H, loss="frobenius", l1_w=0.0, l2_w=0.0):
    """A basis file with what transform reads from a factorize output: /H, loss, l1_w, l2_w."""
    with h5py.File(path, "w") as f:
        f["H"] = H
        f.attrs["loss"] = loss
        f.attrs["l1_w"] = float(l1_w)
        f.attrs["l2_w"] = float(l2_w)
        f.attrs["transpose"] = np.int64(0)
    return path


def write_csr(path, A):
    """A as an AnnData CSR group /X."""
    m = sp.csr_matrix(A)
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["shape"] = np.array(A.shape)
        g["data"], g["indices"], g["indptr"] = m.data, m.indices, m.indptr
    return path


def transform(dnmf, ranks, basis, data, out, extra=()):
    run_ok(dnmf, ranks, ["transform", "--basis", basis, "--input", data, "--output", out,
                         "--force", "--progress", "none", "--quiet", *extra])
    with h5py.File(out, "r") as f:
        history = {name: f["history"][name][()] for name in f["history"]} if "history" in f else {}
        return f["W"][()], {key: f.attrs[key] for key in f.attrs}, history


def kl_divergence(A, WH):
    positive = A > 0
    return np.sum(A[positive] * np.log(A[positive] / WH[positive])) - A.sum() + WH.sum()


def planted(d, dnmf):
    rng = np.random.default_rng(1)
    H = rng.random((5, 40))
    H[H < 0.5] = 0  # so that A has zeros, stored sparsely in the CSR file
    W = rng.random((53, 5))
    W[W < 0.3] = 0
    W[17] = 0
    A = W @ H
    basis = write_basis(os.path.join(d, "planted_fit.h5"), H)
    dense = os.path.join(d, "planted.h5")
    with h5py.File(dense, "w") as f:
        f["A"] = A
    csr = write_csr(os.path.join(d, "planted.h5ad"), A)
    codes = {}
    for ranks in (1, 3):
        for name, path in (("dense", dense), ("csr", csr)):
            W_out, attributes, history = transform(dnmf, ranks, basis, path, os.path.join(d, "codes.h5"))
            codes[(ranks, name)] = W_out
            check(W_out.shape == W.shape and relative(W_out, W) < 1e-8,
                  f"planted {name} at {ranks} ranks: codes recovered (relative difference "
                  f"{relative(W_out, W):.1e})")
            direct = np.linalg.norm(A - W_out @ H) / np.linalg.norm(A)
            check(abs(attributes["relative_error"] - direct) < 1e-12,
                  f"planted {name} at {ranks} ranks: relative_error attribute "
                  f"{attributes['relative_error']:.1e} = numpy {direct:.1e}")
            check(not history and "iterations" not in attributes,
                  f"planted {name} at {ranks} ranks: no iterations recorded for the exact solve")
    check(np.mean(A == 0) > 0.1, f"planted: A has {np.mean(A == 0):.0%} zeros")
    for key, W_out in codes.items():
        check(relative(W_out, codes[(1, "dense")]) < 1e-12, f"planted: {key} equals 1-rank dense")
    expected = {"loss": "frobenius", "algorithm": "bpp", "rank": 5, "transpose": 0,
                "basis_file": basis, "input_file": csr, "input_dataset": "/X", "mpi_ranks": 3,
                "l1_w": 0.0, "l2_w": 0.0}
    for key, value in expected.items():
        check(attributes.get(key) == value, f"attribute {key} = {attributes.get(key)!r}, expected {value!r}")
    for key in ("dnmf_version", "command_line", "input_kind", "wall_seconds"):
        check(key in attributes, f"attribute {key} present")


def against_scipy(d, dnmf):
    """A random, non-planted A: the penalised NNLS of every row, by scipy on the equivalent
    least-squares problem F' = [Hᵀ; sqrt(l2) I], a' = [a; 0] - F'(F'ᵀF')⁻¹ l1 1."""
    rng = np.random.default_rng(2)
    A = rng.random((31, 12))
    H = rng.random((4, 12))
    for l1, l2 in ((0.0, 0.0), (0.2, 0.4)):
        basis = write_basis(os.path.join(d, "random_fit.h5"), H, l1_w=l1, l2_w=l2)
        data = os.path.join(d, "random.h5")
        with h5py.File(data, "w") as f:
            f["A"] = A
        F = np.vstack([H.T, np.sqrt(l2) * np.eye(4)])
        shift = F @ np.linalg.solve(F.T @ F, np.full(4, l1))
        expected = np.array([scipy.optimize.nnls(F, np.concatenate([a, np.zeros(4)]) - shift)[0]
                             for a in A])
        for ranks in (1, 3):
            W_out, attributes, _ = transform(dnmf, ranks, basis, data, os.path.join(d, "codes.h5"))
            check(np.abs(W_out - expected).max() < 1e-9,
                  f"l1 {l1}, l2 {l2} at {ranks} ranks: codes = scipy nnls row by row (max "
                  f"difference {np.abs(W_out - expected).max():.1e}; {np.mean(expected == 0):.0%} zeros)")
            check(attributes["l1_w"] == l1 and attributes["l2_w"] == l2,
                  f"l1 {l1}, l2 {l2} at {ranks} ranks: penalty attributes")


def kl(d, dnmf):
    rng = np.random.default_rng(3)
    H = rng.random((4, 30))
    W = rng.random((47, 4)) + 0.2
    A = W @ H
    basis = write_basis(os.path.join(d, "kl_fit.h5"), H, loss="kl")
    data = os.path.join(d, "kl.h5")
    with h5py.File(data, "w") as f:
        f["A"] = A
    for ranks in (1, 3):
        W_out, attributes, history = transform(dnmf, ranks, basis, data, os.path.join(d, "codes.h5"),
                                               ["--tol", "1e-8", "--max-iter", "3000"])
        objective = history["objective"]
        increases = np.diff(objective).max()
        check(increases <= 1e-12 * A.sum(),
              f"KL at {ranks} ranks: the divergence never increases over {len(objective) - 1} "
              f"iterations (largest change {increases:.1e})")
        check(objective[-1] < 1e-8 * objective[0],
              f"KL at {ranks} ranks: divergence {objective[0]:.3g} at the start, {objective[-1]:.1e} at the end")
        check(relative(W_out, W) < 1e-4,
              f"KL at {ranks} ranks: codes near the planted ones (relative difference {relative(W_out, W):.1e})")
        direct = kl_divergence(A, W_out @ H) / A.sum()
        check(abs(attributes["relative_error"] - direct) < 1e-12,
              f"KL at {ranks} ranks: relative_error attribute = numpy D/sum(A) {direct:.1e}")
        check(attributes["algorithm"] == "mu" and attributes["stop_reason"] == "converged" and
              attributes["iterations"] == len(objective) - 1,
              f"KL at {ranks} ranks: {attributes['iterations']} iterations, {attributes['stop_reason']}")


def fit_then_transform(d, dnmf):
    """A converged bpp fit: its W is the NNLS of A against the H of one iteration before the
    last, so transforming A against the final H gives it back to within the fit's progress
    (measured: 3e-7 here, 3e-6 with --tol 1e-7, 3e-5 with --tol 1e-5)."""
    data = os.path.join(d, "generated.h5")
    run_ok(dnmf, 1, ["generate", "--rows", "80", "--cols", "30", "--rank", "4", "--noise", "0.05",
                     "--seed", "5", "--output", data, "--quiet"])
    fit = os.path.join(d, "fit.h5")
    run_ok(dnmf, 2, ["factorize", "--input", data, "--dataset", "/A", "--rank", "4",
                     "--algorithm", "bpp", "--max-iter", "3000", "--tol", "1e-9", "--seed", "1",
                     "--output", fit, "--quiet"])
    with h5py.File(fit, "r") as f:
        W_fit, fit_error = f["W"][()], f.attrs["relative_error"]
        converged = f.attrs["stop_reason"] == "converged"
    check(converged, "the bpp fit converged")
    for ranks in (1, 3):
        W_out, attributes, _ = transform(dnmf, ranks, fit, data, os.path.join(d, "codes.h5"),
                                         ["--dataset", "/A"])
        check(relative(W_out, W_fit) < 1e-5,
              f"fit then transform at {ranks} ranks: the fit's W back (relative difference "
              f"{relative(W_out, W_fit):.1e})")
        check(attributes["relative_error"] <= fit_error * (1 + 1e-12),
              f"... and a relative error {attributes['relative_error']:.9f} no larger than the "
              f"fit's {fit_error:.9f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        planted(d, options.dnmf)
        against_scipy(d, options.dnmf)
        kl(d, options.dnmf)
        fit_then_transform(d, options.dnmf)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
