"""The built-in 28x28 MNIST data set (builtin/mnist28.npz, made by builtin/make_mnist.py) and its split."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pytest

from vcp_toolkit.errors import InvalidInput
from vcp_toolkit.model.builtin.make_mnist import TEST_PER_CLASS, arrays_digest, stratified_split
from vcp_toolkit.model.datasets import load_digits_split, load_mnist_arrays, load_mnist_split


@pytest.fixture(scope="module")
def arrays():
    return load_mnist_arrays()


def test_stored_arrays(arrays):
    assert arrays.images.dtype == np.uint8 and arrays.images.shape == (5000, 28, 28)
    assert arrays.labels.dtype == np.uint8 and arrays.labels.shape == (5000,)
    assert np.array_equal(np.bincount(arrays.labels, minlength=10), [500] * 10)
    assert arrays.images.max() == 255 and arrays.images.min() == 0
    assert len(arrays.source_sha256) == 64 and int(arrays.source_sha256, 16) >= 0


def test_recorded_digest_matches_the_arrays(arrays):
    # Recomputed here by hand, not with the loader's helper, from the file as stored.
    path = resources.files("vcp_toolkit.model.builtin").joinpath("mnist28.npz")
    with resources.as_file(path) as file, np.load(file) as data:
        digest = hashlib.sha256(data["images"].tobytes() + data["labels"].tobytes()).hexdigest()
        assert digest == str(data["arrays_sha256"]) == arrays.arrays_sha256
    assert arrays_digest(arrays.images, arrays.labels) == digest


def test_split_is_a_disjoint_stratified_partition(arrays):
    train, test = arrays.train_index, arrays.test_index
    assert len(train) == 4000 and len(test) == 1000
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(5000))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert np.array_equal(np.bincount(arrays.labels[test], minlength=10), [TEST_PER_CLASS] * 10)
    assert np.array_equal(np.bincount(arrays.labels[train], minlength=10), [400] * 10)


def test_split_follows_its_documented_rule(arrays):
    train, test = stratified_split(arrays.labels)
    assert np.array_equal(train, arrays.train_index) and np.array_equal(test, arrays.test_index)


def test_stratified_split_on_uneven_labels():
    labels = np.array([0] * 7 + [1] * 3 + [2] * 5)
    train, test = stratified_split(labels, test_per_class=2)
    assert np.array_equal(np.bincount(labels[test]), [2, 2, 2])
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(labels)))


def test_load_split_shapes_and_scaling(arrays):
    split = load_mnist_split()
    assert split.x_train.shape == (4000, 1, 28, 28) and split.x_test.shape == (1000, 1, 28, 28)
    assert split.x_train.dtype == np.float64 and split.y_train.dtype == np.int64
    assert 0.0 <= split.x_train.min() and split.x_train.max() == 1.0
    i = int(arrays.test_index[17])
    assert np.array_equal(split.x_test[17, 0] * 255.0, arrays.images[i].astype(np.float64))
    assert split.y_test[17] == arrays.labels[i]
    flat = load_mnist_split(flatten=True)
    assert flat.x_train.shape == (4000, 784) and np.array_equal(flat.x_train, split.x_train.reshape(4000, 784))
    assert type(split) is type(load_digits_split())


def test_damaged_file_is_refused(arrays, tmp_path):
    bad = tmp_path / "mnist28.npz"
    images = arrays.images.copy()
    images[0, 0, 0] ^= 1
    np.savez_compressed(bad, images=images, labels=arrays.labels, train_index=arrays.train_index,
                        test_index=arrays.test_index, arrays_sha256=np.array(arrays.arrays_sha256),
                        source_sha256=np.array(arrays.source_sha256))
    with pytest.raises(InvalidInput, match="damaged"):
        load_mnist_arrays(bad)
