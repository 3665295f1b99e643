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

from common import (Checks, direct_error_absolute, direct_error_bound, gamma, gram_trick_error_bound,
                    iteration_rounding, kl_factor_rounding_change, kl_objective_error,
                    least_squares_error, relative, residual_sums, run_ok)

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


def code_error(A, H, W, l2=0.0, shift=None, solutions=1):
    """Per row, the difference between `solutions` least-squares solutions of a ≈ Hᵀ w (with the
    penalties' F = [Hᵀ; sqrt(l2) I] and targets shifted by `shift`) by backward-stable methods
    (common.least_squares_error); the row bounds as a vector."""
    G = H @ H.T + l2 * np.eye(H.shape[0])
    rows = H.shape[1] + (H.shape[0] if l2 > 0 else 0)
    extra = 0.0 if shift is None else np.linalg.norm(shift)
    return np.array([solutions * least_squares_error(G, rows, np.linalg.norm(w), np.linalg.norm(a) + extra,
                                                     np.linalg.norm(H @ a)) for a, w in zip(A, W)])


def kl_codes_bound(A, H, W_out, divergence):
    """How far codes whose divergence is `divergence` can be from exact ones for A > 0:
    a log(a / p) - a + p ≥ (p - a)² / (2 max(a, p)), so ||ΔP||² ≤ 2 max(a, p) D, and
    ||ΔW|| ≤ ||ΔP|| / σ_min(H)."""
    largest = max(A.max(), (W_out @ H).max())
    return np.sqrt(2 * largest * divergence) / np.linalg.svd(H, compute_uv=False)[-1]


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
    # W is the least-squares solution of A = W H up to A's rounding (the a-term of the bound),
    # the codes another: two solutions apart; the codes of two runs likewise.
    recovered = np.linalg.norm(code_error(A, H, W, solutions=2)) / np.linalg.norm(W)
    for ranks in (1, 3):
        for name, path in (("dense", dense), ("csr", csr)):
            W_out, attributes, history = transform(dnmf, ranks, basis, path, os.path.join(d, "codes.h5"))
            codes[(ranks, name)] = W_out
            check(W_out.shape == W.shape and relative(W_out, W) < recovered,
                  f"planted {name} at {ranks} ranks: codes recovered (relative difference "
                  f"{relative(W_out, W):.1e}, bound {recovered:.1e})")
            direct = np.linalg.norm(A - W_out @ H) / np.linalg.norm(A)
            # Two direct evaluations of a residual at rounding level: absolute bounds.
            evaluation = 2 * direct_error_absolute(residual_sums(A, W_out @ H), H.shape[1], 5)
            check(abs(attributes["relative_error"] - direct) < evaluation,
                  f"planted {name} at {ranks} ranks: relative_error attribute "
                  f"{attributes['relative_error']:.1e} = numpy {direct:.1e}")
            check(not history and "iterations" not in attributes,
                  f"planted {name} at {ranks} ranks: no iterations recorded for the exact solve")
    check(np.mean(A == 0) > 0.1, f"planted: A has {np.mean(A == 0):.0%} zeros")
    same = np.linalg.norm(code_error(A, H, codes[(1, "dense")], solutions=2)) / np.linalg.norm(W)
    for key, W_out in codes.items():
        check(relative(W_out, codes[(1, "dense")]) < same, f"planted: {key} equals 1-rank dense")
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
        # scipy's NNLS (QR), the shifted targets it solves for and dnmf's BPP: three solutions.
        bound = code_error(A, H, expected, l2, shift, solutions=3).max()
        for ranks in (1, 3):
            W_out, attributes, _ = transform(dnmf, ranks, basis, data, os.path.join(d, "codes.h5"))
            check(np.abs(W_out - expected).max() < bound,
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
        # Monotone in exact arithmetic: a step may rise by the rounding of its iterates, and the
        # recorded values carry their own.
        total, (m, n), k = A.sum(), A.shape, 4
        errors = np.array([kl_objective_error(o, total, m, n, k) for o in objective])
        allowance = (kl_factor_rounding_change(total, iteration_rounding(m, n, k, ranks))
                     + errors[1:] + errors[:-1])
        increases = np.diff(objective)
        check(np.all(increases <= allowance),
              f"KL at {ranks} ranks: the divergence never increases over {len(objective) - 1} "
              f"iterations (largest change {increases.max():.1e})")
        # A modelling threshold: the planted codes make D zero, and the multiplicative updates
        # get within 1e-8 of the start before --tol 1e-8 stops them.
        check(objective[-1] < 1e-8 * objective[0],
              f"KL at {ranks} ranks: divergence {objective[0]:.3g} at the start, {objective[-1]:.1e} at the end")
        near = kl_codes_bound(A, H, W_out, objective[-1] + errors[-1]) / np.linalg.norm(W)
        check(relative(W_out, W) < near,
              f"KL at {ranks} ranks: codes near the planted ones (relative difference "
              f"{relative(W_out, W):.1e}, bound {near:.1e})")
        direct = kl_divergence(A, W_out @ H) / A.sum()
        divergence = direct * total
        check(abs(attributes["relative_error"] - direct) < 2 * kl_objective_error(divergence, total, m, n, k) / total,
              f"KL at {ranks} ranks: relative_error attribute = numpy D/sum(A) {direct:.1e}")
        check(attributes["algorithm"] == "mu" and attributes["stop_reason"] == "converged" and
              attributes["iterations"] == len(objective) - 1,
              f"KL at {ranks} ranks: {attributes['iterations']} iterations, {attributes['stop_reason']}")


def fit_then_transform(d, dnmf):
    """A converged bpp fit: its W is the NNLS of A against the H of one iteration before the
    last, so transforming A against the final H gives it back to within the fit's progress
    (measured: 3e-7 here, 3e-6 with --tol 1e-7, 3e-5 with --tol 1e-5), bounded through the
    stopping rule: the last H step lowered ||A - W H||² by less than the window's improvement,
    (e[t-10]² - e[t]²) ||A||² < 2 (tol + ε) e² ||A||² / (1 - tol)² (ε the recorded errors'
    rounding), and by at least λ_min(WᵀW) ||ΔH||² (H the minimiser of a strongly convex
    quadratic); then each row's NNLS moves by at most ||G⁻¹|| ||ΔH|| (||r|| + ||H|| ||w||) (first
    order, the same passive set), with BPP's rounding on both sides."""
    tol = 1e-9
    data = os.path.join(d, "generated.h5")
    run_ok(dnmf, 1, ["generate", "--rows", "80", "--cols", "30", "--rank", "4", "--noise", "0.05",
                     "--seed", "5", "--output", data, "--quiet"])
    fit = os.path.join(d, "fit.h5")
    run_ok(dnmf, 2, ["factorize", "--input", data, "--dataset", "/A", "--rank", "4",
                     "--algorithm", "bpp", "--max-iter", "3000", "--tol", str(tol), "--seed", "1",
                     "--output", fit, "--quiet"])
    with h5py.File(fit, "r") as f:
        W_fit, H, fit_error = f["W"][()], f["H"][()], f.attrs["relative_error"]
        converged = f.attrs["stop_reason"] == "converged"
    with h5py.File(data, "r") as f:
        A = f["A"][()]
    check(converged, "the bpp fit converged")
    (m, n), k = A.shape, 4
    sums = residual_sums(A, W_fit @ H)
    recorded = gram_trick_error_bound(sums, m, n, k, 2, gamma(m + 2) * sums["correlation"])
    last_step = 2 * (tol + 2 * recorded) * fit_error ** 2 * sums["data"] / (1 - tol) ** 2
    step_H = np.sqrt(last_step / np.linalg.eigvalsh(W_fit.T @ W_fit)[0])
    G = H @ H.T
    values = np.linalg.eigvalsh(G)
    moved = step_H * (np.sqrt(sums["residual"]) + np.sqrt(values[-1]) * np.linalg.norm(W_fit)) / values[0]
    rounding = code_error(A, H, W_fit, solutions=2)
    back = (moved + np.linalg.norm(rounding)) / np.linalg.norm(W_fit)
    # The transform's codes minimise the residual for this H, the fit's are feasible: no larger
    # error beyond the codes' rounding (first order: the gradient, at most 2 ||H|| ||r|| a row,
    # times ||Δw||; second: λ_max(G) ||Δw||²) and the two evaluations.
    solve = np.linalg.norm(code_error(A, H, W_fit))
    excess = (2 * np.sqrt(values[-1]) * np.sqrt(sums["residual"]) * solve + values[-1] * solve ** 2)
    no_larger = 0.5 * excess / sums["residual"] + 2 * direct_error_bound(sums, n, k)
    for ranks in (1, 3):
        W_out, attributes, _ = transform(dnmf, ranks, fit, data, os.path.join(d, "codes.h5"),
                                         ["--dataset", "/A"])
        check(relative(W_out, W_fit) < back,
              f"fit then transform at {ranks} ranks: the fit's W back (relative difference "
              f"{relative(W_out, W_fit):.1e}, bound {back:.1e})")
        check(attributes["relative_error"] <= fit_error * (1 + no_larger),
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
