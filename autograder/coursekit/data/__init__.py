"""The course's data: the bundled 8×8 digits with a fixed split, and seeded generators.

Importing this package imports numpy and the standard library only (the sequence tasks of
:mod:`.tasks` import torch when they run); ``build_digits`` (which needs scikit-learn) and
``build_tasks`` are TA commands and are not imported here.
"""

from .digits import load_digits, load_digits_images
from .files import ChecksumError, DatasetError, datasets_root
from .synthetic import noisy_blobs, separable_blobs, spirals, xor
from .tasks import ReversalTask

__all__ = [
    "ChecksumError",
    "DatasetError",
    "ReversalTask",
    "datasets_root",
    "load_digits",
    "load_digits_images",
    "noisy_blobs",
    "separable_blobs",
    "spirals",
    "xor",
]
