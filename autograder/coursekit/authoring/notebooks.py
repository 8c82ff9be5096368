"""Lab notebooks, authored once: the student notebook generated from the solution notebook, and the
leak scans that cover notebooks.

The solution notebook lives with the reference (``solutions/<week>/lab.ipynb``) and carries
nbgrader's markers:

- in code cells, ``### BEGIN SOLUTION`` / ``### END SOLUTION`` comments, alone on their lines (the
  same tokenize-based validation as the reference's Python files, so a marker inside a string, an
  unclosed, nested or stray marker fails with ``lab.ipynb[cell 4]:2``);
- in markdown cells (the written answers), the same two lines around the model answer, and
  ``=== BEGIN MARK SCHEME ===`` / ``=== END MARK SCHEME ===`` around notes for the graders.

The student notebook is the solution notebook run through nbgrader's own preprocessors:
``ClearSolutions`` (a code region becomes ``# YOUR CODE HERE`` / ``raise NotImplementedError()``, a
written answer ``YOUR ANSWER HERE``), ``ClearMarkScheme`` and ``ClearOutput`` (outputs, execution
counts and run-time metadata). nbgrader matches its markers as substrings, so every cell is validated
here first; after that its preprocessors cannot misread a cell. The output is deterministic.

The lab's public otter checks (``assignments/<week>/lab_tests/q*.py``) ship in the starter as
``lab_tests/``; they are public material, like the public tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..paths import Repo
from . import markers
from .stencil import MarkerError, find_regions

#: The lab notebook's name, in ``solutions/<week>/``, ``stencils/<week>/`` and the starter.
LAB_NOTEBOOK = "lab.ipynb"
#: The lab's otter test files: ``assignments/<week>/lab_tests/`` in the repository, ``lab_tests/``
#: in the starter (where the notebook's ``otter.Notebook(tests_dir="lab_tests")`` finds them).
LAB_TESTS = "lab_tests"

_SOLUTION_LINE = re.compile(r"^\s*#+\s*(BEGIN|END) SOLUTION\s*$")
_SCHEME_LINE = re.compile(r"^\s*=+\s*(BEGIN|END) MARK SCHEME\s*=+\s*$")
_SOLUTION_TEXT = ("BEGIN SOLUTION", "END SOLUTION")
_SCHEME_TEXT = ("BEGIN MARK SCHEME", "END MARK SCHEME")
_HIDDEN_TEXT = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
#: Cell metadata a run leaves behind (nbclient's timings, Jupyter's view state): never shipped.
RUN_METADATA = {"collapsed", "scrolled", "execution", "ExecuteTime"}
#: Notebook metadata a run leaves behind (widget state from progress bars).
RUN_NOTEBOOK_METADATA = {"widgets"}


def lab_tests_dir(repo: Repo, week: str) -> Path:
    """``assignments/<week>/lab_tests/``, the lab's public otter checks."""
    return repo.assignments / week / LAB_TESTS


def _line_regions(lines: list[str], pattern: re.Pattern, texts: tuple[str, str], where: str
                  ) -> list[tuple[int, int]]:
    """``(begin, end)`` 1-based line pairs of the regions a markdown cell marks with ``pattern``;
    marker text on any other line, an unclosed, nested or stray marker fails with ``where:line``."""
    regions, open_at = [], None
    for row, line in enumerate(lines, start=1):
        match = pattern.match(line)
        if not match:
            if any(text in line for text in texts):
                raise MarkerError(f"{where}:{row}: marker text '{texts[0]}' or '{texts[1]}' shares its "
                                  "line with other text; a marker is alone on its line")
            continue
        if match.group(1) == "BEGIN":
            if open_at is not None:
                raise MarkerError(f"{where}:{row}: nested {texts[0]} (the region opened at line "
                                  f"{open_at} is not closed)")
            open_at = row
        else:
            if open_at is None:
                raise MarkerError(f"{where}:{row}: {texts[1]} without a {texts[0]} before it")
            regions.append((open_at, row))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{where}:{open_at}: {texts[0]} is never closed by {texts[1]}")
    return regions


def private_regions(cell: dict, where: str) -> list[tuple[int, int]]:
    """The validated regions of one cell that never reach students: solution regions, and in
    markdown cells mark-scheme regions too, as 1-based ``(begin, end)`` marker lines."""
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    lines = source.splitlines()
    for row, line in enumerate(lines, start=1):
        if any(text in line for text in _HIDDEN_TEXT):
            raise MarkerError(f"{where}:{row}: hidden tests in a lab notebook; the lab's checks are "
                              f"public (otter tests in {LAB_TESTS}/), hidden graders stay in autograder/")
    if cell.get("cell_type") == "code":
        for row, line in enumerate(lines, start=1):
            if any(text in line for text in _SCHEME_TEXT):
                raise MarkerError(f"{where}:{row}: a mark scheme in a code cell; put it in a markdown cell")
        return [(r.begin, r.end) for r in find_regions(source, where)]
    if cell.get("cell_type") == "markdown":
        for row, line in enumerate(lines, start=1):
            # A misspelt marker would leave its answer in the student's notebook as plain text.
            mark = None if _SOLUTION_LINE.match(line) else markers.recognize(line.strip())
            if mark is not None:
                raise MarkerError(f"{where}:{row}: {markers.problem(mark)}")
        solutions = _line_regions(lines, _SOLUTION_LINE, _SOLUTION_TEXT, where)
        schemes = _line_regions(lines, _SCHEME_LINE, _SCHEME_TEXT, where)
        for begin, end in solutions:
            for s_begin, s_end in schemes:
                if begin < s_end and s_begin < end:
                    raise MarkerError(f"{where}:{max(begin, s_begin)}: a solution region and a mark "
                                      "scheme overlap; keep them apart")
        return sorted(solutions + schemes)
    if any(text in source for text in _SOLUTION_TEXT + _SCHEME_TEXT):
        raise MarkerError(f"{where}:1: markers in a {cell.get('cell_type')} cell; only code and "
                          "markdown cells may hold them")
    return []


