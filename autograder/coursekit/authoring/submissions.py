"""A class's submissions, found in what a TA has: a Gradescope export, a folder of submissions, or a
folder of cloned student repositories.

- **Gradescope's "Export Submissions" archive** (the zip, or the folder it unpacks to, possibly one
  level down in ``assignment_<id>_export/``): ``submission_metadata.yml`` beside one folder per
  submission. The metadata maps each folder's name (``submission_<id>``) to its submitters
  (``:submitters:``, each with ``:name:``, ``:email:`` and ``:sid:``; Ruby symbols, hence the
  colons). A submission the metadata lists but the export holds no folder for is still graded (as
  an empty submission, which says what is missing).
- **A folder of submissions**: each folder or ``.zip`` in it is one submission, named by it.
- **A folder of cloned repositories**: the same; each repository is a folder.

Submissions are sorted by id, so a shard (:func:`shard`) is the same slice on every machine.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

METADATA = "submission_metadata.yml"
#: Never part of a submission (the same names ``make grade`` leaves out when it copies one).
IGNORED = ("__pycache__", ".venv")


class ExportError(ValueError):
    """The path holds no submissions in a layout we know; the message says what was found."""


@dataclass(frozen=True)
class Submitter:
    name: str = ""
    email: str = ""
    sid: str = ""


@dataclass(frozen=True)
class Submission:
    """One submission: its id (a folder or zip name), its files (``None``: the export lists it but
    holds no files for it) and, from Gradescope's metadata, who submitted it."""

    id: str
    path: Path | None
    submitters: tuple[Submitter, ...] = ()


def discover(path: Path, unpack_to: Path) -> list[Submission]:
    """The submissions at ``path`` (a folder, or a zip unpacked into ``unpack_to``), sorted by id.
    Raises :class:`ExportError` when there are none, or two share an id."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            archive.extractall(unpack_to)  # member names are sanitized: nothing lands outside
        path = Path(unpack_to)
    if not path.is_dir():
        raise ExportError(f"{path} is neither a folder nor a zip file; SUBMISSIONS must be a Gradescope "
                          "export (zip or folder), a folder of submissions, or a folder of repositories")
    folder = _export_root(path)
    found = _from_export(folder) if (folder / METADATA).is_file() else _from_folder(folder)
    if not found:
        raise ExportError(f"{path} holds no submissions (no folders or zip files, and no {METADATA})")
    return found


def _export_root(path: Path) -> Path:
    """``path``, or the one folder inside it that holds the metadata (``assignment_<id>_export/``)."""
    if (path / METADATA).is_file():
        return path
    inner = [p for p in path.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(inner) == 1 and inner[0].is_dir() and (inner[0] / METADATA).is_file():
        return inner[0]
    return path


def _entries(folder: Path) -> dict[str, Path]:
    """The submissions in ``folder`` by id: folders by name, zip files by name without ``.zip``."""
    found: dict[str, Path] = {}
    clashes = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED or entry.name == "__MACOSX":
            continue
        if entry.is_dir() and not entry.is_symlink():
            key = entry.name
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            key = entry.name[:-4]
        else:
            continue
        if key in found:
            clashes.append(f"{found[key].name} and {entry.name}")
        found[key] = entry
    if clashes:
        raise ExportError(f"two submissions in {folder} share a name: {'; '.join(clashes)}; rename one")
    return found


def _from_folder(folder: Path) -> list[Submission]:
    return [Submission(key, path) for key, path in sorted(_entries(folder).items())]


def _from_export(folder: Path) -> list[Submission]:
    listed = read_metadata(folder / METADATA)
    present = _entries(folder)
    ids = sorted(set(listed) | set(present))
    return [Submission(key, present.get(key), listed.get(key, ())) for key in ids]


def read_metadata(path: Path) -> dict[str, tuple[Submitter, ...]]:
    """Gradescope's ``submission_metadata.yml``: submitters by submission folder name.

    The file is Ruby's YAML: keys are symbols (``:name:``), and a value may carry a Ruby tag
    (``!ruby/object:BigDecimal``). Tags are read as plain values; nothing is constructed from them.
    Raises :class:`ExportError` when the file is not such a mapping."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def untagged(loader, suffix, node):
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("!", untagged)
    Loader.add_multi_constructor("tag:", untagged)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)  # a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ExportError(f"{path} could not be read as YAML: {e}") from None
    if not isinstance(data, dict):
        raise ExportError(f"{path} is not a mapping of submission folders to their metadata")
    return {str(key): _submitters(value) for key, value in data.items()}


