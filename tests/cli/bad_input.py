#!/usr/bin/python3
"""Each kind of bad input, through the real program at a given rank count: one clear line on
stderr naming the file, the dataset and the problem (printed once, by rank 0), the documented
exit code (2 usage, 1 otherwise), no hang, no output file (nor a temporary one) left behind, and
every file that was there before (input, existing output) unchanged in bytes and time."""

import argparse
import os
import shutil
import sys
import subprocess
import tempfile

import h5py
import numpy as np
import scipy.sparse as sp

from common import changed_files, run, snapshot

NOBODY = 65534


def matrix(rows=10, cols=8, seed=0):
    return np.random.default_rng(seed).random((rows, cols))


def write(path, datasets):
    with h5py.File(path, "w") as f:
        for name, data in datasets.items():
            f.create_dataset(name, data=data)
    return path


SPARSE_CASES = ("indptr_not_monotone", "index_out_of_range", "sparse_negative_value",
                "sparse_nan_value", "shape_disagrees_with_indptr", "float_indices",
                "shape_columns_beyond_int", "shape_rows_beyond_memory", "sparse_corrupt_chunk")
# Read with --transpose: the rows of Aᵀ are the columns of the CSR file, sized by its shape alone.
TRANSPOSED_SPARSE_CASES = ("shape_rows_beyond_memory",)


