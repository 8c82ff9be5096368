"""Build the bundled 8×8 digits: ``datasets/digits/digits.npz``, ``split.json`` and their checksums.

The source is the copy of the UCI optdigits test set that scikit-learn ships inside its wheel, so
nothing is downloaded. The output is deterministic: the same arrays, the same split, the same
digests on every run (the npz is written with a fixed timestamp). Usage, from the repository root::

    PYTHONPATH=autograder python -m coursekit.authoring.build_digits            # writes datasets/
    PYTHONPATH=autograder python -m coursekit.authoring.build_digits --out DIR  # writes DIR/digits/

The split rule (see :func:`make_split`): for each class in ascending order, the class's indices are
permuted by one ``np.random.default_rng(SPLIT_SEED)`` generator; the first ``round(0.6 n_c)`` go to
train, the next ``round(0.2 n_c)`` to val, the rest to test; each split's indices are then sorted.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..data.files import CHECKSUMS_NAME, content_sha256
from .dataset_files import record_checksums, write_npz

SPLIT_SEED = 0
FRACTIONS = {"train": 0.6, "val": 0.2}  # test gets the rest
SPLITS = ("train", "val", "test")
NPZ_NAME = "digits/digits.npz"
SPLIT_NAME = "digits/split.json"
# Zip entries carry a timestamp; a fixed one keeps the file's bytes reproducible.


def make_split(target: np.ndarray, seed: int = SPLIT_SEED) -> dict[str, list[int]]:
    """A stratified 60/20/20 split of ``range(len(target))``; see the module docstring for the rule."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[int]] = {name: [] for name in SPLITS}
    for label in np.unique(target):
        members = rng.permutation(np.flatnonzero(target == label))
        n_train = round(FRACTIONS["train"] * len(members))
        n_val = round(FRACTIONS["val"] * len(members))
        parts["train"] += members[:n_train].tolist()
        parts["val"] += members[n_train:n_train + n_val].tolist()
        parts["test"] += members[n_train + n_val:].tolist()
    return {name: sorted(int(i) for i in idx) for name, idx in parts.items()}


def source_arrays() -> dict[str, np.ndarray]:
    """``images`` uint8 (1797, 8, 8) with pixels 0..16 and ``target`` uint8 (1797,), from scikit-learn."""
    from sklearn.datasets import load_digits  # heavy: only this command needs it

    digits = load_digits()
    images = digits.images
    if not np.array_equal(images, np.round(images)) or images.min() < 0 or images.max() > 16:
        raise ValueError("scikit-learn's digits are no longer integers in 0..16; check the source")
    return {"images": images.astype(np.uint8), "target": digits.target.astype(np.uint8)}


def write_split(path: Path, split: dict[str, list[int]], n: int) -> None:
    """The split as JSON: a few describing keys, then one line per index list."""
    doc = {
        "source": "sklearn.datasets.load_digits (UCI optdigits test set)",
        "n_samples": n,
        "seed": SPLIT_SEED,
        "rule": ("per class in ascending order: permute the class's indices with one "
                 "numpy.random.default_rng(seed); first round(0.6 n_c) -> train, next "
                 "round(0.2 n_c) -> val, rest -> test; indices sorted"),
        **split,
    }
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in doc.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def build(out: Path) -> dict[str, str]:
    """Write the digits files under ``out`` and record their digests in ``out/checksums.json``.

    Other entries of ``checksums.json`` are kept. Returns the digests written.
    """
    arrays = source_arrays()
    write_npz(out / NPZ_NAME, arrays)
    write_split(out / SPLIT_NAME, make_split(arrays["target"]), len(arrays["target"]))
    digests = {name: content_sha256(out / name) for name in (NPZ_NAME, SPLIT_NAME)}
    record_checksums(out, digests)
    return digests


def default_out() -> Path:
    """The repository's ``datasets/`` folder (this file is ``autograder/coursekit/data/``)."""
    return Path(__file__).resolve().parents[3] / "datasets"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.authoring.build_digits",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="the datasets/ folder to write into (default: the repository's)")
    args = parser.parse_args(argv)
    out = (args.out or default_out()).resolve()
    for name, digest in build(out).items():
        print(f"wrote {out / name}  sha256(content)={digest}")
    print(f"updated {out / CHECKSUMS_NAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
