"""Find the student's declared files in a submission of any reasonable shape, as bytes.

Accepted shapes: the files at the top; nested in one or more folders (a zipped folder, a whole
starter repository submitted from GitHub); a zip file, or a folder holding one zip. Ignored: macOS
litter (``__MACOSX``, ``._*``, ``.DS_Store``), ``.git``, caches, virtual environments. Only regular
files are read, within size caps: an entry with a student file's name that is a symbolic link, a
named pipe, a device or a socket is refused at once with the reason, and never opened (opening a
named pipe would wait forever). A zip is read in memory, never extracted, so no member can land
outside a folder; a zip that cannot be read (damaged, truncated, encrypted, an unsupported
compression method) is refused with the reason.

**Several copies of a file** (a starter repository with the untouched starter file at the top and
the finished one in a subfolder): identical copies count once; of copies that differ, the one with
the fewest parts still raising the starter's ``NotImplementedError`` is graded, then the shallowest;
copies that tie on both are refused, naming them all. Whenever there were several copies the
results say which one was graded and which were ignored (:attr:`Located.notes`).
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_TOTAL_BYTES = 200 * 1024 * 1024
SKIPPED_FOLDERS = {"__MACOSX", ".git", "__pycache__", ".venv", "venv", "node_modules", ".pytest_cache",
                   ".ipynb_checkpoints", ".github", ".idea", ".vscode"}
#: The stub ``make stencils`` puts in place of each solution region: a copy holding it is unfinished.
STUB = re.compile(rb"""raise\s+NotImplementedError\(\s*["'][^"'\n]* is not implemented yet["']""")
#: Opening a file never follows a link and never waits (a named pipe opens at once, and is refused).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class SubmissionError(ValueError):
    """The submission does not hold the week's files usably; the message says what to do."""


@dataclass
class Located:
    """The declared files found in a submission, and what the student should know about how they
    were found (which copy was graded when there were several)."""

    files: dict[str, bytes]
    notes: list[str] = field(default_factory=list)


def count_stubs(source: bytes) -> int:
    """How many parts of ``source`` still raise the starter's ``NotImplementedError`` stub."""
    return len(STUB.findall(source))


def _skipped(parts: tuple[str, ...]) -> bool:
    return any(p in SKIPPED_FOLDERS for p in parts[:-1]) or parts[-1].startswith("._") \
        or parts[-1] in (".DS_Store", "Thumbs.db")


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_regular(rel: str, what: str) -> SubmissionError:
    return SubmissionError(f"{rel} is {what}, not an ordinary file, so it was not read; replace it "
                           "with the file itself (zip the real files, or use `make submit`) and submit again")


def _choose(name: str, copies: list[tuple[str, bytes]], where: str = "") -> tuple[str, list[str]]:
    """Which of several copies ``(path, bytes)`` of ``name`` to grade (see the module docstring);
    returns its path and the notes for the student. Raises :class:`SubmissionError` on a tie."""
    copies = sorted(copies, key=lambda c: (c[0].count("/"), c[0]))
    if len(copies) == 1:
        return copies[0][0], []
    distinct: dict[bytes, list[str]] = {}
    for rel, data in copies:
        distinct.setdefault(data, []).append(rel)
    stubs = {data: count_stubs(data) for data in distinct}
    ranked = sorted(distinct, key=lambda d: (stubs[d], distinct[d][0].count("/"), distinct[d][0]))
    best = ranked[0]
    tied = [d for d in ranked if (stubs[d], distinct[d][0].count("/")) == (stubs[best], distinct[best][0].count("/"))]
    if len(tied) > 1:
        raise SubmissionError(
            f"found {len(tied)} different copies of {name} ({', '.join(where + distinct[d][0] for d in tied)}), "
            "equally complete and equally deep, so the grader cannot tell which one is your work; keep "
            "only the one you want graded and submit again")
    graded = distinct[best][0]
    ignored = []
    for data in ranked:
        for rel in distinct[data]:
            if rel == graded:
                continue
            if data == best:
                why = "identical to the graded copy"
            elif stubs[data] > stubs[best]:
                why = (f"{stubs[data]} part{'s' if stubs[data] != 1 else ''} still raise "
                       "NotImplementedError as in the starter")
            else:
                why = "differs, and is deeper in the folders"
            ignored.append(f"{where}{rel} ({why})")
    note = (f"Note: the submission holds {len(copies)} copies of {name}. Graded: {where}{graded}. "
            f"Ignored: {'; '.join(ignored)}. If the wrong copy was graded, keep only the one you want "
            "graded and submit again.")
    return graded, [note]


def _missing(names: list[str], present: list[str]) -> SubmissionError:
    shown = ", ".join(sorted(present)[:15]) or "no Python files"
    return SubmissionError(f"missing {', '.join(names)}: the submission must contain "
                           f"{'these files' if len(names) > 1 else 'this file'} (found: {shown}). "
                           "Upload the files themselves, a zip of them, or your starter repository.")


# --- folders -----------------------------------------------------------------------------------

def _entries_in_folder(root: Path) -> dict[str, list[tuple[str, Path]]]:
    """Every entry that is not a folder (files, links, pipes, devices), by name."""
    found: dict[str, list[tuple[str, Path]]] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        # A link to a folder is listed among dirs and never followed: list it as an entry.
        links = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS and d not in links)
        for name in sorted(files + links):
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if _skipped(tuple(rel.split("/"))):
                continue
            found.setdefault(name, []).append((rel, path))
    return found