def bad_sparse_file(case, d):
    """An AnnData CSR group /X with one defect; returns (path, substrings of the message)."""
    a = (matrix(37, 23) * 9 * (matrix(37, 23, seed=1) < 0.3)).round()
    m = sp.csr_matrix(a)
    data, indices, indptr, shape = m.data.copy(), m.indices.copy(), m.indptr.copy(), list(a.shape)
    expect = []
    if case == "indptr_not_monotone":
        indptr[20], indptr[21] = indptr[21] + 1, indptr[20]
        expect = ["/X/indptr", "not monotone"]
    elif case == "index_out_of_range":
        indices[len(indices) // 2] = 23
        expect = ["/X/indices", "out of range"]
    elif case == "sparse_negative_value":
        data[5] = -2
        expect = ["/X", "negative value"]
    elif case == "sparse_nan_value":
        data[-3] = np.nan
        expect = ["/X", "NaN or Inf"]
    elif case == "float_indices":
        indices = indices.astype(np.float64) + 0.5  # once truncated to the integer below
        expect = ["/X/indices", "expected integer positions", "float64"]
    elif case == "shape_columns_beyond_int":
        # Once reported as more than 2^31 - 1 nonzeros.
        shape = [shape[0], 2**31 + 5]
        expect = ["/X/indices", "2147483653 columns", "2^31 - 1 a sparse block can index"]
    elif case == "shape_rows_beyond_memory":
        # With --transpose, 10^13 rows of Aᵀ: once a bare std::bad_alloc.
        shape = [shape[0], 10**13]
        expect = ["/X", "cannot allocate"]
    elif case == "shape_disagrees_with_indptr":
        shape = [shape[0] + 2, shape[1]]
        expect = ["/X/indptr", "needs 40"]
    elif case == "sparse_corrupt_chunk":
        # gzip-compressed in chunks of 50 values, the last chunk of /X/data (in the last rank's
        # rows) not deflate data; read with 2 threads a rank, so the chunks are inflated on them.
        expect = ["/X/data", "not valid deflate data"]
    path = os.path.join(d, "bad.h5ad")
    with h5py.File(path, "w") as f:
        g = f.create_group("X")
        g.attrs["encoding-type"] = "csr_matrix"
        g.attrs["shape"] = np.array(shape)
        if case != "sparse_corrupt_chunk":
            g["data"], g["indices"], g["indptr"] = data, indices, indptr
        else:
            for name, array in (("data", data), ("indices", indices), ("indptr", indptr)):
                g.create_dataset(name, data=array, chunks=(min(50, len(array)),),
                                 compression="gzip")
            g["data"].id.write_direct_chunk(((len(data) - 1) // 50 * 50,), b"\xab" * 64, 0)
    return path, [path] + expect


def basis_file(path, H, transpose=0, loss="frobenius"):
    """What transform reads from a factorize output: /H and the attributes."""
    with h5py.File(path, "w") as f:
        if H is not None:
            f["H"] = H
        f["W"] = np.ones((4, 3))
        if loss is not None:
            f.attrs["loss"] = loss
        f.attrs["l1_w"], f.attrs["l2_w"] = 0.0, 0.0
        f.attrs["transpose"] = np.int64(transpose)
    return path


def transform_case(case, d, good, out):
    """dnmf transform of good.h5's /data/A (10 x 8) against a basis with one defect."""
    basis = os.path.join(d, "fit.h5")
    base = ["transform", "--basis", basis, "--input", good, "--output", out, "--progress", "none"]
    if case == "transform_basis_missing":
        return base, 1, [basis, "no such file"], None, None
    if case == "transform_basis_without_h":
        basis_file(basis, None)
        return base, 1, [basis + ":/H", "no such dataset"], None, None
    if case == "transform_basis_without_loss":
        basis_file(basis, np.ones((3, 8)), loss=None)
        return base, 1, [basis, "no attribute loss"], None, None
    if case == "transform_columns_differ":
        # The fit factorized the transpose of a 10-column matrix; this input is not transposed.
        basis_file(basis, np.ones((3, 10)), transpose=1)
        return (base, 1, [good + ":/data/A", "8 columns", basis + ":/H", "needs 10",
                          "made with --transpose"], None, None)
    if case == "transform_basis_zero":
        # Every code against H = 0 is arbitrary: refused, as factorize refuses a zero --init.
        basis_file(basis, np.zeros((3, 8)))
        return base, 1, [basis + ":/H", "every entry is zero"], None, None
    if case == "transform_output_exists":
        basis_file(basis, np.ones((3, 8)))
        with open(out, "w") as f:
            f.write("keep me")
        return base, 1, [out, "exists", "--force"], None, None
    if case == "transform_output_is_basis":
        basis_file(basis, np.ones((3, 8)))
        args = [a if a != out else basis for a in base]
        return args + ["--force"], 1, [basis, "--output", "same file as --basis"], None, None
    if case == "transform_output_is_input":
        basis_file(basis, np.ones((3, 8)))
        args = [a if a != out else good for a in base]
        return args + ["--force"], 1, [good, "--output", "same file as --input"], None, None
    raise SystemExit(f"unknown case {case}")


def prior_run(dnmf, good, path, extra=()):
    """A real factorize output of good.h5 (resumable, a valid --init), made before the case runs."""
    subprocess.run([dnmf, "factorize", "--input", good, "--rank", "3", "--max-iter", "5",
                    "--tol", "0", "--output", path, "--quiet", *extra], check=True, timeout=60)
    return path


def file_safety_case(case, d, good, out, base, dnmf):
    """Outputs that must never replace an input or each other, and checkpoints that must not
    replace an existing file without --force."""
    ckpt = os.path.join(d, "ckpt.h5")
    if case == "checkpoint_exists":
        with open(ckpt, "w") as f:
            f.write("keep me")
        return (base + ["--input", good, "--checkpoint", ckpt, "--checkpoint-every", "2"], 1,
                [ckpt, "exists", "--force"])
    if case == "checkpoint_is_input":
        return (base + ["--input", good, "--checkpoint", good, "--checkpoint-every", "2",
                        "--force"], 1, [good, "--checkpoint", "same file as --input"])
    if case == "checkpoint_is_output":
        return (base + ["--input", good, "--checkpoint", out, "--checkpoint-every", "2"], 1,
                [out, "--checkpoint", "same file as --output"])
    if case == "checkpoint_is_report":
        return (base + ["--input", good, "--checkpoint", ckpt, "--report", ckpt], 1,
                [ckpt, "same file as"])
    if case == "report_is_output":
        return base + ["--input", good, "--report", out], 1, [out, "--report", "same file as --output"]
    if case == "report_is_output_forced":
        prior_run(dnmf, good, out)
        return (base + ["--input", good, "--report", out, "--force"], 1,
                [out, "--report", "same file as --output"])
    if case == "output_is_input_forced":
        args = [a if a != out else good for a in base]
        return args + ["--input", good, "--force"], 1, [good, "--output", "same file as --input"]
    if case == "output_symlink_to_input":
        os.symlink(good, out)
        return base + ["--input", good, "--force"], 1, [out, "--output", "same file as --input"]
    if case == "output_hardlink_to_input":
        os.link(good, out)
        return base + ["--input", good, "--force"], 1, [out, "--output", "same file as --input"]
    if case == "output_is_init":
        init = prior_run(dnmf, good, os.path.join(d, "init.h5"))
        args = [a if a != out else init for a in base]
        return (args + ["--input", good, "--init", init, "--force"], 1,
                [init, "--output", "same file as --init"])
    if case == "output_is_resume":
        prior = prior_run(dnmf, good, os.path.join(d, "prior.h5"))
        args = [a if a != out else prior for a in base]
        return (args + ["--input", good, "--resume", prior, "--force"], 1,
                [prior, "--output", "same file as --resume"])
    raise SystemExit(f"unknown case {case}")


FILE_SAFETY_CASES = ("checkpoint_exists", "checkpoint_is_input", "checkpoint_is_output",
                     "checkpoint_is_report", "report_is_output", "report_is_output_forced",
                     "output_is_input_forced", "output_symlink_to_input",
                     "output_hardlink_to_input", "output_is_init", "output_is_resume")


def case_setup(case, d, dnmf):
    """Returns (arguments, expected exit code, substrings the error line must contain, user,
    extra environment)."""
    good = write(os.path.join(d, "good.h5"), {"/data/A": matrix()})
    out = os.path.join(d, "out.h5")
    base = ["factorize", "--rank", "3", "--max-iter", "5", "--output", out, "--progress", "none"]
    if case in FILE_SAFETY_CASES:
        return file_safety_case(case, d, good, out, base, dnmf) + (None, None)
    if case == "missing_file":
        missing = os.path.join(d, "missing.h5")
        return base + ["--input", missing], 1, [missing, "no such file"], None, None
    if case == "not_hdf5":
        path = os.path.join(d, "text.h5")
        with open(path, "w") as f:
            f.write("1,2,3\n4,5,6\n")
        return base + ["--input", path], 1, [path, "not an HDF5 file"], None, None
    if case == "missing_dataset":
        return base + ["--input", good, "--dataset", "/data/B"], 1, [good + ":/data/B", "no such dataset"], None, None
    if case == "not_2d":
        path = write(os.path.join(d, "cube.h5"), {"/cube": np.ones((3, 4, 5))})
        return base + ["--input", path, "--dataset", "/cube"], 1, [path + ":/cube", "2-D", "3x4x5"], None, None
    if case == "non_numeric":
        path = os.path.join(d, "strings.h5")
        with h5py.File(path, "w") as f:
            f.create_dataset("/s", data=np.array([[b"a", b"b"], [b"c", b"d"]], dtype="S1"))
        return base + ["--input", path, "--dataset", "/s"], 1, [path + ":/s", "not numeric"], None, None
    if case == "empty_matrix":
        path = write(os.path.join(d, "empty.h5"), {"/e": np.zeros((0, 5))})
        return base + ["--input", path, "--dataset", "/e"], 1, [path + ":/e", "empty"], None, None
    if case in ("nan_value", "inf_value", "negative_value"):
        a = matrix()
        row, col, value, what = {"nan_value": (5, 2, np.nan, "NaN or Inf"),
                                 "inf_value": (7, 1, np.inf, "NaN or Inf"),
                                 "negative_value": (3, 4, -1.0, "negative value")}[case]
        a[row, col] = value
        a[9, 7] = value  # a later bad entry must not be the one named
        path = write(os.path.join(d, "bad.h5"), {"/A": a})
        return (base + ["--input", path], 1,
                [path + ":/A", what, f"row {row}, column {col}"], None, None)
    if case == "rank_zero":
        args = [a if a != "3" else "0" for a in base]
        return args + ["--input", good], 2, ["--rank 0", "between 1 and"], None, None
    if case == "rank_too_large":
        args = [a if a != "3" else "9" for a in base]
        return args + ["--input", good], 2, ["--rank 9", "min(m, n) = 8"], None, None
    if case == "output_exists":
        with open(out, "w") as f:
            f.write("keep me")
        return base + ["--input", good], 1, [out, "exists", "--force"], None, None
    if case == "output_dir_missing":
        target = os.path.join(d, "no", "such", "dir", "out.h5")
        args = [a if a != out else target for a in base]
        return args + ["--input", good], 1, [target, "does not exist"], None, None
    if case == "output_dir_readonly":
        # Root writes anywhere, so the program runs as an unprivileged user here.
        locked = os.path.join(d, "locked")
        os.mkdir(locked, 0o555)
        os.chmod(d, 0o755)
        os.chmod(good, 0o644)
        target = os.path.join(locked, "out.h5")
        args = [a if a != out else target for a in base]
        user = NOBODY if os.geteuid() == 0 else None
        return args + ["--input", good], 1, [target, "not writable"], user, None
    if case == "init_wrong_shape":
        init = write(os.path.join(d, "init.h5"), {"/W": np.ones((10, 4)), "/H": np.ones((3, 8))})
        return (base + ["--input", good, "--init", init], 1,
                [init + ":/W", "expected shape 10x3", "found 10x4"], None, None)
    if case in ("init_zero_w", "init_zero_h"):
        # MU stays at a zero factor, BPP's H update from W with a zero H gives H = 0: both used
        # to end "converged" with W = H = 0.
        factor, algorithm = ("/W", "mu") if case == "init_zero_w" else ("/H", "bpp")
        init = write(os.path.join(d, "init.h5"),
                     {"/W": np.zeros((10, 3)) if factor == "/W" else np.ones((10, 3)),
                      "/H": np.zeros((3, 8)) if factor == "/H" else np.ones((3, 8))})
        return (base + ["--input", good, "--init", init, "--algorithm", algorithm], 1,
                [init + ":" + factor, "every entry is zero"], None, None)
    if case == "progress_invalid_quiet":
        args = [a if a != "none" else "sometimes" for a in base]
        return args + ["--input", good, "--quiet"], 2, ["--progress", "sometimes"], None, None
    if case == "input_fifo":
        fifo = os.path.join(d, "pipe.h5")
        os.mkfifo(fifo)
        return base + ["--input", fifo], 1, [fifo, "not a regular file"], None, None
    if case == "input_too_large":
        # 10^7 x 10^7 float64, declared but never written: a tiny file whose rows no rank can hold.
        path = os.path.join(d, "huge.h5")
        with h5py.File(path, "w") as f:
            f.create_dataset("/A", shape=(10**7, 10**7), dtype="f8", chunks=(1000, 1000))
        return (base + ["--input", path], 1, [path + ":/A", "cannot allocate", "bytes", "x10000000"],
                None, None)
    if case in ("resume_history_too_short", "resume_iterations_decreasing"):
        prior = prior_run(dnmf, good, os.path.join(d, "prior.h5"))
        with h5py.File(prior, "a") as f:
            if case == "resume_history_too_short":
                f.attrs["iterations"] = np.int64(7)
                expected = [prior, "7 iterations", "/history/iteration holds 5"]
            else:
                f["/history/iteration"][...] = [1, 2, 4, 3, 5]
                expected = [prior + ":/history/iteration", "not 1, 2, ..., 5"]
        args = [a if a != "5" else "9" for a in base]
        return args + ["--input", good, "--resume", prior], 1, expected, None, None
    if case == "unknown_option":
        return base + ["--input", good, "--bogus", "1"], 2, ["--bogus"], None, None
    if case == "malformed_value":
        args = [a if a != "3" else "3x" for a in base]
        return args + ["--input", good], 2, ["--rank", "3x", "invalid"], None, None
    if case == "misconfigured_launch":
        # What srun without a working --mpi looks like from inside: Slurm says 4 tasks, MPI says 1.
        return (base + ["--input", good], 2, ["Slurm started 4 tasks", "srun --mpi=pmix"], None,
                {"SLURM_STEP_NUM_TASKS": "4"})
    if case == "ambiguous_dataset":
        path = write(os.path.join(d, "two.h5"), {"/A": matrix(), "/B": matrix(seed=1)})
        return base + ["--input", path], 1, [path, "several 2-D numeric datasets", "/A", "/B"], None, None
    if case.startswith("transform_"):
        return transform_case(case, d, good, out)
    if case in SPARSE_CASES:
        path, expected = bad_sparse_file(case, d)
        transpose = ["--transpose"] if case in TRANSPOSED_SPARSE_CASES else []
        threads = ["--threads", "2"] if case == "sparse_corrupt_chunk" else []
        return base + ["--input", path] + transpose + threads, 1, expected, None, None
    raise SystemExit(f"unknown case {case}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--case", required=True)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        arguments, expected_code, expected_text, user, extra_env = case_setup(options.case, d,
                                                                              options.dnmf)
        dnmf, cwd = options.dnmf, None
        if user is not None:
            # The other user may be unable to enter the build tree or the directory ctest runs
            # in (mpirun then stops before dnmf starts): run a copy of the program from here.
            dnmf, cwd = shutil.copy(options.dnmf, os.path.join(d, "dnmf")), d
        before = set(os.listdir(d))
        files_before = snapshot(d)
        failures = []
        try:
            result = run(dnmf, options.ranks, arguments, as_user=user, extra_env=extra_env,
                         cwd=cwd)
        except subprocess.TimeoutExpired as timeout:
            print(f"case {options.case} at {options.ranks} rank(s): no exit within {timeout.timeout} s")
            print("FAILED: hangs")
            return 1
        if result.returncode != expected_code:
            failures.append(f"exit code {result.returncode}, expected {expected_code}")
        lines = [line for line in result.stderr.splitlines() if line.startswith("dnmf: error")]
        if len(lines) != 1:
            failures.append(f"expected exactly one error line, got {len(lines)}")
        for text in expected_text:
            if not any(text in line for line in lines):
                failures.append(f"error line lacks {text!r}")
        if result.stdout.strip():
            failures.append(f"unexpected standard output: {result.stdout!r}")
        after = set(os.listdir(d))
        if after - before:
            failures.append(f"left files behind: {sorted(after - before)}")
        changed = changed_files(files_before, snapshot(d))
        if changed:
            failures.append(f"files of the user's changed or removed: {changed}")
        print(f"case {options.case} at {options.ranks} rank(s): exit {result.returncode}")
        print("stderr:", result.stderr.strip())
        if failures:
            print("FAILED:", "; ".join(failures))
            return 1
        print("1 passed, 0 failed")
        return 0


if __name__ == "__main__":
    sys.exit(main())
