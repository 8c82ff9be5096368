"""Stencil generation: strip the reference solution's marked regions into uniform task stubs.

The reference marks the student's part with nbgrader's markers, alone on their lines::

    def predict(w, b, X):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION
        return np.where(X @ w + b >= 0, 1, -1)
        ### END SOLUTION

and generation turns each region into one stub at the marker's indentation, naming the week and the
task that the enclosing function belongs to (from the week config)::

        # TODO perceptron task 1 (predict): Predict with a linear classifier
        raise NotImplementedError("perceptron task 1 (predict) is not implemented yet")

Markers are found with :mod:`tokenize`, so a marker is a comment token: marker text inside a string,
an unclosed, nested or stray marker, a marker sharing a line with code, a comment that looks like a
marker but is not exactly one (:mod:`.markers`: ``### Begin Solution``, ``# BEGIN SOLUTION``,
``### BEGIN SOLN``...), or a function a task lists that holds no region fails with ``file:line``:
each would otherwise ship solution code in the stencil.
nbgrader's own ``ClearSolutions`` cannot do that (it matches substrings, ignores a stray END and has
one fixed stub per language), so Python files are stripped here. Notebooks (the weekly lab) are
validated with the same marker rules and then stripped by nbgrader's own preprocessors, in
:mod:`coursekit.authoring.notebooks`.

Generation is deterministic: the output depends only on the input files and the config.
"""

from __future__ import annotations

import ast
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from ..config import WeekConfig
from . import markers
from .markers import MarkerError  # noqa: F401 (raised here; callers catch it as stencil.MarkerError)

BEGIN = "BEGIN SOLUTION"
END = "END SOLUTION"

#: Files and folders that are never part of a stencil (compiled files, caches, OS litter).
IGNORED_NAMES = {"__pycache__", ".DS_Store", "Thumbs.db", ".ipynb_checkpoints", "__MACOSX",
                 ".pytest_cache"}
IGNORED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class Region:
    begin: int  # 1-based line of the BEGIN marker
    end: int  # 1-based line of the END marker
    indent: str


def stub_lines(week: WeekConfig, task_number: int, indent: str) -> list[str]:
    """The uniform stub for one region: a TODO comment and a raise naming the task."""
    task = week.task(task_number)
    name = f"{week.name} {task.label}"
    return [f"{indent}# TODO {name}: {task.title}",
            f'{indent}raise NotImplementedError("{name} is not implemented yet")']


def find_regions(source: str, filename: str, line_offset: int = 0) -> list[Region]:
    """Locate solution regions, validating the markers. ``line_offset`` shifts reported lines."""
    lines = markers.source_lines(source)
    marker_lines: dict[int, str] = {}
    try:
        found = markers.find(source)
    except (tokenize.TokenError, IndentationError, SyntaxError) as e:
        raise MarkerError(f"{filename}:{line_offset + 1}: cannot tokenize the file: {e}") from None
    for mark in found:
        row = mark.line + line_offset
        if not mark.marker.exact:
            raise MarkerError(f"{filename}:{row}: {markers.problem(mark.marker)}")
        if mark.after_code:
            raise MarkerError(f"{filename}:{row}: solution marker shares its line with code; put it "
                              "alone on its own line")
        marker_lines[mark.line] = mark.marker.kind
    # Marker text that is not a marker comment is in a string, a docstring or mid-comment: refuse,
    # since a stencil would otherwise ship solution text the author meant to strip.
    for row, text in enumerate(lines, start=1):
        if (BEGIN in text or END in text) and row not in marker_lines:
            raise MarkerError(f"{filename}:{row + line_offset}: solution marker text outside a "
                              "marker comment (inside a string or after other text); a marker is a "
                              "comment alone on its line: '### BEGIN SOLUTION'")
    regions = []
    open_at: int | None = None
    for row in sorted(marker_lines):
        kind = marker_lines[row]
        if kind == "BEGIN":
            if open_at is not None:
                raise MarkerError(f"{filename}:{row + line_offset}: nested BEGIN SOLUTION (the region "
                                  f"opened at line {open_at + line_offset} is not closed)")
            open_at = row
        else:
            if open_at is None:
                raise MarkerError(f"{filename}:{row + line_offset}: END SOLUTION without a "
                                  "BEGIN SOLUTION before it")
            indent = re.match(r"\s*", lines[open_at - 1]).group(0)
            regions.append(Region(open_at, row, indent))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{filename}:{open_at + line_offset}: BEGIN SOLUTION is never closed "
                          "by an END SOLUTION")
    return regions


def _enclosing_function(tree: ast.AST, line: int) -> str | None:
    """Qualified name (``Class.method``) of the innermost function whose body contains ``line``."""
    best: tuple[int, str] | None = None

    def visit(node: ast.AST, prefix: str) -> None:
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qual = f"{prefix}{child.name}"
                if isinstance(child, ast.ClassDef):
                    visit(child, qual + ".")
                    continue
                if child.lineno < line <= (child.end_lineno or child.lineno):
                    if best is None or child.lineno > best[0]:
                        best = (child.lineno, qual)
                visit(child, qual + ".")

    visit(tree, "")
    return best[1] if best else None


def task_definitions(tree: ast.Module, week: WeekConfig, student_file: str
                     ) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]]:
    """The functions and classes of ``tree`` that a task of ``week`` lists for ``student_file``
    (``name`` or ``Class.method``), with their qualified names; those a task lists but ``tree``
    does not define are left out."""
    wanted = {name for task in week.tasks if task.file == student_file for name in task.functions}
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in wanted:
                found.append((node.name, node))
            if isinstance(node, ast.ClassDef):
                found += [(f"{node.name}.{child.name}", child) for child in node.body
                          if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                          and f"{node.name}.{child.name}" in wanted]
    return found


