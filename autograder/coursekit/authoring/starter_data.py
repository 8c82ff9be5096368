"""The bundled data a student starter carries: the public splits, checksummed, never a held-out one.

Every file in ``datasets/`` is declared here in one of three ways, so that new data cannot reach
students by accident (a file declared nowhere refuses the build, naming it):

- shipped as it is (:data:`SHIPPED`): *Macbeth*'s train and validation text and its vocabulary
  (the held-out test text is not in ``datasets/`` at all), the toy 2-D reference draw, the READMEs;
- shipped without its held-out part (:data:`PUBLIC_PART`): the digits' images and split keep the
  ``train`` and ``val`` rows only (renumbered in their original order, the split's ``withheld`` key
  naming what stays behind); the ``test`` rows, on which the graders measure accuracy, do not ship;
- kept back (:data:`KEPT`): the sequence task's golden file, which only the project's tests read.

The starter's ``datasets/checksums.json`` lists exactly the data files it ships, with the content
digests of what it ships (:func:`coursekit.data.files.content_sha256`), so ``coursekit.data`` checks
them on every load as in the course repository. Every source file is first checked against the
repository's own checksums, so damaged data never ships.

:func:`private_data` fingerprints every week's hidden-test and known-bad files for the starter's
leak scan, so a held-out file copied anywhere into a starter is refused in every week's starter,
not only in its own week's.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from ..data.files import CHECKSUMS_NAME, content_sha256, read_checksums
from ..paths import Repo
from . import leaks
from .dataset_files import write_npz
from .stencil import IGNORED_NAMES, IGNORED_SUFFIXES

#: Shipped byte for byte (paths relative to ``datasets/``).
SHIPPED = frozenset({
    "digits/README.md", "macbeth/README.md", "macbeth/train.txt", "macbeth/val.txt",
    "macbeth/vocab.json", "toy2d/README.md", "toy2d/reference.npz",
})
#: Shipped with the held-out split removed (see :func:`public_digits`).
PUBLIC_PART = frozenset({"digits/digits.npz", "digits/split.json"})
#: Never shipped: only the project's own tests read them.
KEPT = frozenset({"tasks/README.md", "tasks/reversal_golden.npz"})
#: Splits of the digits that stay with the graders.
DIGITS_WITHHELD = ("test",)

#: What the starter's README says ``datasets/`` holds.
DESCRIPTION = ("the 8×8 handwritten digits' train and validation splits (`coursekit.data.load_digits`, "
               "`load_digits_images`, `load_binary_digits`) and *Macbeth*'s train and validation text "
               "(`coursekit.data.load_corpus`); the test splits stay with the graders")

DIGITS_NOTE = """
## In this starter

This copy holds the `train` and `val` splits only: {kept} of the {total} images, in their original
order, with `split.json` indexing into them. The `test` split ({withheld} images) is held out: the
graders measure on it, so `load_digits("test")` says it is not here. Tune on `val`.
"""


class DataError(RuntimeError):
    """The bundled data cannot be shipped as declared; the message names the file and what to do."""


def _present(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and not any(part in IGNORED_NAMES for part in p.relative_to(root).parts)
            and p.suffix not in IGNORED_SUFFIXES}


def _verified(root: Path, rel: str, table: dict[str, str]) -> None:
    if rel not in table:
        raise DataError(f"datasets/{rel}: a data file without a checksum in datasets/{CHECKSUMS_NAME}; "
                        "record its digest before it can ship")
    if content_sha256(root / rel) != table[rel]:
        raise DataError(f"datasets/{rel}: its content does not match datasets/{CHECKSUMS_NAME}; "
                        "restore or rebuild it before releasing")


def public_digits(root: Path) -> dict[str, bytes]:
    """``digits/digits.npz``, ``digits/split.json`` and ``digits/README.md`` without the withheld
    split: the kept rows in their original order, the split's lists renumbered into them."""
    with open(root / "digits/digits.npz", "rb") as file, np.load(file, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    split = json.loads((root / "digits/split.json").read_text(encoding="utf-8"))
    public = [name for name in ("train", "val") if name not in DIGITS_WITHHELD]
    keep = sorted(i for name in public for i in split[name])
    position = {old: new for new, old in enumerate(keep)}
    doc = {key: value for key, value in split.items() if not isinstance(value, list)}
    doc.update(n_samples=len(keep), withheld={name: len(split[name]) for name in DIGITS_WITHHELD})
    doc.update({name: [position[i] for i in split[name]] for name in public})
    with tempfile.TemporaryDirectory(prefix="coursekit-digits-") as tmp:
        path = Path(tmp) / "digits.npz"
        write_npz(path, {name: array[keep] for name, array in arrays.items()})
        npz = path.read_bytes()
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in doc.items()]
    readme = (root / "digits/README.md").read_text(encoding="utf-8").rstrip("\n") + "\n" + DIGITS_NOTE.format(
        kept=f"{len(keep):,}", total=f"{split['n_samples']:,}",
        withheld=", ".join(f"{doc['withheld'][n]:,}" for n in DIGITS_WITHHELD))
    return {"digits/digits.npz": npz, "digits/split.json": ("{\n" + ",\n".join(lines) + "\n}\n").encode(),
            "digits/README.md": readme.encode()}


