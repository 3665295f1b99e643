"""Shared helpers for the tests that drive the dnmf program as a user would."""

import os
import stat
import subprocess

import numpy as np

MPI_FLAGS = ["--oversubscribe", "--allow-run-as-root"]


def command(dnmf, ranks, arguments, as_user=None):
    """The argv that runs `dnmf arguments` on `ranks` MPI processes (no mpirun for one)."""
    argv = [dnmf] + list(arguments)
    if ranks > 1:
        argv = ["mpirun", "-np", str(ranks)] + MPI_FLAGS + argv
    if as_user is not None:
        argv = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups"] + argv
    return argv


def run(dnmf, ranks, arguments, timeout=60, as_user=None, extra_env=None, cwd=None):
    """Runs dnmf in `cwd` (default: this one); a hang is a failure (TimeoutExpired propagates)."""
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1", **(extra_env or {}))
    return subprocess.run(command(dnmf, ranks, arguments, as_user), capture_output=True, text=True,
                          errors="replace", timeout=timeout, env=env, cwd=cwd)


def run_interrupted(dnmf, ranks, arguments, marker, signal_number):
    """Starts dnmf with progress lines on stderr and sends it `signal_number` once a line starting
    with `marker` appears; returns (exit code, everything it wrote to stderr)."""
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1")
    process = subprocess.Popen(command(dnmf, ranks, arguments), stderr=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=env)
    lines = []
    for line in process.stderr:
        lines.append(line)
        if line.startswith(marker):
            process.send_signal(signal_number)
            break
    _, err = process.communicate(timeout=120)
    return process.returncode, "".join(lines) + err


def run_ok(dnmf, ranks, arguments, timeout=240, extra_env=None):
    """Runs dnmf and stops the test (printing its output) unless it exits with 0."""
    result = run(dnmf, ranks, arguments, timeout=timeout, extra_env=extra_env)
    if result.returncode != 0:
        print(result.stdout, result.stderr)
        raise SystemExit(f"dnmf {' '.join(arguments)} at {ranks} ranks exited {result.returncode}")
    return result


