"""The course's data: the bundled 8×8 digits with a fixed split (also binarized), week 4's text
corpus, week 5's sequence tasks, and seeded generators (blobs, XOR, spirals, moons, swiss roll).

Importing this package imports numpy and the standard library only (the sequence tasks import
torch when they run); the builders of the bundled files (``coursekit.authoring.build_digits``,
which needs scikit-learn, ``build_text``, which reads a downloaded package, and ``build_tasks``)
are TA commands.
"""

from .binary_digits import BINARY_THRESHOLD, load_binary_digits
from .digits import load_digits, load_digits_images
from .files import ChecksumError, DatasetError, datasets_root
from .synthetic import noisy_blobs, separable_blobs, spirals, xor
from .tasks import ReversalTask
from .text import decode, encode, load_corpus, load_verified_text, load_vocab
from .toy2d import moons, swiss_roll

__all__ = [
    "BINARY_THRESHOLD",
    "ChecksumError",
    "DatasetError",
    "ReversalTask",
    "datasets_root",
    "decode",
    "encode",
    "load_binary_digits",
    "load_corpus",
    "load_digits",
    "load_digits_images",
    "load_verified_text",
    "load_vocab",
    "moons",
    "noisy_blobs",
    "separable_blobs",
    "spirals",
    "swiss_roll",
    "xor",
]
