"""Leak scans: what must never leave the course staff's hands, checked before anything is released.

Both releases are scanned: the Gradescope zip may hold hidden tests but nothing of the reference;
the student starter may hold neither, nor compiled files, caches or OS litter. A problem names the
file (and line) and what it carries::

    stencil/perceptron.py:31 repeats a line of the reference solution (perceptron.py): '...'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..config import WeekConfig
from .known_bad import without_markers
from ..paths import Repo
from . import notebooks
from .stencil import IGNORED_NAMES, IGNORED_SUFFIXES, find_regions

MIN_LEAK_LINE = 24  # shorter lines (``return w, b``) are too common to mean a leak
LITTER = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass
class Secrets:
    """Fingerprints of a week's private material."""

    digests: dict[str, str] = field(default_factory=dict)  # sha256 → what it is
    lines: dict[str, str] = field(default_factory=dict)  # distinctive line → where it comes from


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _distinctive(text: str, public: str) -> list[str]:
    return [s for s in (line.strip() for line in text.splitlines())
            if len(s) >= MIN_LEAK_LINE and not s.startswith("#") and s not in public]


def collect(repo: Repo, week: WeekConfig, hidden_tests: bool) -> Secrets:
    """The reference (files, and lines of its solution regions); with ``hidden_tests``, also the
    hidden graders and known-bad specs (files, and lines absent from public material)."""
    secrets = Secrets()
    public = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                       for folder in (repo.stencil(week.name), repo.public_tests(week.name),
                                      repo.autograder / "coursekit")
                       if folder.is_dir() for p in sorted(folder.rglob("*.py")))
    public += "\n" + notebooks.public_text(repo, week.name)
    solution = repo.solution(week.name)
    if solution.is_dir():
        for path in sorted(p for p in solution.rglob("*") if p.is_file()):
            data = path.read_bytes()
            secrets.digests[_digest(data)] = f"a copy of the reference {path.name}"
            if path.suffix == ".py":
                source = data.decode("utf-8")
                secrets.digests[_digest(without_markers(source).encode())] = f"a copy of the reference {path.name}"
                lines = source.splitlines()
                for region in find_regions(source, str(path)):
                    for line in _distinctive("\n".join(lines[region.begin: region.end - 1]), public):
                        secrets.lines[line] = f"a line of the reference solution ({path.name})"
            elif path.suffix == ".ipynb":
                for line in _distinctive("\n".join(notebooks.private_lines(data, str(path))), public):
                    secrets.lines[line] = f"a line of the reference notebook's answers ({path.name})"
    if hidden_tests:
        # The week's drivers ship to students on purpose: a line they share with a hidden test is
        # public (but a line of the reference in them is still a leak, found above).
        drivers = repo.drivers(week.name)
        if drivers.is_file():
            public += "\n" + drivers.read_text(encoding="utf-8", errors="replace")
        for folder, what in ((repo.hidden_tests(week.name), "hidden test"), (repo.known_bad(week.name), "known-bad")):
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                data = path.read_bytes()
                secrets.digests[_digest(data)] = f"a copy of the {what} file {path.name}"
                for line in _distinctive(data.decode("utf-8", "replace"), public):
                    secrets.lines.setdefault(line, f"a line of the {what} file {path.name}")
    return secrets


def scan(files: dict[str, bytes], secrets: Secrets, litter: bool = False) -> list[str]:
    """Problems found in ``files`` (path → bytes); empty when clean."""
    problems = []
    for name, data in sorted(files.items()):
        parts = PurePosixPath(name).parts
        if litter and (any(p in IGNORED_NAMES for p in parts) or PurePosixPath(name).suffix in IGNORED_SUFFIXES
                       or parts[-1] in LITTER or parts[-1].startswith("._")):
            problems.append(f"{name}: compiled, cache or OS litter file")
            continue
        what = secrets.digests.get(_digest(data))
        if what:
            problems.append(f"{name}: {what}")
            continue
        if name.endswith(".ipynb"):  # JSON: its cells are scanned, not its raw lines
            problems.extend(notebooks.scan(name, data, secrets.lines))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if "BEGIN SOLUTION" in line or "END SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
                problems.append(f"{name}:{number}: holds a solution marker")
                break
            stripped = line.strip()
            if stripped in secrets.lines:
                problems.append(f"{name}:{number}: repeats {secrets.lines[stripped]}: {stripped[:80]!r}")
                break
    return problems
