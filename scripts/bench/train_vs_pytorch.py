#!/usr/bin/python3
"""dnmf train against PyTorch on the same digits, architectures and protocol.

  speed:    images/s of the cnn (batch 64, Adam) for PyTorch at one thread (OpenBLAS at one
            thread, glibc's allocator tuned so freed blocks stay in the heap), dnmf at 1 rank and
            dnmf at 2 ranks, the mean over epochs 2..3 (epoch 1 warms up); --speed-rounds rounds
            (default 3) of the three, one after the other, so that the machine's drift shows, and
            the median of each column and of the per-round ratios.
  accuracy: test accuracy after E epochs (default 5), batch 64, Adam 1e-3, for cnn, nmf-cnn and
            nmf, mean and standard deviation over the seeds, dnmf at 2 ranks and PyTorch
            (the same networks: the NMF encoder is T = 10 unrolled multiplicative updates of a
            basis H started from `dnmf factorize --rank 64` with unit rows, clipped to >= 0 after
            every step); plus nmf with the basis frozen.
  scarce:   the label-scarce case: the basis factorized from all 8000 training images without
            labels, the classifiers trained on the first 500 labelled ones only (--scarce-epochs,
            default 20, so that they take as many steps as the full run's first epoch).

PyTorch is Debian's python3-torch (1.13; about 180 MB installed with libtorch, hence not in
scripts/install-deps.sh): `sudo apt-get install python3-torch`. Without it only the dnmf columns
are printed.

    /usr/bin/python3 scripts/bench/train_vs_pytorch.py [--parts speed,accuracy,scarce] [--seeds 3]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DNMF = os.path.join(ROOT, "build", "src", "dnmf")
MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--bind-to", "core"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
# glibc: keep freed blocks in the heap instead of returning them (page faults at every step).
TORCH_ENV = dict(ENV, MALLOC_MMAP_THRESHOLD_="1000000000", MALLOC_TRIM_THRESHOLD_="1000000000")


def dnmf(ranks, arguments):
    command = MPIRUN + ["-np", str(ranks), DNMF] + arguments
    result = subprocess.run(command, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def dnmf_train(d, data, model, seed, epochs, basis=None, ranks=2, freeze=False):
    out = os.path.join(d, f"model-{model}-{seed}.h5")
    arguments = ["train", "--data", data, "--model", model, "--epochs", str(epochs), "--batch-size", "64",
                 "--optimizer", "adam", "--lr", "1e-3", "--seed", str(seed), "--output", out, "--force",
                 "--quiet"]
    if model != "cnn":
        arguments += ["--nmf-basis", basis]
    if freeze:
        arguments += ["--freeze-basis"]
    dnmf(ranks, arguments)
    with h5py.File(out, "r") as f:
        return {"accuracy": float(f["history/validation_accuracy"][-1]),
                "images_per_second": float(np.mean(f["history/images_per_second"][1:]))}


def torch_train(data, model, seed, epochs, basis=None, freeze=False):
    """Runs torch_worker in a fresh interpreter (its thread and allocator settings)."""
    request = json.dumps(dict(data=data, model=model, seed=seed, epochs=epochs, basis=basis, freeze=freeze))
    result = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-worker", request],
                            env=TORCH_ENV, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"PyTorch worker failed:\n{result.stderr}")
    return json.loads(result.stdout.splitlines()[-1])


def torch_worker(request):
    import time

    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(request["seed"])
    with h5py.File(request["data"], "r") as f:
        images = {s: torch.tensor(f[f"/{s}/images"][()], dtype=torch.float32).reshape(-1, 1, 28, 28) / 255
                  for s in ("train", "test")}
        labels = {s: torch.tensor(f[f"/{s}/labels"][()].astype(np.int64)) for s in ("train", "test")}

    class NMFEncoder(nn.Module):
        def __init__(self, basis):
            super().__init__()
            basis = basis / np.maximum(np.linalg.norm(basis, axis=1, keepdims=True), 1e-300)
            self.H = nn.Parameter(torch.tensor(basis, dtype=torch.float32), requires_grad=not request["freeze"])

        def forward(self, x):
            x = x.flatten(1)
            a, G = x @ self.H.T, self.H @ self.H.T
            z = torch.ones_like(a)
            for _ in range(10):
                z = z * a / (z @ G + 1e-6)
            return z

    def conv_branch():
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())

    class Model(nn.Module):
        def __init__(self, kind, basis):
            super().__init__()
            self.conv = conv_branch() if kind != "nmf" else None
            self.nmf = NMFEncoder(basis) if kind != "cnn" else None
            features = (5408 if self.conv else 0) + (basis.shape[0] if self.nmf else 0)
            self.head = nn.Sequential(nn.Linear(features, 128), nn.ReLU(), nn.Linear(128, 10))

        def forward(self, x):
            parts = [branch(x) for branch in (self.conv, self.nmf) if branch is not None]
            return self.head(torch.cat(parts, dim=1))

    basis = None
    if request["basis"]:
        with h5py.File(request["basis"], "r") as f:
            basis = f["/H"][()]
    model = Model(request["model"], basis)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    loss_function = nn.CrossEntropyLoss()
    rates = []
    for _ in range(request["epochs"]):
        start = time.perf_counter()
        order = torch.randperm(len(labels["train"]))
        for first in range(0, len(order), 64):
            batch = order[first:first + 64]
            optimizer.zero_grad()
            loss_function(model(images["train"][batch]), labels["train"][batch]).backward()
            optimizer.step()
            if model.nmf is not None:
                with torch.no_grad():
                    model.nmf.H.clamp_(min=0)
        rates.append(len(order) / (time.perf_counter() - start))
    with torch.no_grad():
        accuracy = (model(images["test"]).argmax(1) == labels["test"]).float().mean().item()
    print(json.dumps({"accuracy": accuracy, "images_per_second": float(np.mean(rates[1:] or rates))}))


def have_torch():
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def mean_std(values):
    return f"{100 * np.mean(values):.2f} ± {100 * np.std(values, ddof=1) if len(values) > 1 else 0:.2f}"


def accuracy_table(title, d, data, basis, seeds, epochs, torch_ok):
    print(f"\n{title}\n\n| model | dnmf (2 ranks) | PyTorch |\n| --- | --- | --- |")
    for model, freeze in (("cnn", False), ("nmf-cnn", False), ("nmf", False), ("nmf", True)):
        ours = [dnmf_train(d, data, model, s, epochs, basis, freeze=freeze)["accuracy"] for s in seeds]
        theirs = ([torch_train(data, model, s, epochs, basis, freeze)["accuracy"] for s in seeds]
                  if torch_ok else [])
        name = model + (" (frozen H)" if freeze else "")
        print(f"| {name} | {mean_std(ours)} | {mean_std(theirs) if theirs else 'n/a'} |", flush=True)


def speed_table(d, data, rounds, torch_ok):
    print("\n| cnn, batch 64, Adam, images/s | PyTorch, 1 thread | dnmf, 1 rank | dnmf, 2 ranks | "
          "2 ranks / 1 rank | dnmf 1 rank / PyTorch |\n| --- | --- | --- | --- | --- | --- |")
    rows = []
    for r in range(rounds):
        torch = torch_train(data, "cnn", 0, 3)["images_per_second"] if torch_ok else float("nan")
        one = dnmf_train(d, data, "cnn", 0, 3, ranks=1)["images_per_second"]
        two = dnmf_train(d, data, "cnn", 0, 3, ranks=2)["images_per_second"]
        rows.append((torch, one, two, two / one, one / torch))
        print(f"| round {r + 1} | {torch:.0f} | {one:.0f} | {two:.0f} | {two / one:.2f}x | {one / torch:.2f}x |",
              flush=True)
    median = np.median(np.array(rows), axis=0)
    print(f"| median | {median[0]:.0f} | {median[1]:.0f} | {median[2]:.0f} | {median[3]:.2f}x | {median[4]:.2f}x |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(ROOT, "examples", "data", "digits.h5"))
    parser.add_argument("--parts", default="speed,accuracy,scarce")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--scarce-epochs", type=int, default=20)
    parser.add_argument("--speed-rounds", type=int, default=3)
    parser.add_argument("--torch-worker", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.torch_worker:
        return torch_worker(json.loads(options.torch_worker))
    torch_ok = have_torch()
    seeds = list(range(options.seeds))
    parts = options.parts.split(",")
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as d:
        if "speed" in parts:
            speed_table(d, options.data, options.speed_rounds, torch_ok)
        if "accuracy" in parts or "scarce" in parts:
            basis = os.path.join(d, "basis.h5")
            dnmf(2, ["factorize", "--input", options.data, "--dataset", "/train/images", "--rank", "64",
                     "--max-iter", "100", "--seed", "1", "--output", basis, "--force", "--progress", "none"])
        if "accuracy" in parts:
            accuracy_table(f"test accuracy (%), {options.epochs} epochs, mean ± sd over {len(seeds)} seeds",
                           d, options.data, basis, seeds, options.epochs, torch_ok)
        if "scarce" in parts:
            scarce = os.path.join(d, "scarce.h5")
            with h5py.File(options.data, "r") as s, h5py.File(scarce, "w") as f:
                f["/train/images"], f["/train/labels"] = s["/train/images"][:500], s["/train/labels"][:500]
                f["/test/images"], f["/test/labels"] = s["/test/images"][()], s["/test/labels"][()]
            accuracy_table(f"500 labels (basis from all 8000 images, unlabelled), {options.scarce_epochs} "
                           f"epochs, test accuracy (%), mean ± sd over {len(seeds)} seeds",
                           d, scarce, basis, seeds, options.scarce_epochs, torch_ok)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
