#!/usr/bin/python3
"""dnmf sweep driven as a user would, checked against dnmf factorize, numpy and scipy:
- every replicate is the run `dnmf factorize --rank k --seed seed+r` with the same options, on as
  many ranks as its group had: H, the training and the test error bitwise equal (dense data,
  data with NaN entries under --missing nan, CSR data with its zeros, --precision single; each
  fit's held-out entries go back before the next);
- the consensus of each k rebuilt in numpy from the replicates' H in the file: the local densities
  (R/3 nearest neighbours), the outliers dropped, k-means' fixed point and its numbering, the
  medians, the silhouette; W refitted to the consensus H equals scipy's NNLS row by row;
- the summary (means, sample deviation, the one-standard-error choice of k) from the replicates;
- at more than one rank, --groups 1 and one group a rank (and at 4 ranks also 2 groups) give the
  same clusters, and consensus components within what the replicates' differences allow;
- with --batch B, every replicate is the run `dnmf factorize --rank k --seed seed+r
  --holdout-seed (seed + the first replicate of its window of B)` to rounding (the products of a
  batch are one product of the stacked H's), with the same iterations;
- an .h5ad output opens in anndata with an AnnData input's names (swapped by --transpose), the
  chosen k's W and Hᵀ and the sweep in uns, equal to the plain sweep file;
- bad options get one line each, exit 2, and write nothing."""

import argparse
import os
import sys
import tempfile

import h5py
import numpy as np
import scipy.optimize

from common import (SCALAR_PROBES, Checks, amplification, gamma, iterated_tolerance,
                    iteration_rounding, least_squares_error, perturbed, run, run_ok,
                    unit_roundoff)

check = Checks()

RANKS_K = (3, 4)
REPLICATES = 3
SEED = 7
FIT = ["--max-iter", "80", "--tol", "1e-5", "--holdout", "0.1", "--threads", "1"]


