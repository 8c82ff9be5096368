"""The bundled 8×8 digits: the fixed split, the loaders' dtypes and ranges, and checksum checking."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import coursekit.data
from coursekit.data import (ChecksumError, DatasetError, datasets_root, load_digits,
                            load_digits_images)
from coursekit.authoring.build_digits import build, make_split
from coursekit.authoring.dataset_files import write_npz
from coursekit.data.files import ENV_VAR, content_sha256, read_checksums

N_SAMPLES = 1797
SPLITS = ("train", "val", "test")
FRACTIONS = {"train": 0.6, "val": 0.2}


def stored_split() -> dict[str, list[int]]:
    return json.loads((datasets_root() / "digits" / "split.json").read_text(encoding="utf-8"))


def bundled_arrays() -> dict[str, np.ndarray]:
    with np.load(datasets_root() / "digits" / "digits.npz", allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def copy_datasets(tmp_path: Path) -> Path:
    """A private copy of the digits and checksums, for tests that damage files."""
    root = tmp_path / "datasets"
    shutil.copytree(datasets_root() / "digits", root / "digits")
    shutil.copy(datasets_root() / "checksums.json", root / "checksums.json")
    return root


# --- the split --------------------------------------------------------------------------------

def test_split_sizes_sum_to_all_samples():
    sizes = {s: len(load_digits(s)[1]) for s in SPLITS}
    assert sum(sizes.values()) == N_SAMPLES
    assert sizes == {"train": 1078, "val": 359, "test": 360}


def test_splits_are_disjoint_and_cover_every_sample():
    split = stored_split()
    sets = [set(split[s]) for s in SPLITS]
    assert all(len(s) == len(split[name]) for s, name in zip(sets, SPLITS)), "duplicate index"
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert set().union(*sets) == set(range(N_SAMPLES))


def test_split_is_stratified_by_class():
    target = bundled_arrays()["target"]
    class_sizes = np.bincount(target, minlength=10)
    counts = {s: np.bincount(load_digits(s)[1], minlength=10) for s in SPLITS}
    assert np.array_equal(counts["train"], np.round(FRACTIONS["train"] * class_sizes))
    assert np.array_equal(counts["val"], np.round(FRACTIONS["val"] * class_sizes))
    assert np.array_equal(counts["train"] + counts["val"] + counts["test"], class_sizes)
    for s in SPLITS:  # every class's share is within one sample of the split's share
        share = counts[s] / counts[s].sum()
        assert np.all(np.abs(share - class_sizes / N_SAMPLES) < 1.5 / counts[s].sum() + 1e-12)


def test_split_follows_its_documented_rule():
    target = bundled_arrays()["target"]
    split = stored_split()
    assert make_split(target) == {s: split[s] for s in SPLITS}
    assert make_split(target) == make_split(target)
    assert make_split(target, seed=1) != make_split(target)


# --- the loaders ------------------------------------------------------------------------------

@pytest.mark.parametrize("split", SPLITS)
def test_load_digits_dtypes_shapes_and_range(split):
    X, y = load_digits(split)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.ndim == 2 and X.shape[1] == 64 and y.shape == (len(X),)
    assert X.min() >= 0.0 and X.max() <= 1.0 and X.max() == 1.0
    assert np.array_equal(X * 16, np.round(X * 16)), "pixels are integers 0..16 divided by 16"
    assert set(np.unique(y)) == set(range(10))


@pytest.mark.parametrize("split", SPLITS)
def test_load_digits_images_matches_the_flat_arrays(split):
    X, y = load_digits(split)
    images, labels = load_digits_images(split)
    assert images.dtype == np.float32 and images.shape == (len(X), 1, 8, 8)
    assert images.flags["C_CONTIGUOUS"]
    assert np.array_equal(labels, y)
    assert np.allclose(images.reshape(len(X), 64), X, rtol=0, atol=1e-7)


def test_loaders_are_deterministic_and_return_fresh_arrays():
    X1, y1 = load_digits("train")
    X1[:] = -1.0  # a caller's change must not leak into the next load
    X2, y2 = load_digits("train")
    X3, y3 = load_digits("train")
    assert np.array_equal(X2, X3) and np.array_equal(y1, y2) and np.array_equal(y2, y3)
    assert X2.min() >= 0.0


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="train, val, test"):
        load_digits("validation")


def test_bundled_arrays_are_scikit_learns_digits():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    digits = sklearn_datasets.load_digits()
    arrays = bundled_arrays()
    assert arrays["images"].dtype == np.uint8 and arrays["images"].shape == (N_SAMPLES, 8, 8)
    assert arrays["target"].dtype == np.uint8 and arrays["target"].shape == (N_SAMPLES,)
    assert np.array_equal(arrays["images"], digits.images)
    assert np.array_equal(arrays["target"], digits.target)


def test_build_script_reproduces_the_bundled_files(tmp_path):
    pytest.importorskip("sklearn")
    (tmp_path / "checksums.json").write_text('{"other/file.txt": "abc"}\n', encoding="utf-8")
    digests = build(tmp_path)
    assert digests == {k: v for k, v in read_checksums(datasets_root()).items() if k in digests}
    assert read_checksums(tmp_path)["other/file.txt"] == "abc", "other entries are kept"
    first = (tmp_path / "digits" / "digits.npz").read_bytes()
    build(tmp_path)
    assert (tmp_path / "digits" / "digits.npz").read_bytes() == first, "the npz is reproducible"


# --- checksums and the datasets folder --------------------------------------------------------

def test_checksums_cover_the_bundled_files():
    table = read_checksums(datasets_root())
    for name in ("digits/digits.npz", "digits/split.json"):
        assert table[name] == content_sha256(datasets_root() / name)


def test_environment_variable_overrides_the_location(tmp_path, monkeypatch):
    root = copy_datasets(tmp_path)
    expected = load_digits("val")
    monkeypatch.setenv(ENV_VAR, str(root))
    assert datasets_root() == root.resolve()
    X, y = load_digits("val")
    assert np.array_equal(X, expected[0]) and np.array_equal(y, expected[1])


def test_changed_array_raises_a_clear_checksum_error(tmp_path, monkeypatch):
    root = copy_datasets(tmp_path)
    arrays = bundled_arrays()
    arrays["images"][0, 3, 3] ^= 1
    write_npz(root / "digits" / "digits.npz", arrays)
    monkeypatch.setenv(ENV_VAR, str(root))
    with pytest.raises(ChecksumError, match=r"digits\.npz: checksum mismatch") as info:
        load_digits("train")
    assert "coursekit.authoring.build_digits" in str(info.value), "the message says how to regenerate"


def test_changed_split_raises_a_checksum_error(tmp_path, monkeypatch):
    root = copy_datasets(tmp_path)
    path = root / "digits" / "split.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["train"], doc["test"] = doc["train"][:-1], doc["test"] + doc["train"][-1:]
    path.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(root))
    with pytest.raises(ChecksumError, match=r"split\.json: checksum mismatch"):
        load_digits("test")


def test_truncated_file_raises_a_checksum_error(tmp_path, monkeypatch):
    root = copy_datasets(tmp_path)
    path = root / "digits" / "digits.npz"
    path.write_bytes(path.read_bytes()[:1000])
    monkeypatch.setenv(ENV_VAR, str(root))
    with pytest.raises(ChecksumError, match=r"digits\.npz: unreadable"):
        load_digits("train")


def test_missing_file_or_checksum_is_reported(tmp_path, monkeypatch):
    root = copy_datasets(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(root))
    (root / "checksums.json").write_text("{}", encoding="utf-8")
    with pytest.raises(DatasetError, match="no checksum for 'digits/digits.npz'"):
        load_digits("train")
    (root / "digits" / "digits.npz").unlink()
    with pytest.raises(DatasetError, match=r"digits\.npz: missing bundled data file"):
        load_digits("train")


def test_override_that_is_not_a_folder_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError, match=ENV_VAR):
        load_digits("train")


def test_importing_the_data_package_is_cheap():
    package_parent = Path(coursekit.data.__file__).resolve().parents[2]
    code = ("import sys, coursekit.data; "
            "print([m for m in ('torch', 'sklearn', 'scipy') if m in sys.modules])")
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