# core/random.hpp's counter-based generator, rebuilt: chained SplitMix64 over (seed, stream, row,
# column), the top 53 bits as a uniform in [0, 1).
def mix(x):
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def counter_uniform(seed, stream, rows, cols):
    """The rows x cols matrix of counter_uniform(seed, stream, i, j)."""
    i = np.arange(rows, dtype=np.uint64)[:, None]
    j = np.arange(cols, dtype=np.uint64)[None, :]
    bits = mix(mix(mix(mix(np.uint64(seed)) ^ np.uint64(stream)) ^ i) ^ j)
    return (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53


def snapshot(directory):
    """Every regular file under `directory` (not FIFOs, which reading would block) with its bytes
    and modification time: what a failed run must leave as it was."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            status = os.lstat(path)
            if stat.S_ISREG(status.st_mode):
                with open(path, "rb") as f:
                    files[path] = (f.read(), status.st_mtime_ns)
    return files


def changed_files(before, after):
    """The names of the files of snapshot `before` that `after` lacks or holds changed."""
    return sorted(os.path.basename(path) for path in before if after.get(path) != before[path])


class Checks:
    """Records named checks; `check(condition, what)` prints each as it is made."""

    def __init__(self):
        self.passed = []
        self.failed = []

    def __call__(self, condition, what):
        (self.passed if condition else self.failed).append(what)
        print(("ok: " if condition else "FAILED: ") + what, flush=True)

    def exit_code(self):
        """Prints the tally; 1 if any check failed."""
        print(f"{len(self.passed)} passed, {len(self.failed)} failed")
        return 1 if self.failed else 0


def relative(x, y):
    """||x - y|| / ||y||: how far x is from the reference y."""
    return np.linalg.norm(x - y) / max(np.linalg.norm(y), 1e-300)


# Error bounds for the floating-point comparisons, as tests/error_bounds.hpp derives them for the
# C++ tests (see there). Rounding: γ_n = n u / (1 - n u) (Higham, "Accuracy and Stability of
# Numerical Algorithms", 2nd ed., Lemma 3.1): a sum of n terms in any order is within
# γ_{n-1} Σ|x| (§4.2), an entry of a matrix product of inner dimension n within γ_n (|A||B|)_ij
# (§3.5). Where that worst case is too loose for a check to fail on a real bug (float products
# over thousands of rows), gamma_probabilistic is the bound of Higham & Mary (SIAM J. Sci.
# Comput. 41(5), 2019): rounding errors independent and of mean zero, λ sqrt(n) u except with
# probability 2n exp(-λ² / 2). Fixed-iteration runs that differ only in rounding are compared to
# SAFETY times one iteration's rounding times the run's amplification, measured by running the
# reference again with its inputs perturbed entrywise by a relative PROBE (perturbed,
# amplification); a result that is one number is probed SCALAR_PROBES times.

LAMBDA = 6
SAFETY = 10
PROBE = 1e-6
SCALAR_PROBES = 3


def unit_roundoff(dtype=np.float64):
    return float(np.finfo(dtype).eps) / 2


def gamma(n, dtype=np.float64):
    nu = n * unit_roundoff(dtype)
    if nu >= 1:
        raise ValueError("gamma: n u >= 1, no bound")
    return nu / (1 - nu)


def gamma_probabilistic(n, dtype=np.float64):
    u = unit_roundoff(dtype)
    return min(float(np.expm1(LAMBDA * np.sqrt(n) * u + n * u * u / (1 - u))), gamma(n, dtype))


def perturbed(x, seed):
    """x with every entry multiplied by 1 + PROBE r, r uniform in [-1, 1] from `seed`."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float64)
    return x * (1 + PROBE * rng.uniform(-1.0, 1.0, x.shape))


def amplification(reference, probed):
    """The relative change of a result per unit of relative perturbation of the inputs."""
    reference = np.asarray(reference, dtype=np.float64)
    probed = np.asarray(probed, dtype=np.float64)
    return float(np.linalg.norm(probed - reference) / (PROBE * np.linalg.norm(reference)))


def iterated_tolerance(measured_amplification, rounding):
    """Two fixed-iteration runs whose products carry `rounding` in all: SAFETY times that times
    the amplification, and at least SAFETY times the rounding (the last iteration's is not
    damped)."""
    return SAFETY * max(1.0, measured_amplification) * rounding


def iteration_rounding(m, n, k, ranks=1, dtype=np.float64, condition=0.0):
    """One iteration of an NMF run on m x n at rank k, per entry of the iterates: a product with
    A (inner dimension max(m, n), plus a reduction over the ranks) and the k x k update or the KL
    ratio; BPP's Cholesky solves add cond(G) γ_{3k+1} (Higham Thm 10.4)."""
    return gamma(max(m, n) + ranks + k + 3, dtype) + condition * gamma(3 * k + 1)


def condition_number(G):
    """cond(G) of a symmetric positive definite Gram matrix."""
    values = np.linalg.eigvalsh(G)
    return float(values[-1] / values[0])


def sketch_backward_error(m, n, sketch, dtype=np.float64):
    """The randomized truncated SVD of an m x n matrix with `sketch` vectors (nmf/truncated_svd)
    is the exact SVD of A + E, ||E|| ≤ this ||A||, for a sketch that holds A's range: its last
    passes are the products with A (γ_m twice, γ_n), the l x l Gram eigendecomposition (γ_{l²})
    and the SVD of the l x n matrix Qᵀ A (γ_{ln}), each the orthogonal transformations' backward
    error (Higham Thm 19.4, its small constant taken as 1)."""
    return gamma(2 * m + n + sketch * sketch + sketch * n + sketch, dtype)


def svd_backward_error(m, n, dtype=np.float64):
    """A dense SVD of an m x n matrix is the exact SVD of A + E, ||E||_F ≤ γ_{mn} ||A||_F."""
    return gamma(m * n, dtype)


def residual_sums(A, P):
    """The sums over the entries a of A and p of P = W H that bound the rounding of ||A - W H||."""
    a = np.asarray(A, dtype=np.float64)
    p = np.asarray(P, dtype=np.float64)
    return {"entries": a.size, "data": float(np.sum(a * a)), "product": float(np.sum(p * p)),
            "correlation": float(np.sum(a * p)), "residual": float(np.sum((a - p) ** 2)),
            "cross": float(np.sum(np.abs(a - p) * (a + p)))}


KEPT_SHARE = 1e-6  # kKeptShare of nmf/local_block.cpp: a sparse row uses H Hᵀ while above it


def direct_fit_error(s, n, k, product_dtype=np.float64):
    """The rounding of ||A - W H||² evaluated directly (W H formed in product_dtype, the rest in
    double; a sparse row possibly through H Hᵀ): 2 γ_k Σ|r| p + γ_k² Σp²
    + 2 γ_{n+2k+2} (Σ|r|(a + p) + min(Σp², Σr² / KEPT_SHARE)) + γ_N Σr²."""
    product = gamma(k, product_dtype)
    rest = gamma(n + 2 * k + 2)
    return (2 * product * s["cross"] + product ** 2 * s["product"]
            + 2 * rest * (s["cross"] + min(s["product"], s["residual"] / KEPT_SHARE))
            + gamma(s["entries"]) * s["residual"])


def direct_error_bound(s, n, k, product_dtype=np.float64):
    """The relative rounding of e = ||A - W H|| / ||A|| evaluated directly: the fit's, halved by
    the square root, plus ||A||² (γ_{N+1}) and 2u."""
    return (0.5 * (direct_fit_error(s, n, k, product_dtype) / s["residual"] + gamma(s["entries"] + 1))
            + 2 * unit_roundoff())


def direct_error_absolute(s, n, k):
    """The same as an absolute bound on e, for a residual at rounding level (|√x - √y| ≤
    √|x - y|): sqrt(fit error / ||A||²) plus e (γ_{N+1} + 2u)."""
    e = np.sqrt(s["residual"] / s["data"])
    return (np.sqrt(direct_fit_error(s, n, k) / s["data"])
            + e * (gamma(s["entries"] + 1) + 2 * unit_roundoff()))


def gram_trick_error_bound(s, m, n, k, ranks, loss_error):
    """The relative rounding of e from ||A||² - 2 <WᵀA, H> + <WᵀW, H Hᵀ> (the history), with
    the entries of WᵀA putting at most loss_error into <WᵀA, H>; the rest in double."""
    u = unit_roundoff()
    grams = gamma(m + ranks) + gamma(n) + gamma(k * k)
    fit_error = (gamma(s["entries"]) * s["data"] + 2 * (loss_error + gamma(k * n) * s["correlation"])
                 + grams * s["product"] + 2 * u * (s["data"] + 2 * s["correlation"] + s["product"]))
    return 0.5 * (fit_error / s["residual"] + gamma(s["entries"] + 1)) + 2 * u


def factor_rounding_fit_change(s, rounding):
    """How much ||A - W H||² can change when every entry of the nonnegative W, H moves by at most
    `rounding` relatively: |ΔP| ≤ (2ρ + ρ²) P."""
    moved = 2 * rounding + rounding ** 2
    return 2 * moved * s["cross"] + moved ** 2 * s["product"]


def kl_objective_error(objective, total, m, n, k, product_dtype=np.float64):
    """The rounding of a recorded KL objective Σ a log(a / p) - Σ a + Σ p (+ penalties) after a
    Lee-Seung step, which leaves Σ p ≤ Σ a = total (see tests/error_bounds.hpp)."""
    u = unit_roundoff()
    entries = m * n
    logs = objective + 2 * total
    return (gamma(k + 1, product_dtype) * total + gamma(entries + 2) * logs + gamma(entries) * total
            + (gamma(m) + gamma(n) + gamma(k)) * total + gamma(m * k + 2) * objective
            + 3 * u * (logs + 2 * total + objective))


def kl_factor_rounding_change(total, rounding):
    """How much D(A || W H) can change when W H moves by (2ρ + ρ²) of itself, Σ p ≤ Σ a."""
    moved = 2 * rounding + rounding ** 2
    return 2 * moved * total + moved ** 2 * total


BPP_GRADIENT_TOLERANCE = 1e-12  # kGradientTolerance of nmf/bpp.cpp


def least_squares_error(G, rows, x_norm, a_norm, rhs_norm):
    """||x̂ - x|| for a least-squares solution with F of `rows` rows, G = Fᵀ F, by a
    backward-stable method on the same columns: cond(G) ε (||x|| + ||a|| / ||F||),
    ε = γ_rows + k γ_{3k+1} (Higham Thm 20.1, §20.4, Thm 10.4), plus BPP's acceptance of a
    gradient within BPP_GRADIENT_TOLERANCE |Fᵀ a| of zero."""
    values = np.linalg.eigvalsh(G)
    k = G.shape[0]
    epsilon = gamma(rows) + k * gamma(3 * k + 1)
    return (values[-1] / values[0] * epsilon * (x_norm + a_norm / np.sqrt(values[-1]))
            + BPP_GRADIENT_TOLERANCE * rhs_norm / values[0])
