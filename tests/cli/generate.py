#!/usr/bin/python3
"""dnmf generate's noise models against numpy: W0, H0 and the noise rebuilt from the documented
counter-based generator (chained SplitMix64 over seed, stream, row and column), so every entry of
/A is checked against an independent computation:

- uniform: A = W0 H0 + S U;  centered: A = max(0, W0 H0 + S (U - 1/2));
- poisson: integer counts, W_true = W0 / S, and over the whole matrix the residual A - W_true H0
  has mean 0 and the variance of a Poisson count (its mean), within 5 standard errors;
- the file is bitwise the same at 1 and --ranks ranks; bad noise options are one error line."""

import argparse
import os
import sys
import tempfile

import h5py
import numpy as np

from common import Checks, counter_uniform, gamma, run, run_ok, unit_roundoff

check = Checks()

TRUE_W, TRUE_H, NOISE = 4, 5, 3  # core/random.hpp's RandomStream values


def generate(dnmf, ranks, path, m, n, k, noise, model, seed):
    run_ok(dnmf, ranks, ["generate", "--rows", str(m), "--cols", str(n), "--rank", str(k),
                         "--noise", str(noise), "--noise-model", model, "--seed", str(seed),
                         "--output", path, "--quiet"])
    with h5py.File(path, "r") as f:
        return (f["A"][()], f["W_true"][()], f["H_true"][()],
                {key: f.attrs[key] for key in f.attrs})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dnmf", required=True)
    parser.add_argument("--ranks", type=int, default=3)
    options = parser.parse_args()
    m, n, k, seed, s = 120, 70, 4, 9, 0.5
    W0 = counter_uniform(seed, TRUE_W, m, k)
    H0 = counter_uniform(seed, TRUE_H, k, n)
    U = counter_uniform(seed, NOISE, m, n)
    product = W0 @ H0
    # W0 H0 in dnmf's order and numpy's (γ_k each), then the noise's addition (u) and scaling (u).
    rounding = 2 * gamma(k) * product + 4 * unit_roundoff() * (product + s)

    with tempfile.TemporaryDirectory() as d:
        for model in ("uniform", "centered", "poisson"):
            one, many = (os.path.join(d, f"{model}-{r}.h5") for r in (1, options.ranks))
            A, W, H, attrs = generate(options.dnmf, 1, one, m, n, k, s, model, seed)
            A_p, W_p, H_p, _ = generate(options.dnmf, options.ranks, many, m, n, k, s, model, seed)
            check(np.array_equal(A, A_p) and np.array_equal(W, W_p) and np.array_equal(H, H_p),
                  f"{model}: the same file at 1 and {options.ranks} ranks")
            check(attrs["noise_model"] == model and attrs["noise"] == s,
                  f"{model}: attributes noise_model and noise ({attrs['noise_model']}, {attrs['noise']})")
            check(np.array_equal(H, H0), f"{model}: /H_true is H0 of the documented generator")
            if model == "uniform":
                check(np.array_equal(W, W0) and np.all(np.abs(A - (product + s * U)) <= rounding),
                      "uniform: A = W0 H0 + S U entry by entry")
            elif model == "centered":
                expected = np.maximum(0, product + s * (U - 0.5))
                check(np.array_equal(W, W0) and np.all(np.abs(A - expected) <= rounding),
                      "centered: A = max(0, W0 H0 + S (U - 1/2)) entry by entry")
                check(np.any(A == 0) or np.all(product > s / 2), "centered: clipped at 0")
            else:
                check(np.array_equal(W, W0 / s), "poisson: W_true = W0 / S")
                check(np.all(A == np.floor(A)) and np.all(A >= 0), "poisson: counts")
                mean = product / s
                residual = A - mean
                # Independent counts: the residual's sum has variance Σ mean; Σ residual² has
                # mean Σ mean and variance Σ (mean + 2 mean²) (the fourth central moment of a
                # Poisson count is mean + 3 mean²).
                check(abs(residual.sum()) <= 5 * np.sqrt(mean.sum()),
                      f"poisson: E[A] = W_true H_true ({residual.sum():.1f} over {A.size})")
                squares = (residual**2).sum()
                check(abs(squares - mean.sum()) <= 5 * np.sqrt((mean + 2 * mean**2).sum()),
                      f"poisson: Var[A] = E[A] ({squares:.1f} against {mean.sum():.1f})")

        out = os.path.join(d, "bad.h5")
        for arguments, expected in (
                (["--noise-model", "gauss"], "--noise-model: 'gauss' is not one of uniform, centered, poisson"),
                (["--noise-model", "poisson"], "--noise-model poisson needs --noise S > 0"),
                (["--noise", "inf"], "--noise must be finite and >= 0")):
            result = run(options.dnmf, options.ranks,
                         ["generate", "-m", "5", "-n", "4", "-k", "2", "-o", out, *arguments])
            lines = [line for line in result.stderr.splitlines() if line.startswith("dnmf")]
            check(result.returncode == 2 and len(lines) == 1 and expected in lines[0]
                  and not os.path.exists(out),
                  f"{' '.join(arguments)}: one usage line, exit 2, no file ({result.returncode}, {lines})")
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
