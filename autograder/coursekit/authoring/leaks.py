"""Leak scans: what must never leave the course staff's hands, checked before anything is released.

Both releases are scanned: the Gradescope zip may hold hidden tests but nothing of the reference;
the student starter may hold neither, nor compiled files, caches or OS litter. A problem names the
file (and line) and what it carries::

    perceptron.py:29: repeats the reference solution, solutions/perceptron/perceptron.py:29: 'scores = X @ w + b'

The reference's solution lines are found without trusting its markers to be right: a region is
bounded by markers of any spelling (exact or a look-alike, :mod:`.markers`), and a function a task
lists that holds no region at all counts as solution code from its first statement to its last. Each
such line is compared with every line of every shipped text file after normalizing both (comments and
all whitespace dropped; a doctest prompt or inline-code backticks around a shipped line too), so
re-indenting, re-spacing or re-commenting a line does not hide it. Lines that cannot tell a leak from
ordinary code are not compared: docstrings, ``def``/``class`` lines, ``pass``, ``raise
NotImplementedError``, lines made only of names (``return out``, ``else:``), lines shorter than
:data:`MIN_SOLUTION_CHARS`, lines that also occur in given code (the reference outside its solution
code, and the week's drivers: both ship on purpose), and course idiom (lines of the engine or of any
other week: ``with torch.no_grad():``). In the zip's hidden graders, whose oracles re-implement the
reference, only lines of at least :data:`MIN_LEAK_LINE` characters count. The reference's markers are
also checked exactly as ``make stencils`` checks them, so a misspelt marker refuses every release
with ``file:line``.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..config import WeekConfig
from ..paths import Repo
from . import markers, notebooks, stencil
from .stencil import IGNORED_NAMES, IGNORED_SUFFIXES

MIN_LEAK_LINE = 24  # hidden-test lines shorter than this (``return w, b``) are too common to mean a leak
#: a solution line shorter than this, normalized (``scores=X@w+b`` has 12), is too common to mean a leak
MIN_SOLUTION_CHARS = 12
#: hits reported per shipped file; the rest are counted
MAX_HITS_PER_FILE = 5
LITTER = {".DS_Store", "Thumbs.db", "desktop.ini"}

# A line's code before its comment: unquoted text, or whole quoted strings (a '#' in them stays).
_CODE = re.compile(r"""(?:[^#'"]|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")*""")
_PROMPT = re.compile(r"^\s*(?:>>>|\.\.\.)\s")
# Lines made only of names, dots, commas and a colon (after an optional keyword): ``return out``,
# ``return self.w, self.b``, ``else:``: every program has them.
_NAMES_ONLY = re.compile(r"(?:return|yield|raise|del|pass|break|continue|else|try|finally)?[\w.,]*:?")


@dataclass
class Secrets:
    """Fingerprints of a week's private material."""

    digests: dict[str, str] = field(default_factory=dict)  # sha256 → what it is
    lines: dict[str, str] = field(default_factory=dict)  # distinctive line → where it comes from
    solution: dict[str, str] = field(default_factory=dict)  # normalized solution line → ``file:line: 'text'``
    problems: list[str] = field(default_factory=list)  # the reference's marker problems (``file:line: ...``)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalize(line: str) -> str:
    """A line of code as the solution-line scan compares it: its comment and all whitespace removed."""
    if "#" in line:
        line = _CODE.match(line).group()
    return "".join(line.split())


def _distinctive(text: str, public: set[str]) -> list[str]:
    return [s for s in (line.strip() for line in text.splitlines())
            if len(s) >= MIN_LEAK_LINE and not s.startswith("#") and s not in public]


def _body_start(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    """The first line of ``node``'s body after its docstring (past the end when nothing follows)."""
    body = node.body
    if _is_docstring(body[0]):
        return body[1].lineno if len(body) > 1 else (node.end_lineno or node.lineno) + 1
    return body[0].lineno


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _definitions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _innermost(tree: ast.AST, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    best = None
    for node in _definitions(tree):
        if not isinstance(node, ast.ClassDef) and node.lineno < line <= (node.end_lineno or node.lineno):
            if best is None or node.lineno > best.lineno:
                best = node
    return best


def solution_spans(source: str, week: WeekConfig, student_file: str) -> list[tuple[int, int]]:
    """The reference's solution code in ``source`` as ``(first, last)`` line ranges, 1-based and
    inclusive, found leniently: regions between markers of any spelling (an unclosed one runs to the
    end of its function, a stray END starts at its function's first statement) and the whole body of
    every function or class a task lists that holds no region. Never raises on bad markers."""
    try:
        tree: ast.Module | None = ast.parse(source)
    except SyntaxError:
        tree = None
    count = len(markers.source_lines(source))
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    for found in markers.find_lenient(source):
        if found.marker.kind == "BEGIN":
            if open_at is None:
                open_at = found.line
        elif open_at is not None:
            spans.append((open_at + 1, found.line - 1))
            open_at = None
        else:  # an END whose BEGIN was not recognised at all
            function = _innermost(tree, found.line) if tree is not None else None
            spans.append((_body_start(function) if function else 1, found.line - 1))
    if open_at is not None:
        function = _innermost(tree, open_at) if tree is not None else None
        spans.append((open_at + 1, (function.end_lineno or count) if function else count))
    if tree is not None:
        for _, node in stencil.task_definitions(tree, week, student_file):
            last = node.end_lineno or node.lineno
            if not any(node.lineno <= first <= last or first <= node.lineno <= end for first, end in spans):
                spans.append((_body_start(node), last))
    return sorted(spans)


def _not_code(source: str) -> set[int]:
    """Lines of docstrings and of ``def``/``class`` headers (decorators and signatures)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    skip: set[int] = set()
    for node in _definitions(tree):
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        skip.update(range(first, node.body[0].lineno))
        if _is_docstring(node.body[0]):
            skip.update(range(node.body[0].lineno, (node.body[0].end_lineno or node.body[0].lineno) + 1))
    return skip


def _comparable(normalized: str) -> bool:
    return (len(normalized) >= MIN_SOLUTION_CHARS and not _NAMES_ONLY.fullmatch(normalized)
            and not normalized.startswith("raiseNotImplementedError"))


def _code_lines(folder: Path) -> set[str]:
    """Normalized lines of every Python file under ``folder``."""
    if not folder.is_dir():
        return set()
    lines: set[str] = set()
    for path in sorted(folder.rglob("*.py")):
        if not stencil.is_ignored(path):
            stat = path.stat()
            lines |= _file_lines(str(path), stat.st_mtime_ns, stat.st_size)
    return lines


@functools.lru_cache(maxsize=512)  # keyed by the file's change time: scans of several weeks read each file once
def _file_lines(path: str, mtime_ns: int, size: int) -> frozenset[str]:
    return frozenset(normalize(line) for line in Path(path).read_text(encoding="utf-8", errors="replace").split("\n"))


def common_lines(repo: Repo, week: WeekConfig) -> set[str]:
    """Normalized lines that are course idiom rather than this week's answer: those of the engine
    and of every other week's reference, stencil, drivers and tests (``with torch.no_grad():``,
    ``model.eval()``, ``super().__init__()``)."""
    common = _code_lines(repo.autograder / "coursekit")
    for other in repo.week_names():
        if other != week.name:
            for folder in (repo.solution(other), repo.stencil(other), repo.assignments / other,
                           repo.autograder / other):
                common |= _code_lines(folder)
    return common


def solution_lines(repo: Repo, week: WeekConfig) -> dict[str, str]:
    """Every comparable solution line of the week's reference, normalized, mapped to where it is
    (``solutions/<week>/file.py:29: 'the line'``). Left out: lines that also occur in given code
    (the reference outside its solution code and the week's drivers, which ship on purpose) and course
    idiom (:func:`common_lines`). The lab notebook is not given code: a public cell that repeats a
    solution line hands students part of a graded task, so the starter scan refuses it."""
    solution = repo.solution(week.name)
    candidates: list[tuple[str, str]] = []
    given: set[str] = set()
    if repo.drivers(week.name).is_file():
        given |= {normalize(line) for line in repo.drivers(week.name).read_text(encoding="utf-8", errors="replace").split("\n")}
    for path in sorted(p for p in solution.rglob("*.py") if p.is_file() and not stencil.is_ignored(p)):
        source = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(solution).as_posix()
        shown = path.relative_to(repo.root).as_posix() if path.is_relative_to(repo.root) else str(path)
        inside = {n for first, last in solution_spans(source, week, rel) for n in range(first, last + 1)}
        skip = _not_code(source)
        for number, line in enumerate(markers.source_lines(source), start=1):
            normalized = normalize(line)
            if number not in inside:
                given.add(normalized)
            elif number not in skip and _comparable(normalized):
                candidates.append((normalized, f"{shown}:{number}: {line.strip()[:80]!r}"))
    given |= common_lines(repo, week)
    found: dict[str, str] = {}
    for normalized, where in candidates:
        if normalized not in found and normalized not in given:
            found[normalized] = where
    return found


def _public_lines(repo: Repo, week: WeekConfig) -> set[str]:
    """Stripped lines students get anyway: the stencil, public tests, engine, the week's drivers and
    the lab notebook's public material (:func:`notebooks.public_text`)."""
    sources = [p for folder in (repo.stencil(week.name), repo.public_tests(week.name), repo.autograder / "coursekit")
               if folder.is_dir() for p in sorted(folder.rglob("*.py"))]
    if repo.drivers(week.name).is_file():
        sources.append(repo.drivers(week.name))
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sources)
    return {line.strip() for line in (text + "\n" + notebooks.public_text(repo, week.name)).splitlines()}


def _notebook_solution_hits(name: str, data: bytes, secrets: Secrets) -> list[str]:
    """A shipped notebook's cells that repeat a solution line of the reference's Python files."""
    try:
        cells = notebooks.cell_sources(data)
    except (UnicodeDecodeError, ValueError):
        return []  # notebooks.scan reports it
    hits = [f"{name}[cell {index + 1}]:{n}: repeats the reference solution, {where}"
            for index, (_, source) in enumerate(cells) for n, where in _solution_hits("\n".join(source), secrets, 0)]
    return hits[:MAX_HITS_PER_FILE]


def collect(repo: Repo, week: WeekConfig, hidden_tests: bool) -> Secrets:
    """The reference (files, its marker problems, and its solution lines); with ``hidden_tests``,
    also the hidden graders and known-bad specs (files, and lines absent from public material)."""
    secrets = Secrets()
    public = _public_lines(repo, week)  # read once: it generates the student lab notebook
    solution = repo.solution(week.name)
    if solution.is_dir():
        secrets.problems = stencil.check(solution, week)
        for path in sorted(p for p in solution.rglob("*") if p.is_file()):
            data = path.read_bytes()
            secrets.digests[_digest(data)] = f"a copy of the reference {path.name}"
            if path.suffix == ".py":
                try:
                    stripped = markers.without_markers(data.decode("utf-8", "replace"), str(path))
                except markers.MarkerError:
                    continue  # reported in problems
                secrets.digests[_digest(stripped.encode())] = f"a copy of the reference {path.name}"
            elif path.suffix == ".ipynb":
                for line in _distinctive("\n".join(notebooks.private_lines(data, str(path))), public):
                    secrets.lines.setdefault(line, f"a line of the reference notebook's answers ({path.name})")
        secrets.solution = solution_lines(repo, week)
    if hidden_tests:
        # The week's drivers ship to students on purpose: a line they share with a hidden test is
        # public (but a line of the reference in them is still a leak, found above).
        for folder, what in ((repo.hidden_tests(week.name), "hidden test"), (repo.known_bad(week.name), "known-bad")):
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                data = path.read_bytes()
                secrets.digests[_digest(data)] = f"a copy of the {what} file {path.name}"
                for line in _distinctive(data.decode("utf-8", "replace"), public):
                    secrets.lines.setdefault(line, f"a line of the {what} file {path.name}")
    return secrets


def _shipped(line: str) -> str:
    """A shipped line normalized as solution lines are, also without a doctest prompt or the
    backticks of inline code around it (a handout's ```scores = X @ w + b```)."""
    if ">>>" in line or "..." in line:
        line = _PROMPT.sub("", line)
    return normalize(line).strip("`")


def _solution_hits(text: str, secrets: Secrets, min_chars: int) -> list[tuple[int, str]]:
    """``(line, where in the reference)`` for each line of ``text`` that is a solution line of at
    least ``min_chars`` characters (normalized)."""
    hits = []
    for number, line in enumerate(text.split("\n"), start=1):
        normalized = _shipped(line)
        if len(normalized) >= min_chars and normalized in secrets.solution:
            hits.append((number, secrets.solution[normalized]))
    return hits


def scan(files: dict[str, bytes], secrets: Secrets, litter: bool = False, graders: str | None = None) -> list[str]:
    """Problems found in ``files`` (path → bytes), after the reference's own marker problems; empty
    when clean. ``graders`` is the folder of hidden graders that ship on purpose (the Gradescope
    zip's): their oracles re-implement the reference, so only solution lines of at least
    :data:`MIN_LEAK_LINE` characters count there."""
    problems = list(secrets.problems)
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
            problems.extend(_notebook_solution_hits(name, data, secrets))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        lines = text.split("\n")
        found = [(n, f"holds a solution marker or a look-alike: {lines[n - 1].strip()[:80]!r}")
                 for n in markers.lines_mentioning(text)]
        found += [(n, "holds a hidden-tests marker") for n, line in enumerate(lines, start=1)
                  if "BEGIN HIDDEN TESTS" in line.upper()]
        shortest = MIN_LEAK_LINE if graders and name.startswith(graders.rstrip("/") + "/") else 0
        found += [(n, f"repeats the reference solution, {where}")
                  for n, where in _solution_hits(text, secrets, shortest)]
        found += [(n, f"repeats {secrets.lines[line.strip()]}: {line.strip()[:80]!r}")
                  for n, line in enumerate(lines, start=1) if line.strip() in secrets.lines]
        found.sort()
        problems += [f"{name}:{n}: {what}" for n, what in found[:MAX_HITS_PER_FILE]]
        if len(found) > MAX_HITS_PER_FILE:
            problems.append(f"{name}: {len(found) - MAX_HITS_PER_FILE} more such lines")
    return problems