def starter_files(root: Path) -> dict[str, bytes]:
    """The starter's ``datasets/`` folder (paths relative to it, ``checksums.json`` included).

    Raises :class:`DataError` for a file of ``root`` declared nowhere, a declared data file that is
    missing, and a data file without a checksum or whose content differs from it.
    """
    present = _present(root) - {CHECKSUMS_NAME}
    declared = SHIPPED | PUBLIC_PART | KEPT
    undeclared = sorted(present - declared)
    if undeclared:
        raise DataError(f"{', '.join('datasets/' + n for n in undeclared)}: not declared in "
                        "coursekit/authoring/starter_data.py; say there whether it ships to students "
                        "(SHIPPED), ships without its held-out part (PUBLIC_PART) or stays back (KEPT)")
    missing = sorted((SHIPPED | PUBLIC_PART) - present)
    if missing:
        raise DataError(f"{', '.join('datasets/' + n for n in missing)}: missing; restore the bundled data")
    table = read_checksums(root)
    for rel in sorted((SHIPPED | PUBLIC_PART) & set(table)) + sorted(PUBLIC_PART):
        _verified(root, rel, table)
    files = {rel: (root / rel).read_bytes() for rel in sorted(SHIPPED)}
    files.update(public_digits(root))
    digests = {}
    with tempfile.TemporaryDirectory(prefix="coursekit-starter-data-") as tmp:
        for rel, data in files.items():
            if rel in table or rel in PUBLIC_PART:  # data files (READMEs carry no checksum)
                path = Path(tmp) / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                digests[rel] = content_sha256(path)
    files[CHECKSUMS_NAME] = (json.dumps(dict(sorted(digests.items())), indent=2) + "\n").encode()
    return dict(sorted(files.items()))


def private_data(repo: Repo) -> leaks.Secrets:
    """Fingerprints of every week's hidden-test and known-bad files (whole files), and of the lines
    of the hidden tests' data files (anything but Python) that the public data does not share, for
    :func:`coursekit.authoring.leaks.scan`."""
    secrets = leaks.Secrets()
    public = {line.strip() for rel in SHIPPED if (repo.datasets / rel).is_file()
              for line in (repo.datasets / rel).read_text(encoding="utf-8", errors="replace").splitlines()}
    folders = sorted(p for p in repo.autograder.glob("*/*") if p.is_dir() and p.name in ("tests", "known_bad")
                     and p.parent.name != "coursekit")
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            data = path.read_bytes()
            if not data.strip():
                continue  # an empty file is no one's secret
            where = f"autograder/{path.relative_to(repo.autograder).as_posix()}"
            secrets.digests.setdefault(leaks._digest(data), f"a copy of the private file {where}")
            if folder.name == "tests" and path.suffix != ".py":
                for line in data.decode("utf-8", "replace").splitlines():
                    line = line.strip()
                    if len(line) >= leaks.MIN_LEAK_LINE and line not in public:
                        secrets.lines.setdefault(line, f"a line of the held-out data file {where}")
    return secrets