def _open_regular(path: Path, rel: str) -> int:
    """A descriptor of ``path`` if it is a regular file; refuses anything else without waiting."""
    try:
        info = os.lstat(path)
    except OSError as e:
        raise SubmissionError(f"{rel} could not be read ({e.strerror})") from None
    what = _kind(info.st_mode)
    if what is not None:
        raise _not_regular(rel, what)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as e:
        raise SubmissionError(f"{rel} could not be read ({e.strerror})") from None
    what = _kind(os.fstat(fd).st_mode)  # it may have been swapped since the lstat
    if what is not None:
        os.close(fd)
        raise _not_regular(rel, what)
    return fd


def _read_file(path: Path, rel: str) -> bytes:
    fd = _open_regular(path, rel)
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SubmissionError(f"{rel} is over the {MAX_FILE_BYTES}-byte limit")
    return data


def _refuse_unusual(root: Path, entries: list[tuple[str, Path]]) -> None:
    """A link, pipe, device or socket with a student file's name is refused, wherever it is."""
    for rel, path in entries:
        try:
            info = os.lstat(path)
        except OSError as e:
            raise SubmissionError(f"{rel} could not be read ({e.strerror})") from None
        what = _kind(info.st_mode)
        if what is None:
            continue
        if stat.S_ISLNK(info.st_mode):
            inside = Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))
            what += " to a file inside the submission" if inside else " pointing outside the submission"
        raise _not_regular(rel, what)


def locate_in_folder(root: Path, student_files: tuple[str, ...] | list[str]) -> Located:
    root = Path(root)
    entries = _entries_in_folder(root)
    if not any(f in entries for f in student_files):
        zips = [(rel, p) for found in entries.values() for rel, p in found if rel.endswith(".zip")]
        if len(zips) == 1:
            rel, path = zips[0]
            fd = _open_regular(path, rel)
            with os.fdopen(fd, "rb") as f:
                return _locate_in_zip_file(f, rel, student_files, where=f"{rel}: ")
    missing = [f for f in student_files if f not in entries]
    if missing:
        raise _missing(missing, [n for n in entries if n.endswith(".py")])
    out = Located({})
    for name in student_files:
        _refuse_unusual(root, entries[name])
        copies = [(rel, _read_file(path, rel)) for rel, path in entries[name]]
        rel, notes = _choose(name, copies)
        out.files[name] = dict(copies)[rel]
        out.notes += notes
    return out


# --- zips --------------------------------------------------------------------------------------

def _unreadable_zip(label: str, member: str | None, e: BaseException) -> SubmissionError:
    """Why a zip (or one of its members) cannot be read, in the student's words, and what to do."""
    what = f"{member} in {label}" if member else label
    if isinstance(e, NotImplementedError):
        why = ("uses a compression method this grader cannot read; zip the files again with ordinary "
               "(deflate) compression, e.g. with `make submit`")
    elif isinstance(e, RuntimeError) and "password" in str(e).lower() or isinstance(e, _Encrypted):
        why = ("is password-protected (encrypted); zip the files again without a password, "
               "e.g. with `make submit`")
    elif isinstance(e, zipfile.BadZipFile) and "CRC" in str(e):
        why = ("is damaged: its content does not match its checksum (the file was cut short or "
               "corrupted on the way); build the zip again with `make submit` and upload it again")
    elif isinstance(e, (zlib.error, EOFError, struct.error)):
        why = ("is damaged: its compressed data is truncated or corrupt; build the zip again with "
               "`make submit` and upload it again")
    else:
        why = (f"cannot be read as a zip file ({type(e).__name__}); build it again with `make submit` "
               "or zip the files again")
    return SubmissionError(f"{what} {why}")