def strip_source(source: str, filename: str, week: WeekConfig, student_file: str,
                 line_offset: int = 0) -> str:
    """The stencil text of one Python source (or notebook cell)."""
    regions = find_regions(source, filename, line_offset)
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as e:
        if not regions:
            return source
        raise MarkerError(f"{filename}:{(e.lineno or 1) + line_offset}: the reference does not parse: "
                          f"{e.msg}") from None
    for name, node in task_definitions(tree, week, student_file):
        if not any(node.lineno <= r.begin <= (node.end_lineno or node.lineno) for r in regions):
            raise MarkerError(f"{filename}:{node.lineno + line_offset}: {name!r} belongs to task "
                              f"{week.task_for(student_file, name).number} but holds no solution region, so "
                              f"the stencil would ship all of it; mark the student's part with "
                              f"'{markers.BEGIN_MARKER}' / '{markers.END_MARKER}'")
    if not regions:
        return source
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    origin: list[int] = []  # for each output line, the reference line it came from (for errors)
    cursor = 0
    for region in regions:
        where = f"{filename}:{region.begin + line_offset}"
        qualname = _enclosing_function(tree, region.begin)
        if qualname is None:
            raise MarkerError(f"{where}: solution region outside any function; put it inside the "
                              "function or method the student completes")
        task = week.task_for(student_file, qualname)
        if task is None:
            raise MarkerError(f"{where}: solution region in {qualname!r} belongs to no task: add "
                              f"{qualname.split('.')[0]!r} to a task's functions in {week.path}")
        out.extend(lines[cursor: region.begin - 1])
        origin.extend(range(cursor + 1, region.begin))
        stub = stub_lines(week, task.number, region.indent)
        out.extend(line + "\n" for line in stub)
        origin.extend([region.begin] * len(stub))
        cursor = region.end
    out.extend(lines[cursor:])
    origin.extend(range(cursor + 1, len(lines) + 1))
    text = "".join(out)
    try:
        compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as e:
        line = origin[min(max((e.lineno or 1) - 1, 0), len(origin) - 1)] if origin else 1
        raise MarkerError(f"{filename}:{line + line_offset}: the stencil would not parse after "
                          f"stripping ({e.msg}); a region must hold whole statements") from None
    return text


def is_ignored(path: Path) -> bool:
    return any(part in IGNORED_NAMES for part in path.parts) or path.suffix in IGNORED_SUFFIXES


def generate(solution_dir: Path, week: WeekConfig) -> dict[str, bytes]:
    """The stencil of one week as ``{relative path: bytes}``, in sorted order.

    Raises :class:`MarkerError` (``file:line: what is wrong``) at the first malformed or misspelt
    marker, region outside a task, or task function without a region."""
    files: dict[str, bytes] = {}
    for path in sorted(p for p in solution_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(solution_dir)
        if is_ignored(rel):
            continue
        shown = str(path)
        if path.suffix == ".py":
            text = strip_source(path.read_text(encoding="utf-8"), shown, week, rel.as_posix())
            files[rel.as_posix()] = text.encode("utf-8")
        elif path.suffix == ".ipynb":
            from .notebooks import student_notebook  # nbgrader: only weeks with a notebook
            files[rel.as_posix()] = student_notebook(path.read_text(encoding="utf-8"), shown).encode("utf-8")
        else:
            files[rel.as_posix()] = path.read_bytes()
    missing = [f for f in week.student_files if f not in files]
    if missing:
        raise MarkerError(f"{solution_dir}: missing student files {missing} named in {week.path}")
    return files


def check(solution_dir: Path, week: WeekConfig) -> list[str]:
    """Why the week's stencil cannot be generated (a marker problem with ``file:line``), or nothing:
    every command that reads the reference's markers refuses on these, not only ``make stencils``."""
    if not solution_dir.is_dir():
        return []
    try:
        generate(solution_dir, week)
    except MarkerError as e:
        return [str(e)]
    return []


@dataclass
class StencilReport:
    written: list[str]
    unchanged: list[str]
    removed: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def _existing(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
            and not is_ignored(p.relative_to(folder))}


def diff(target: Path, files: dict[str, bytes]) -> StencilReport:
    """What writing ``files`` into ``target`` would change."""
    existing = _existing(target)
    written = [rel for rel, data in files.items()
               if rel not in existing or (target / rel).read_bytes() != data]
    unchanged = [rel for rel in files if rel not in written]
    removed = sorted(existing - set(files))
    return StencilReport(written, unchanged, removed)


def write(target: Path, files: dict[str, bytes]) -> StencilReport:
    """Make ``target`` hold exactly ``files``; only files that differ are touched."""
    report = diff(target, files)
    for rel in report.written:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(files[rel])
    for rel in report.removed:
        (target / rel).unlink()
    return report


def freshness(week: str, target: Path, report: StencilReport) -> str:
    """The one sentence ``make stencils --check`` and ``make demo`` both say about a week's stencil."""
    if report.changed:
        return (f"{week}: {target} is stale ({len(report.written)} to write, {len(report.removed)} to "
                f"remove): run `make stencils` and commit the result")
    return f"{week}: {target} is up to date ({len(report.unchanged)} files)"
