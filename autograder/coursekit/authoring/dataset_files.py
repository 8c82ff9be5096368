"""Writing the bundled data files reproducibly, and recording their digests (TA tooling).

Shared by the dataset builders (``build_digits``, ``build_tasks``, ``build_text``): equal arrays
give equal bytes, and ``datasets/checksums.json`` keeps its other entries, sorted.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from ..data.files import CHECKSUMS_NAME, read_checksums

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed``, but with fixed zip metadata so equal arrays give equal bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())


def record_checksums(folder: Path, digests: dict[str, str]) -> None:
    """Add ``digests`` (path inside ``folder`` → content digest) to ``folder/checksums.json``."""
    table = {**read_checksums(folder), **digests}
    (folder / CHECKSUMS_NAME).write_text(json.dumps(dict(sorted(table.items())), indent=2) + "\n",
                                         encoding="utf-8")
