"""The 8×8 handwritten digits (1,797 images, 10 classes) with the course's fixed split.

Weeks 1–3 and 6 use these. The arrays are bundled in ``datasets/digits/`` (see its README) and are
checked against ``datasets/checksums.json`` on every load, so a grader never scores against damaged
data. Splits: ``train`` (60 %), ``val`` (20 %) and ``test`` (20 %), stratified by class.

Example::

    X, y = load_digits("train")        # (1078, 64) float64 in [0, 1], (1078,) int64
    images, y = load_digits_images("val")  # (n, 1, 8, 8) float32 for a CNN

A student's starter carries the ``train`` and ``val`` splits only; the ``test`` split, on which the
graders measure, stays with them (its ``split.json`` names it under ``withheld``).
"""

from __future__ import annotations

import json

import numpy as np

from .files import DatasetError, verified_path

SPLITS = ("train", "val", "test")
N_CLASSES = 10
PIXEL_MAX = 16.0  # pixels are counts of "on" cells in a 4×4 block: integers 0..16
_REGENERATE = "PYTHONPATH=autograder python -m coursekit.authoring.build_digits"


def _split_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``images`` uint8 (n, 8, 8) and ``target`` uint8 (n,) of one split, verified."""
    if split not in SPLITS:
        raise ValueError(f"unknown digits split {split!r}; choose one of {', '.join(SPLITS)}")
    npz_path = verified_path("digits/digits.npz", _REGENERATE)
    split_path = verified_path("digits/split.json", _REGENERATE)
    with open(npz_path, "rb") as file, np.load(file, allow_pickle=False) as archive:
        images, target = archive["images"], archive["target"]
    doc = json.loads(split_path.read_text(encoding="utf-8"))
    if split not in doc:
        if split in doc.get("withheld", {}):
            raise DatasetError(f"the digits' {split!r} split is held out: the graders measure on it, so "
                               f"it is not in this copy of the data ({split_path.parent}); use "
                               f"{' or '.join(repr(s) for s in SPLITS if s in doc)}")
        raise DatasetError(f"{split_path}: no {split!r} split; restore the file")
    index = np.asarray(doc[split], dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= len(target)):
        raise DatasetError(f"{split_path}: split {split!r} indexes outside 0..{len(target) - 1}")
    return images[index], target[index]


def load_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Flattened digits of one split.

    Returns ``X`` float64 (n, 64), pixels divided by 16 so they lie in [0, 1] (row-major 8×8), and
    ``y`` int64 (n,) with labels 0..9. ``split`` is ``"train"``, ``"val"`` or ``"test"``.
    Raises ``ValueError`` for another split name and :class:`DatasetError` when the files are
    missing or damaged, or the split is held out (``"test"`` in a student's starter).
    """
    images, target = _split_arrays(split)
    X = images.reshape(len(images), 64).astype(np.float64) / PIXEL_MAX  # (n, 64)
    return X, target.astype(np.int64)


def load_digits_images(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Digits of one split as images: ``X`` float32 (n, 1, 8, 8) in [0, 1], ``y`` int64 (n,); splits
    and errors as for :func:`load_digits`."""
    images, target = _split_arrays(split)
    X = (images.astype(np.float32) / np.float32(PIXEL_MAX))[:, None, :, :]  # (n, 1, 8, 8)
    return np.ascontiguousarray(X), target.astype(np.int64)
