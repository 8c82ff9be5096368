"""Find the student's declared files in a submission of any reasonable shape, as bytes.

Accepted shapes: the files at the top; nested in one or more folders (a zipped folder, a whole
starter repository submitted from GitHub); a zip file, or a folder holding one zip. Ignored: macOS
litter (``__MACOSX``, ``._*``, ``.DS_Store``), ``.git``, caches, virtual environments. Only regular
files are read (no symlinks, no devices), within size caps; a zip is read in memory, never
extracted, so no member can land outside a folder. The result holds only the declared files.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_TOTAL_BYTES = 200 * 1024 * 1024
SKIPPED_FOLDERS = {"__MACOSX", ".git", "__pycache__", ".venv", "venv", "node_modules", ".pytest_cache",
                   ".ipynb_checkpoints", ".github", ".idea", ".vscode"}


class SubmissionError(ValueError):
    """The submission does not hold the week's files usably; the message says what to do."""


def _skipped(parts: tuple[str, ...]) -> bool:
    return any(p in SKIPPED_FOLDERS for p in parts[:-1]) or parts[-1].startswith("._") \
        or parts[-1] in (".DS_Store", "Thumbs.db")


def _candidates_in_folder(root: Path) -> dict[str, list[tuple[str, Path]]]:
    found: dict[str, list[tuple[str, Path]]] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if _skipped(tuple(rel.split("/"))):
                continue
            found.setdefault(name, []).append((rel, path))
    return found


def _choose(name: str, options: list[str]) -> str:
    """The shallowest candidate; refuse when two are equally shallow (we will not guess)."""
    options = sorted(options, key=lambda p: (p.count("/"), p))
    depth = options[0].count("/")
    best = [p for p in options if p.count("/") == depth]
    if len(best) > 1:
        raise SubmissionError(f"found {name} in several places ({', '.join(best)}); keep only the one "
                              "you want graded and submit again")
    return best[0]


def _missing(names: list[str], present: list[str]) -> SubmissionError:
    shown = ", ".join(sorted(present)[:15]) or "no Python files"
    return SubmissionError(f"missing {', '.join(names)}: the submission must contain "
                           f"{'these files' if len(names) > 1 else 'this file'} (found: {shown}). "
                           "Upload the files themselves, a zip of them, or your starter repository.")


def read_from_folder(root: Path, student_files: tuple[str, ...] | list[str]) -> dict[str, bytes]:
    root = Path(root)
    candidates = _candidates_in_folder(root)
    if not any(f in candidates for f in student_files):
        zips = [p for rel, p in sum(candidates.values(), []) if rel.endswith(".zip")]
        if len(zips) == 1:
            return read_from_zip(zips[0], student_files)
    missing = [f for f in student_files if f not in candidates]
    if missing:
        raise _missing(missing, [n for n in candidates if n.endswith(".py")])
    out = {}
    for name in student_files:
        rel = _choose(name, [r for r, _ in candidates[name]])
        path = root / rel
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(f"{rel} is not a regular file (a link or a device); submit the file itself")
        if info.st_size > MAX_FILE_BYTES:
            raise SubmissionError(f"{rel} is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            out[name] = f.read(MAX_FILE_BYTES + 1)
    return out


def read_from_zip(path: Path, student_files: tuple[str, ...] | list[str]) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise SubmissionError(f"{Path(path).name} is not a readable zip file ({e}); build it with "
                              "`make submit` or zip the files again") from None
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
            if stat.S_ISLNK(m.external_attr >> 16):
                continue  # a symlink inside a zip is never a student's source file
            rel = "/".join(parts)
            by_name.setdefault(parts[-1], []).append(rel)
            infos[rel] = m
        missing = [f for f in student_files if f not in by_name]
        if missing:
            raise _missing(missing, [n for n in by_name if n.endswith(".py")])
        out = {}
        for name in student_files:
            rel = _choose(name, by_name[name])
            info = infos[rel]
            if info.file_size > MAX_FILE_BYTES:
                raise SubmissionError(f"{rel} is {info.file_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
            with archive.open(info) as f:
                out[name] = f.read(MAX_FILE_BYTES + 1)
            if len(out[name]) > MAX_FILE_BYTES:
                raise SubmissionError(f"{rel} is over the {MAX_FILE_BYTES}-byte limit")
        return out


def read_student_files(submission: Path, student_files: tuple[str, ...] | list[str]) -> dict[str, bytes]:
    """The declared files of ``submission`` (a folder or a zip), by file name."""
    submission = Path(submission)
    if submission.is_file():
        if zipfile.is_zipfile(submission):
            return read_from_zip(submission, student_files)
        if submission.name in student_files and len(student_files) == 1:
            return read_from_folder(submission.parent, student_files)
        raise SubmissionError(f"{submission} is neither a folder nor a zip file")
    if not submission.is_dir():
        raise SubmissionError(f"{submission} does not exist")
    return read_from_folder(submission, student_files)
