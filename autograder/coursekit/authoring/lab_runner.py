"""Running a week's lab notebook headless, exactly where a student runs it: in the starter.

The folder is the starter's files (:func:`coursekit.authoring.commands.student.contents`); for the
``reference`` run the week's reference files and solution notebook replace the stencil's. The
notebook runs top to bottom in a fresh kernel (nbclient, ``MPLBACKEND=Agg`` so nothing needs a
display; the notebook itself selects the inline backend), errors recorded rather than fatal, and the
run reports what a test or a TA needs:

- ``checks``: for each ``grader.check("q1")`` cell, whether otter printed that every case passed;
- ``errors``: the cells that raised;
- ``figures``: each PNG in ``figures/`` with the number of axes recorded in it, and ``images_shown``,
  the figures the notebook displayed (every displayed figure must also be saved);
- ``pdf``: the written answers exported by :func:`coursekit.lab.export_written`;
- ``seconds`` (wall time, kernel start included) and ``cpu_seconds``: the CPU the kernel used (its
  own and its children's, read from ``/proc`` on Linux; ``None`` elsewhere). The week's budget is
  charged in CPU time, as grading charges the worker's own time: a busy machine costs the notebook
  nothing.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import WeekConfig
from ..paths import Repo
from .notebooks import LAB_NOTEBOOK

VARIANTS = ("reference", "stencil")
_CHECK = re.compile(r"""^\s*grader\.check\(\s*["']([A-Za-z0-9_]+)["']\s*\)\s*$""")


class LabError(RuntimeError):
    """The lab cannot be run (no notebook, a folder in the way); the message says what to do."""


@dataclass
class LabRun:
    week: str
    variant: str
    folder: Path
    seconds: float = 0.0
    cpu_seconds: float | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)
    images_shown: int = 0
    pdf: object = None  # coursekit.lab.Export, when exported

    @property
    def notebook(self) -> Path:
        return self.folder / LAB_NOTEBOOK

    @property
    def charged_seconds(self) -> float:
        """What the week's budget is charged: the kernel's CPU time where known, else wall time."""
        return self.cpu_seconds if self.cpu_seconds is not None else self.seconds


def process_cpu_seconds(pid: int) -> float | None:
    """User and system CPU of a live process and its waited-for children (Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return sum(int(f) for f in fields[11:15]) / ticks  # utime, stime, cutime, cstime


def check_cells(nb) -> dict[int, str]:
    """``{cell index: question}`` for each cell that is exactly ``grader.check("question")``."""
    out = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            lines = [line for line in cell.source.splitlines() if line.strip() and not line.strip().startswith("#")]
            if len(lines) == 1 and _CHECK.match(lines[0]):
                out[index] = _CHECK.match(lines[0]).group(1)
    return out


def lay_out(repo: Repo, config: WeekConfig, variant: str, folder: Path) -> Path:
    """Write the starter into the empty or new ``folder``, with the reference in it for
    ``variant="reference"``."""
    from .commands.student import contents

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    source = repo.solution(config.name) if variant == "reference" else repo.stencil(config.name)
    if not (source / LAB_NOTEBOOK).is_file():
        raise LabError(f"{config.name} has no lab notebook ({source / LAB_NOTEBOOK})")
    if folder.exists() and any(folder.iterdir()):
        raise LabError(f"{folder} is not empty; move it away or delete it")
    files = contents(repo, config)
    if variant == "reference":
        for rel in (*config.student_files, LAB_NOTEBOOK):
            files[rel] = (source / rel).read_bytes()
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def _summarize(run: LabRun, nb) -> None:
    for index, question in check_cells(nb).items():
        texts = [o.get("data", {}).get("text/plain", "") for o in nb.cells[index].get("outputs", [])
                 if o.get("output_type") == "execute_result"]
        run.checks[question] = any(t.startswith(f"{question} results: All test cases passed!") for t in texts)
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                run.errors.append(f"cell {index + 1}: {output.get('ename')}: {str(output.get('evalue'))[:200]}")
            if "image/png" in output.get("data", {}):
                run.images_shown += 1


def run(repo: Repo, config: WeekConfig, variant: str, folder: Path, *, export: bool = True,
        cell_timeout: float | None = None) -> LabRun:
    """Lay out ``folder`` (see :func:`lay_out`), run its notebook headless and summarize the run.

    The executed notebook replaces ``folder/lab.ipynb``. With ``export``, the written answers'
    PDF is written to ``folder/lab.pdf``. ``cell_timeout`` defaults to the week's grading budget.
    """
    import nbformat
    from nbclient import NotebookClient

    from ..lab import export_written, figure_axes

    lay_out(repo, config, variant, folder)
    result = LabRun(config.name, variant, folder)
    nb = nbformat.read(result.notebook, as_version=4)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env.setdefault("OMP_NUM_THREADS", "1")
    client = NotebookClient(nb, timeout=cell_timeout or config.budget.grade_seconds, kernel_name="python3",
                            allow_errors=True, resources={"metadata": {"path": str(folder)}})

    def charge(**_) -> None:  # after each cell, while the kernel is alive: the last reading is the total
        pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
        result.cpu_seconds = process_cpu_seconds(pid) if pid else None

    client.on_cell_executed = charge
    start = time.perf_counter()
    client.execute(env=env, cwd=str(folder))
    result.seconds = time.perf_counter() - start
    nbformat.write(nb, result.notebook)
    _summarize(result, nb)
    figures = folder / "figures"
    if figures.is_dir():
        for path in sorted(figures.glob("*.png")):
            try:
                result.figures[path.stem] = figure_axes(path)
            except ValueError:
                result.figures[path.stem] = -1
    if export:
        result.pdf = export_written(result.notebook, folder / "lab.pdf")
    return result


def describe(result: LabRun, config: WeekConfig) -> list[str]:
    """The lines ``coursekit lab`` prints about one run."""
    budget = config.budget.grade_seconds
    cpu = f", {result.cpu_seconds:.1f} s of CPU" if result.cpu_seconds is not None else ""
    lines = [f"{config.name} lab ({result.variant}): ran in {result.seconds:.1f} s{cpu} (budget {budget:g} s "
             f"of CPU) in {result.folder}"]
    lines.append("  checks: " + (", ".join(f"{q} {'passed' if ok else 'FAILED'}" for q, ok in result.checks.items())
                                 or "none"))
    lines.append(f"  figures: {len(result.figures)} saved in figures/ ("
                 + ", ".join(f"{n}: {a} axes" for n, a in result.figures.items()) + f"), {result.images_shown} shown")
    for error in result.errors:
        lines.append(f"  error in {error}")
    if result.pdf is not None:
        lines.append(f"  written answers: {result.pdf.path} ({result.pdf.route} route"
                     + (f"; {result.pdf.note}" if result.pdf.note else "") + ")")
    return lines


def to_json(result: LabRun) -> str:
    """The run's summary as JSON (what ``coursekit lab`` leaves beside the run)."""
    data = {"week": result.week, "variant": result.variant, "seconds": round(result.seconds, 3),
            "cpu_seconds": None if result.cpu_seconds is None else round(result.cpu_seconds, 3),
            "checks": result.checks, "errors": result.errors, "figures": result.figures,
            "images_shown": result.images_shown,
            "pdf": None if result.pdf is None else {"path": str(result.pdf.path), "route": result.pdf.route,
                                                    "note": result.pdf.note}}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
