"""The course's data: the bundled 8×8 digits with a fixed split, week 4's text corpus, and seeded
generators.

Importing this package imports numpy and the standard library only; ``build_digits`` (which needs
scikit-learn) and ``build_text`` (which reads a downloaded package) are TA commands and are not
imported here.
"""

from .digits import load_digits, load_digits_images
from .files import ChecksumError, DatasetError, datasets_root
from .synthetic import noisy_blobs, separable_blobs, spirals, xor
from .text import decode, encode, load_corpus, load_verified_text, load_vocab

__all__ = [
    "ChecksumError",
    "DatasetError",
    "datasets_root",
    "decode",
    "encode",
    "load_corpus",
    "load_digits",
    "load_digits_images",
    "load_verified_text",
    "load_vocab",
    "noisy_blobs",
    "separable_blobs",
    "spirals",
    "xor",
]