def _cells_where(filename: str, index: int) -> str:
    return f"{filename}[cell {index + 1}]"


def student_notebook(raw: str, filename: str) -> str:
    """The student notebook generated from the solution notebook's text ``raw``.

    Raises :class:`MarkerError` (``file[cell n]:line: ...``) for a malformed marker, or when the
    text is not a notebook.
    """
    import nbformat  # heavy: only notebooks need these
    from nbgrader.preprocessors import ClearMarkScheme, ClearOutput, ClearSolutions

    try:
        nb = nbformat.reads(raw, as_version=4)
    except Exception as e:  # nbformat raises several kinds for unreadable JSON
        raise MarkerError(f"{filename}:1: not a readable notebook: {e}") from None
    for index, cell in enumerate(nb.cells):
        private_regions(cell, _cells_where(filename, index))
    resources: dict = {}
    nb, resources = ClearSolutions(enforce_metadata=False).preprocess(nb, resources)
    nb, resources = ClearMarkScheme(enforce_metadata=False).preprocess(nb, resources)
    nb, resources = ClearOutput(remove_metadata_fields=RUN_METADATA).preprocess(nb, resources)
    for key in RUN_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    return nbformat.writes(nb) + "\n"


def cell_sources(data: bytes) -> list[tuple[dict, list[str]]]:
    """Each cell of a notebook file with its source lines; ValueError if it is not a notebook."""
    document = json.loads(data.decode("utf-8"))
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise ValueError("no list of cells")
    out = []
    for cell in cells:
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        text = "".join(source) if isinstance(source, list) else str(source)
        out.append((cell if isinstance(cell, dict) else {}, text.splitlines()))
    return out


def private_lines(data: bytes, filename: str) -> list[str]:
    """The stripped lines inside a solution notebook's solution and mark-scheme regions."""
    lines = []
    for index, (cell, source) in enumerate(cell_sources(data)):
        for begin, end in private_regions(cell, _cells_where(filename, index)):
            lines.extend(line.strip() for line in source[begin: end - 1])
    return lines


def public_text(repo: Repo, week: str) -> str:
    """Notebook material students get anyway (the cells of the notebook generated from the
    solution notebook, never the committed copy, which may be stale; the lab's otter checks): a
    line found here is not a secret even when the reference has it too."""
    parts = []
    notebook = repo.solution(week) / LAB_NOTEBOOK
    if notebook.is_file():
        generated = student_notebook(notebook.read_text(encoding="utf-8"), str(notebook))
        parts.extend("\n".join(lines) for _, lines in cell_sources(generated.encode("utf-8")))
    tests = lab_tests_dir(repo, week)
    if tests.is_dir():
        parts.extend(p.read_text(encoding="utf-8", errors="replace") for p in sorted(tests.rglob("*.py")))
    return "\n".join(parts)


def scan(name: str, data: bytes, secret_lines: dict[str, str]) -> list[str]:
    """Problems of one notebook about to ship: outputs (they may show the reference's results),
    markers, and lines of private material, each as ``name[cell n]:line: ...``."""
    try:
        cells = cell_sources(data)
    except (UnicodeDecodeError, ValueError):
        return [f"{name}: not a readable notebook"]
    for index, (cell, source) in enumerate(cells):
        where = _cells_where(name, index)
        if cell.get("outputs") or cell.get("execution_count") is not None:
            return [f"{where}: carries outputs, which may show the reference's results; ship the "
                    "generated notebook (`make stencils`)"]
        for row, line in enumerate(source, start=1):
            if any(text in line for text in _SOLUTION_TEXT + _SCHEME_TEXT + _HIDDEN_TEXT):
                return [f"{where}:{row}: holds a solution, mark-scheme or hidden-test marker"]
            stripped = line.strip()
            if stripped in secret_lines:
                return [f"{where}:{row}: repeats {secret_lines[stripped]}: {stripped[:80]!r}"]
    return []


def written_questions(nb) -> list[tuple[str, float]]:
    """``(grade_id, points)`` of each manually graded written answer: a markdown cell whose nbgrader
    metadata says ``grade`` and ``solution`` (nbgrader's "manually graded answer"), in order."""
    out = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
            out.append((str(meta.get("grade_id", "")), float(meta.get("points", 0))))
    return out
