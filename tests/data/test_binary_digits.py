"""The binarized 8×8 digits of week 6: the documented threshold, the fixed split, dtypes and checksums."""

import json

import numpy as np
import pytest

from coursekit.data import BINARY_THRESHOLD, ChecksumError, load_binary_digits, load_digits
from coursekit.data.files import ENV_VAR

from test_digits import copy_datasets

SPLITS = ("train", "val", "test")


@pytest.mark.parametrize("split", SPLITS)
def test_binary_digits_dtypes_shapes_and_values(split):
    X, y = load_binary_digits(split)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert X.shape == (len(y), 64) and X.flags["C_CONTIGUOUS"]
    assert set(np.unique(X)) == {0.0, 1.0}
    assert set(np.unique(y)) == set(range(10))


@pytest.mark.parametrize("split", SPLITS)
def test_binary_digits_threshold_the_grey_levels(split):
    """A pixel is 1 exactly when its count (0..16) is at least the documented threshold, 8."""
    assert BINARY_THRESHOLD == 8
    grey, labels = load_digits(split)
    X, y = load_binary_digits(split)
    counts = np.round(grey * 16).astype(np.int64)
    assert np.array_equal(X, (counts >= 8).astype(np.float32))
    assert np.array_equal(y, labels), "same split, same order as load_digits"


def test_binary_digits_are_deterministic_and_fresh():
    first, _ = load_binary_digits("test")
    first[:] = 7.0
    again, _ = load_binary_digits("test")
    assert set(np.unique(again)) == {0.0, 1.0}


def test_binary_digits_sizes_and_share_of_ones():
    sizes = {s: len(load_binary_digits(s)[1]) for s in SPLITS}
    assert sizes == {"train": 1078, "val": 359, "test": 360}
    X, _ = load_binary_digits("train")
    assert 0.25 < X.mean() < 0.40  # about a third of the pixels are on


def test_binary_digits_are_checked_against_the_checksums(tmp_path, monkeypatch):
    root = copy_datasets(tmp_path)
    path = root / "digits" / "split.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["train"], doc["test"] = doc["train"][1:], doc["test"] + doc["train"][:1]
    path.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(root))
    with pytest.raises(ChecksumError, match=r"split\.json"):
        load_binary_digits("train")


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="train, val, test"):
        load_binary_digits("validation")
