"""Where the bundled datasets live, and how their integrity is checked.

The course ships its data in the repository's ``datasets/`` folder, with ``datasets/checksums.json``
mapping each file's path (relative to ``datasets/``, with ``/``) to a SHA-256 content digest::

    {"digits/digits.npz": "3f1c...", "digits/split.json": "9ab0..."}

The digest is of the *content*, not of the container, so it survives re-zipping and line-ending
changes and a TA can recompute it anywhere:

- ``.npz``: for each array in name order, ``name``, ``dtype.str``, ``shape`` and the C-order bytes
  (see :func:`content_sha256`);
- ``.json``: the parsed document re-serialized canonically (sorted keys, no spaces);
- anything else: the file's bytes.

The folder is found as ``$COURSEKIT_DATASETS`` when that is set (the grading container keeps the data
outside the repository), otherwise as the first ``datasets/`` holding ``checksums.json`` above this
file. Only the standard library and numpy are imported here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

ENV_VAR = "COURSEKIT_DATASETS"
CHECKSUMS_NAME = "checksums.json"


class DatasetError(RuntimeError):
    """A bundled dataset is missing, unreadable or cannot be located; the message says what to do."""


class ChecksumError(DatasetError):
    """A bundled file's content differs from the digest recorded in ``checksums.json``."""


def datasets_root() -> Path:
    """The ``datasets/`` folder: ``$COURSEKIT_DATASETS`` or the nearest one above this package."""
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser().resolve()
        if not root.is_dir():
            raise DatasetError(f"{ENV_VAR}={env} is not a folder; point it at the course's "
                               f"datasets/ folder (the one holding {CHECKSUMS_NAME}) or unset it")
        return root
    here = Path(__file__).resolve()
    for folder in here.parents:
        candidate = folder / "datasets"
        if (candidate / CHECKSUMS_NAME).is_file():
            return candidate
    raise DatasetError(f"cannot find the course's datasets/ folder (with {CHECKSUMS_NAME}) above "
                       f"{here.parent}; set {ENV_VAR} to its path")


def content_sha256(path: Path) -> str:
    """The hex SHA-256 content digest of ``path`` as ``checksums.json`` records it."""
    path = Path(path)
    h = hashlib.sha256()
    if path.suffix == ".npz":
        # Opened here, not by np.load, so a damaged file is closed even when parsing fails.
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
            for name in sorted(archive.files):
                arr = np.ascontiguousarray(archive[name])
                # Fix the byte order so the digest does not depend on the machine.
                arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
                h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
                h.update(arr.tobytes(order="C"))
    elif path.suffix == ".json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        h.update(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


def read_checksums(root: Path) -> dict[str, str]:
    """The ``{relative path: digest}`` table of ``root/checksums.json`` (empty when absent)."""
    path = root / CHECKSUMS_NAME
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def verified_path(relative: str, regenerate: str) -> Path:
    """The path of ``datasets/<relative>`` after checking it against ``checksums.json``.

    ``regenerate`` is the command that rebuilds the file; error messages quote it.
    """
    root = datasets_root()
    path = root / relative
    how = (f"Regenerate it with `{regenerate}` (from the repository root), or restore it "
           f"with `git checkout -- datasets/{relative}`.")
    if not path.is_file():
        raise DatasetError(f"{path}: missing bundled data file. {how}")
    expected = read_checksums(root).get(relative)
    if expected is None:
        raise DatasetError(f"{path}: no checksum for {relative!r} in {root / CHECKSUMS_NAME}. {how}")
    try:
        actual = content_sha256(path)
    except Exception as e:  # noqa: BLE001 - a damaged file fails in many ways (zip, zlib, npy, JSON)
        raise ChecksumError(f"{path}: unreadable bundled data file ({e}). {how}") from None
    if actual != expected:
        raise ChecksumError(f"{path}: checksum mismatch (sha256 of the content is {actual[:16]}…, "
                            f"{CHECKSUMS_NAME} expects {expected[:16]}…): the file is corrupted "
                            f"or was edited. {how}")
    return path