def _field(record: Mapping, name: str) -> str:
    value = record.get(f":{name}", record.get(name))
    return "" if value is None else str(value)


def _submitters(record) -> tuple[Submitter, ...]:
    if not isinstance(record, dict):
        return ()
    people = record.get(":submitters", record.get("submitters")) or []
    return tuple(Submitter(_field(p, "name"), _field(p, "email"), _field(p, "sid"))
                 for p in people if isinstance(p, dict))


def content_hash(path: Path | None) -> str:
    """A hash of what grading a submission reads: a zip's bytes, or a folder's files and links by
    relative path (``__pycache__`` and ``.venv`` left out, as ``make grade`` leaves them out)."""
    digest = hashlib.sha256()
    if path is None:
        return digest.hexdigest()
    if not path.is_dir():
        digest.update(b"file\0" + path.read_bytes())
        return digest.hexdigest()
    for folder, dirs, files in os.walk(path, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED)
        entries = sorted(files) + sorted(d for d in dirs if os.path.islink(os.path.join(folder, d)))
        for name in entries:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, path).encode("utf-8", "surrogateescape")
            if os.path.islink(full):
                digest.update(b"link\0" + rel + b"\0" + os.readlink(full).encode("utf-8", "surrogateescape"))
            elif os.path.isfile(full):
                data = Path(full).read_bytes()
                digest.update(b"file\0" + rel + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


class ShardError(ValueError):
    """A shard specification that names no slice; the message gives the accepted forms."""


def parse_shard(text: str | None, environ: Mapping[str, str] = os.environ) -> tuple[int, int] | None:
    """``(index, count)`` with ``0 <= index < count``, from ``--shard i/n`` (``1 <= i <= n``) or,
    without it, from a Slurm job array (``SLURM_ARRAY_TASK_ID`` minus ``SLURM_ARRAY_TASK_MIN``, of
    ``SLURM_ARRAY_TASK_COUNT``); ``None`` when neither is given. Raises :class:`ShardError`."""
    if text:
        try:
            i, n = (int(part) for part in text.split("/"))
        except ValueError:
            raise ShardError(f"--shard {text!r}: write i/n, e.g. 1/4 for the first of four shards") from None
        if not 1 <= i <= n:
            raise ShardError(f"--shard {text!r}: i must be between 1 and n")
        return i - 1, n
    if environ.get("SLURM_ARRAY_TASK_ID") and environ.get("SLURM_ARRAY_TASK_COUNT"):
        try:
            task = int(environ["SLURM_ARRAY_TASK_ID"])
            count = int(environ["SLURM_ARRAY_TASK_COUNT"])
            index = task - int(environ.get("SLURM_ARRAY_TASK_MIN") or 0)
        except ValueError:
            raise ShardError("SLURM_ARRAY_TASK_ID/COUNT/MIN are not integers") from None
        if not 0 <= index < count:
            raise ShardError(f"Slurm array task {task} is not one of {count} consecutive tasks: submit "
                             "the array as --array=0-<n-1> (no step, no list)")
        return index, count
    return None


def shard(submissions: list[Submission], index: int, count: int) -> list[Submission]:
    """Slice ``index`` of ``count`` (0-based): every ``count``-th submission in id order, so the
    slices are disjoint, cover every submission, and are the same on every machine."""
    ordered = sorted(submissions, key=lambda s: s.id)
    return ordered[index::count]