def group_sizes(ranks, groups):
    """BlockPartition(ranks, groups): the first ranks % groups groups have one rank more."""
    return [ranks // groups + (1 if g < ranks % groups else 0) for g in range(groups)]


def sweep(dnmf, ranks, data, out, groups, extra=()):
    run_ok(dnmf, ranks, ["sweep", "--input", data, "--dataset", "/A", "--rank",
                         ",".join(map(str, RANKS_K)), "--replicates", str(REPLICATES),
                         "--seed", str(SEED), "--groups", str(groups), "--output", out,
                         "--quiet", *FIT, *extra])


def check_replicates_are_factorize_runs(dnmf, ranks, groups, data, out, d, extra, what):
    sizes = group_sizes(ranks, groups)
    with h5py.File(out, "r") as f:
        for k in RANKS_K:
            replicates = f[f"k{k}/replicates"]
            for r in range(REPLICATES):
                size = sizes[int(replicates["group"][r])]
                single = os.path.join(d, f"single-{what}-{k}-{r}.h5")
                run_ok(dnmf, size, ["factorize", "--input", data, "--dataset", "/A", "--rank",
                                    str(k), "--seed", str(SEED + r), "--output", single,
                                    "--quiet", "--force", *FIT, *extra])
                with h5py.File(single, "r") as g:
                    same = (np.array_equal(replicates["H"][r * k:(r + 1) * k], g["H"][()])
                            and replicates["train_error"][r] == g.attrs["relative_error"]
                            and replicates["test_error"][r] == g.attrs["test_error"]
                            and replicates["seed"][r] == SEED + r)
                check(same, f"{what}: k = {k}, replicate {r} (group of {size} ranks) is "
                            f"dnmf factorize --seed {SEED + r} at {size} ranks, bitwise")


def check_batches_are_factorize_runs(dnmf, ranks, A, data, d):
    """--batch 2 over 3 replicates (windows {0, 1} and {2}) in one group of every rank, at fixed
    iterations: each replicate against its factorize run, to the rounding of one iteration
    amplified as runs on a perturbed A measure (the test error, one number, SCALAR_PROBES
    times)."""
    batch, fixed = 2, ["--max-iter", "30", "--tol", "0", "--holdout", "0.1", "--threads", "1"]
    out = os.path.join(d, "batched.h5")
    run_ok(dnmf, ranks, ["sweep", "--input", data, "--dataset", "/A", "--rank",
                         ",".join(map(str, RANKS_K)), "--replicates", str(REPLICATES), "--seed",
                         str(SEED), "--groups", "1", "--batch", str(batch), "--output", out,
                         "--quiet", *fixed])
    # The test error is one number: probed SCALAR_PROBES times, its largest response kept.
    probes = [os.path.join(d, f"probe-{p}.h5") for p in range(SCALAR_PROBES)]
    for p, probe in enumerate(probes):
        with h5py.File(probe, "w") as f:
            f["A"] = perturbed(A, 3 + p)
    with h5py.File(out, "r") as f:
        check(f.attrs["batch"] == batch, "--batch: the attribute records it")
        for k in RANKS_K:
            replicates = f[f"k{k}/replicates"]
            for r in range(REPLICATES):
                holdout_seed = SEED + batch * (r // batch)
                check(replicates["holdout_seed"][r] == holdout_seed,
                      f"--batch {batch}: replicate {r}'s held-out set is seed {holdout_seed}'s")
                runs = []
                for p, path in enumerate([data] + probes):
                    single = os.path.join(d, f"batch-{p}-{k}-{r}.h5")
                    run_ok(dnmf, ranks, ["factorize", "--input", path, "--dataset", "/A",
                                         "--rank", str(k), "--seed", str(SEED + r),
                                         "--holdout-seed", str(holdout_seed), "--output", single,
                                         "--quiet", "--force", *fixed])
                    with h5py.File(single, "r") as g:
                        runs.append((g["H"][()], g.attrs["test_error"], g.attrs["iterations"]))
                (H, test_error, iterations), probed = runs[0], runs[1:]
                rounding = 2 * iteration_rounding(*A.shape, k, ranks)
                tolerance = iterated_tolerance(amplification(H, probed[0][0]), rounding)
                batched = replicates["H"][r * k:(r + 1) * k]
                difference = np.linalg.norm(batched - H) / np.linalg.norm(H)
                check(difference <= tolerance and replicates["iterations"][r] == iterations,
                      f"--batch {batch}, k = {k}, replicate {r}: H within {tolerance:.1e} of "
                      f"dnmf factorize --seed {SEED + r} --holdout-seed {holdout_seed} "
                      f"({difference:.1e}), {iterations} iterations")
                error_tolerance = iterated_tolerance(
                    max(amplification(test_error, run[1]) for run in probed), rounding)
                check(abs(replicates["test_error"][r] - test_error) <= error_tolerance * test_error,
                      f"--batch {batch}, k = {k}, replicate {r}: its test error to rounding")


def unit_rows(X):
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1)


def distance_error(n):
    """How far the product form sqrt(|x|² + |y|² - 2 x·y) of two unit rows can be from the
    distance: its square is off by 4 γ_{n+2} at most, so the root by 2 sqrt(γ_{n+2})."""
    return 2 * np.sqrt(gamma(n + 2))


def naive_silhouette(D, labels):
    total = 0.0
    for i in range(len(labels)):
        own = labels == labels[i]
        if own.sum() < 2:
            continue
        a = D[i, own].sum() / (own.sum() - 1)
        b = min(D[i, labels == c].mean() for c in set(labels) if c != labels[i])
        total += (b - a) / max(a, b)
    return total / len(labels)


def check_consensus(f, k, threshold, A, what):
    pooled = f[f"k{k}/replicates/H"][()]
    U = unit_rows(pooled)
    n = U.shape[1]
    D = np.linalg.norm(U[:, None, :] - U[None, :, :], axis=2)
    tol = distance_error(n)
    neighbours = max(1, REPLICATES // 3)
    density = np.array([np.sort(np.delete(D[i], i))[:neighbours].mean() for i in range(len(U))])
    check(np.abs(density - f[f"k{k}/density"][()]).max() <= tol,
          f"{what}, k = {k}: local densities equal numpy's to {tol:.1e}")
    cluster = f[f"k{k}/cluster"][()]
    clear = np.abs(density - threshold) > tol
    check(np.array_equal((cluster >= 0)[clear], (density <= threshold)[clear]),
          f"{what}, k = {k}: the components above the threshold, and only those, are dropped")
    kept = np.flatnonzero(cluster >= 0)
    labels = cluster[kept]
    check(sorted(set(labels)) == list(range(k)) and list(dict.fromkeys(labels)) == list(range(k)),
          f"{what}, k = {k}: k clusters, numbered in the order of their first member")
    centers = np.array([U[kept][labels == c].mean(axis=0) for c in range(k)])
    to_centers = np.linalg.norm(U[kept][:, None, :] - centers[None, :, :], axis=2)
    own = to_centers[np.arange(len(kept)), labels]
    check(np.all(own <= to_centers.min(axis=1) + tol),
          f"{what}, k = {k}: each kept component is nearest its own cluster's mean (Lloyd's "
          f"fixed point)")
    H = f[f"k{k}/H"][()]
    medians = unit_rows(np.array([np.median(U[kept][labels == c], axis=0) for c in range(k)]))
    check(np.abs(H - medians).max() <= 8 * n * unit_roundoff(),
          f"{what}, k = {k}: consensus H = each cluster's median, scaled to unit norm")
    stability = f["summary/stability"][list(RANKS_K).index(k)]
    check(abs(stability - naive_silhouette(D[np.ix_(kept, kept)], labels)) <= 4 * tol,
          f"{what}, k = {k}: stability = the silhouette of the clustering")
    W = f[f"k{k}/W"][()]
    observed = ~np.isnan(A)
    worst = 0.0
    for i in range(0, A.shape[0], 7):
        cols = observed[i]
        Hi, a = H[:, cols], A[i, cols]
        expected = scipy.optimize.nnls(Hi.T, a)[0]
        bound = 2 * least_squares_error(Hi @ Hi.T, cols.sum(), np.linalg.norm(expected),
                                        np.linalg.norm(a), np.linalg.norm(Hi @ a))
        worst = max(worst, np.linalg.norm(W[i] - expected) / bound)
    check(worst <= 1, f"{what}, k = {k}: W is scipy's NNLS of each row on the consensus H "
                      f"(worst difference / bound {worst:.2f})")


def check_summary(f, what):
    means, sds = f["summary/test_error_mean"][()], f["summary/test_error_sd"][()]
    ok = True
    for i, k in enumerate(RANKS_K):
        test = f[f"k{k}/replicates/test_error"][()]
        train = f[f"k{k}/replicates/train_error"][()]
        ok &= abs(means[i] - test.mean()) <= 4 * unit_roundoff() * test.mean() * REPLICATES
        ok &= abs(sds[i] - test.std(ddof=1)) <= 1e-9 * test.mean()
        ok &= abs(f["summary/train_error_mean"][i] - train.mean()) <= 4 * unit_roundoff() * train.mean() * REPLICATES
    check(ok and list(f["summary/k"][()]) == list(RANKS_K),
          f"{what}: the summary's means and sample deviations are the replicates'")
    best = int(np.argmin(means))
    limit = means[best] + sds[best] / np.sqrt(REPLICATES)
    chosen = min(k for k, mean in zip(RANKS_K, means) if mean <= limit)
    check(f.attrs["chosen_k"] == chosen, f"{what}: chosen_k {f.attrs['chosen_k']} is the smallest "
                                        f"k within one standard error of the least ({chosen})")


def check_groups_agree(one, many, what):
    with h5py.File(one, "r") as f, h5py.File(many, "r") as g:
        for k in RANKS_K:
            same_clusters = np.array_equal(f[f"k{k}/cluster"][()], g[f"k{k}/cluster"][()])
            check(same_clusters, f"{what}, k = {k}: the same clusters with --groups 1 and more")
            Uf, Ug = unit_rows(f[f"k{k}/replicates/H"][()]), unit_rows(g[f"k{k}/replicates/H"][()])
            # A median moves by at most its members' largest move; the unit scaling doubles it
            # at most over the median's norm.
            moved = np.abs(Uf - Ug).max()
            H = f[f"k{k}/H"][()]
            n = H.shape[1]
            bound = 2 * np.sqrt(n) * moved + 16 * n * unit_roundoff()
            check(np.abs(H - g[f"k{k}/H"][()]).max() <= bound,
                  f"{what}, k = {k}: consensus H within {bound:.1e} of --groups 1's")


def check_anndata_output(dnmf, ranks, A, d):
    """An AnnData input's names reach the .h5ad output, swapped with --transpose; the file holds
    what the plain sweep file holds, read back through anndata."""
    import anndata
    import pandas as pd
    cells = [f"cell{i}" for i in range(A.shape[0])]
    genes = [f"gene{j}" for j in range(A.shape[1])]
    source = os.path.join(d, "cells.h5ad")
    anndata.AnnData(X=A, dtype=A.dtype, obs=pd.DataFrame(index=cells),
                    var=pd.DataFrame(index=genes)).write_h5ad(source)
    for transpose in (False, True):
        flag = ["--transpose"] if transpose else []
        plain, programs = os.path.join(d, f"plain-{transpose}.h5"), os.path.join(d, f"programs-{transpose}.h5ad")
        for out in (plain, programs):
            run_ok(dnmf, ranks, ["sweep", "--input", source, "--rank", "3,4", "--replicates", "2",
                                 "--seed", str(SEED), "--output", out, "--quiet", *FIT, *flag])
        a = anndata.read_h5ad(programs)
        rows, columns = (genes, cells) if transpose else (cells, genes)
        with h5py.File(plain, "r") as f:
            k = int(f.attrs["chosen_k"])
            same = (list(a.obs_names) == rows and list(a.var_names) == columns
                    and np.array_equal(a.obsm["X_nmf"], f[f"k{k}/W"][()])
                    and np.array_equal(a.varm["nmf_loadings"], f[f"k{k}/H"][()].T)
                    and a.uns["dnmf_sweep"]["chosen_k"] == k
                    and np.array_equal(a.uns["dnmf_sweep"]["summary"]["test_error_mean"],
                                       f["summary/test_error_mean"][()])
                    and np.array_equal(a.uns["dnmf_sweep"][f"k{k}"]["replicates"]["H"],
                                       f[f"k{k}/replicates/H"][()]))
        check(same, f"--output .h5ad{' with --transpose' if transpose else ''}: anndata reads "
                    f"the names, X_nmf = W and nmf_loadings = Hᵀ of the chosen k = {k}, and the "
                    f"sweep in uns['dnmf_sweep'], equal to the plain sweep file's")


def check_bad_options(dnmf, ranks, data, d):
    out = os.path.join(d, "never.h5")
    base = ["sweep", "--input", data, "--dataset", "/A"]
    cases = [
        (["--rank", "5:3"], "the range is empty"),
        (["--rank", "0:3"], "is not a whole number >= 1"),
        (["--rank", "4,3"], "ascending"),
        (["--rank", "3:500"], "must be between 1 and min(m, n)"),
        (["--rank", "3", "--replicates", "1"], "the consensus needs at least 2"),
        (["--rank", "3", "--groups", str(ranks + 1)], f"and the {ranks} MPI ranks"),
        (["--rank", "3", "--holdout", "1.5"], "--holdout"),
        (["--rank", "3", "--init", data], "would start every replicate alike"),
        (["--rank", "3", "--density-threshold", "0"], "--density-threshold must be > 0"),
        (["--rank", "3", "--batch", "0"], "--batch 0: between 1 and --replicates (10)"),
        (["--rank", "3", "--batch", "11"], "--batch 11: between 1 and --replicates (10)"),
        (["--rank", "3", "--batch", "2", "--loss", "kl", "--algorithm", "mu"],
         "cannot share a pass over A"),
        (["--rank", "3", "--holdout", "0", "--holdout-seed", "3"], "give --holdout F"),
        (["--rank", "3:4", "--holdout", "0", "--output", out + "ad"], "without --holdout no k"),
    ]
    for arguments, message in cases:
        given = arguments if "--output" in arguments else arguments + ["--output", out]
        result = run(dnmf, ranks, base + given)
        lines = [line for line in result.stderr.splitlines() if line.startswith("dnmf")]
        check(result.returncode in (1, 2) and len(lines) == 1 and message in lines[0]
              and not os.path.exists(out) and not os.path.exists(out + "ad"),
              f"{' '.join(arguments)}: one line saying '{message}', nothing written "
              f"(exit {result.returncode}: {result.stderr.strip()!r})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    options = parser.parse_args()
    dnmf, ranks = options.dnmf, options.ranks
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "planted.h5")
        run_ok(dnmf, 1, ["generate", "--rows", "240", "--cols", "90", "--rank", "4", "--noise",
                         "0.2", "--noise-model", "centered", "--seed", "5", "--output", data,
                         "--quiet"])
        with h5py.File(data, "r") as f:
            A = f["A"][()]
        holes = os.path.join(d, "holes.h5")
        with_nan = A.copy()
        with_nan[np.random.default_rng(1).random(A.shape) < 0.05] = np.nan
        with h5py.File(holes, "w") as f:
            f["A"] = with_nan
        sparse = os.path.join(d, "sparse.h5")
        with_zeros = np.where(A < np.quantile(A, 0.3), 0.0, A)
        with h5py.File(sparse, "w") as f:
            g = f.create_group("A")
            rows, cols = np.nonzero(with_zeros)
            g["data"], g["indices"] = with_zeros[rows, cols], cols.astype(np.int32)
            g["indptr"] = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=A.shape[0]))])
            g.attrs["shape"] = np.array(A.shape)
            g.attrs["encoding-type"] = "csr_matrix"
        cases = (("dense", data, A, ()),
                 ("NaN missing", holes, with_nan, ("--missing", "nan")),
                 ("sparse CSR", sparse, with_zeros, ()),
                 ("single precision", data, A, ("--precision", "single")))
        for case, (name, path, matrix, extra) in enumerate(cases):
            out = os.path.join(d, f"sweep-{case}.h5")
            sweep(dnmf, ranks, path, out, ranks, extra)
            check_replicates_are_factorize_runs(dnmf, ranks, ranks, path, out, d, extra, name)
            with h5py.File(out, "r") as f:
                for k in RANKS_K:
                    check_consensus(f, k, f.attrs["density_threshold"], matrix, name)
                check_summary(f, name)
                info = run_ok(dnmf, 1, ["info", out]).stdout
                rows = info.split("sweep summary:")[-1].splitlines()[2:2 + len(RANKS_K)]
                check("sweep summary:" in info and [int(r.split()[0]) for r in rows] == list(RANKS_K)
                      and all(abs(float(r.split()[1]) - m) < 1e-6 for r, m in
                              zip(rows, f["summary/test_error_mean"][()])),
                      f"{name}: dnmf info prints the summary, a line per k")
                check(f.attrs["groups"] == ranks and f.attrs["replicates"] == REPLICATES
                      and f.attrs["mpi_ranks"] == ranks and f.attrs["seed"] == SEED,
                      f"{name}: the attributes say how it ran")
            if ranks > 1:
                one = os.path.join(d, f"one-group-{case}.h5")
                sweep(dnmf, ranks, path, one, 1, extra)
                check_replicates_are_factorize_runs(dnmf, ranks, 1, path, one, d, extra,
                                                    f"{name}, one group")
                check_groups_agree(one, out, name)
            if ranks == 4 and case == 0:
                two = os.path.join(d, "two-groups.h5")
                sweep(dnmf, ranks, path, two, 2, extra)
                check_replicates_are_factorize_runs(dnmf, ranks, 2, path, two, d, extra,
                                                    f"{name}, two groups")
                check_groups_agree(one, two, f"{name}, 1 and 2 groups")
        existing = run(dnmf, ranks, ["sweep", "--input", data, "--dataset", "/A", "--rank", "3",
                                     "--output", os.path.join(d, "sweep-0.h5")])
        check(existing.returncode != 0 and "--force" in existing.stderr,
              "an existing output is refused without --force")
        check_batches_are_factorize_runs(dnmf, ranks, A, data, d)
        check_anndata_output(dnmf, ranks, A, d)
        check_bad_options(dnmf, ranks, data, d)
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
