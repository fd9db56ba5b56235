"""The demo dataset: scikit-learn's bundled 8x8 digits (1,797 images, shipped inside the package)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TEST_FRACTION = 0.2
SPLIT_SEED = 20261122
INPUT_SCALE = 1.0 / 127.0  # pixels are 0..16, scaled to [0, 1]; int8 code 127 means 1.0


@dataclass(frozen=True, eq=False)
class Split:
    """Float features in [0, 1] (pixel / 16) and integer labels."""

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
