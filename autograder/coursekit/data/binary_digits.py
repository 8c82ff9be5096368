"""The 8×8 digits binarized: week 6's data (a Bernoulli VAE models binary pixels).

The images are the bundled digits of :mod:`coursekit.data.digits` (same files, same checksums, same
fixed split); each pixel counts the "on" cells of a 4×4 block, an integer 0..16, and becomes 1 when
at least :data:`BINARY_THRESHOLD` of the 16 cells are on (half the block or more), 0 otherwise.
Nothing is drawn at random: the binarization is a fixed threshold, so every machine gets the same
arrays.

Example::

    X, y = load_binary_digits("train")   # (1078, 64) float32 in {0, 1}, (1078,) int64
"""

from __future__ import annotations

import numpy as np

from .digits import _split_arrays

#: A pixel (an integer count 0..16) is 1 when it is at least this, else 0.
BINARY_THRESHOLD = 8


def load_binary_digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Binarized, flattened digits of one split (``"train"``, ``"val"`` or ``"test"``; errors as for
    :func:`coursekit.data.load_digits`).

    Returns ``X`` float32 (n, 64) with entries exactly 0.0 or 1.0 (row-major 8×8; a pixel is 1 when
    its count is at least :data:`BINARY_THRESHOLD` of 16) and ``y`` int64 (n,) with labels 0..9.
    """
    images, target = _split_arrays(split)
    X = (images.reshape(len(images), 64) >= BINARY_THRESHOLD).astype(np.float32)  # (n, 64)
    return np.ascontiguousarray(X), target.astype(np.int64)
