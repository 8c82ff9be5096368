"""The course's data: the bundled 8×8 digits with a fixed split (also binarized), and seeded generators.

Importing this package imports numpy and the standard library only; ``coursekit.authoring.build_digits`` (which needs
scikit-learn) is a TA command and is not imported here.
"""

from .binary_digits import BINARY_THRESHOLD, load_binary_digits
from .digits import load_digits, load_digits_images
from .files import ChecksumError, DatasetError, datasets_root
from .synthetic import noisy_blobs, separable_blobs, spirals, xor
from .toy2d import moons, swiss_roll

__all__ = [
    "BINARY_THRESHOLD",
    "ChecksumError",
    "DatasetError",
    "datasets_root",
    "load_binary_digits",
    "load_digits",
    "load_digits_images",
    "moons",
    "noisy_blobs",
    "separable_blobs",
    "spirals",
    "swiss_roll",
    "xor",
]