class _Encrypted(Exception):
    pass


def _locate_in_zip_file(file, label: str, student_files: tuple[str, ...] | list[str],
                        where: str = "") -> Located:
    """The declared files of the zip read from ``file`` (a binary file object) named ``label``.
    Any failure to read the zip or a needed member is a :class:`SubmissionError` that says why."""
    member = None
    try:
        archive = zipfile.ZipFile(file)
    except Exception as e:  # noqa: BLE001 - student bytes: any failure to parse means "unreadable"
        raise _unreadable_zip(label, None, e) from None
    try:
        with archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise SubmissionError(f"the zip has {len(members)} entries, over {MAX_ZIP_MEMBERS}")
            if sum(m.file_size for m in members) > MAX_ZIP_TOTAL_BYTES:
                raise SubmissionError("the zip expands to more than 200 MB; submit only your files")
            by_name: dict[str, list[str]] = {}
            infos = {}
            for m in members:
                parts = PurePosixPath(m.filename.replace("\\", "/")).parts
                if m.is_dir() or not parts or ".." in parts or _skipped(tuple(parts)):
                    continue
                rel = "/".join(parts)
                by_name.setdefault(parts[-1], []).append(rel)
                infos[rel] = m
            missing = [f for f in student_files if f not in by_name]
            if missing:
                raise _missing(missing, [n for n in by_name if n.endswith(".py")])
            out = Located({})
            for name in student_files:
                copies = []
                for rel in by_name[name]:
                    member, info = rel, infos[rel]
                    mode = info.external_attr >> 16
                    what = _kind(mode) if stat.S_IFMT(mode) else None  # no type: made without one (Windows)
                    if what is not None:
                        raise _not_regular(f"{where}{rel}", what)
                    if info.flag_bits & 0x1:
                        raise _Encrypted()
                    if info.file_size > MAX_FILE_BYTES:
                        raise SubmissionError(f"{where}{rel} is {info.file_size} bytes, over the "
                                              f"{MAX_FILE_BYTES}-byte limit")
                    with archive.open(info) as f:
                        data = f.read(MAX_FILE_BYTES + 1)
                    if len(data) > MAX_FILE_BYTES:
                        raise SubmissionError(f"{where}{rel} is over the {MAX_FILE_BYTES}-byte limit")
                    copies.append((rel, data))
                member = None
                rel, notes = _choose(name, copies, where)
                out.files[name] = dict(copies)[rel]
                out.notes += notes
            return out
    except SubmissionError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged, encrypted or exotic zip, whatever the error
        raise _unreadable_zip(label, member, e) from None


def locate_in_zip(path: Path, student_files: tuple[str, ...] | list[str]) -> Located:
    path = Path(path)
    fd = _open_regular(path, path.name)
    with os.fdopen(fd, "rb") as f:
        return _locate_in_zip_file(f, path.name, student_files)


def locate(submission: Path, student_files: tuple[str, ...] | list[str]) -> Located:
    """The declared files of ``submission`` (a folder, a zip, or one student file), with notes.

    Raises :class:`SubmissionError`, whose message tells the student what is wrong and what to do,
    when a file is missing, unreadable, not a regular file, over the size cap, or ambiguous."""
    submission = Path(submission)
    try:
        info = os.lstat(submission)
    except OSError:
        raise SubmissionError(f"{submission} does not exist") from None
    if stat.S_ISDIR(info.st_mode):
        return locate_in_folder(submission, student_files)
    if _kind(info.st_mode) is not None:
        raise _not_regular(submission.name, _kind(info.st_mode))
    if submission.name in student_files and len(student_files) == 1:
        return Located({submission.name: _read_file(submission, submission.name)})
    return locate_in_zip(submission, student_files)


def read_student_files(submission: Path, student_files: tuple[str, ...] | list[str]) -> dict[str, bytes]:
    """The declared files of ``submission`` (a folder or a zip), by file name (see :func:`locate`)."""
    return locate(submission, student_files).files
