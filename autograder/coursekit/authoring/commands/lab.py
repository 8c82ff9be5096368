"""``make lab HW=x``: run week x's lab notebook headless, as a student runs it in the starter.

``dist/lab/x/reference/`` (or ``stencil/`` with ``--stencil``) then holds the executed notebook,
its figures, ``lab.pdf`` (the written answers, as students upload them) and ``lab-run.json``. The
command prints the run's time against the week's budget, each otter check, the figures and the
written questions with their points (the Gradescope written assignment's outline). The reference
run fails (exit 1) on an error, a failed check, a shown figure that was not saved, or over budget.

``make figures`` regenerates the README's figures (``docs/figures/``) from the reference labs.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ...config import load_week
from ...paths import Repo
from .. import lab_runner
from ..notebooks import LAB_NOTEBOOK, written_questions

SUMMARY = "lab-run.json"
#: The lab figures the README shows: {week: names in that week's figures/}, copied to
#: docs/figures/<week>_<name>.png.
README_FIGURES = {"perceptron": ("boundaries", "digit_templates")}
FIGURES_FOLDER = ("docs", "figures")


def _replaceable(folder: Path) -> bool:
    """An earlier run of this command (it left its summary), or nothing."""
    return not folder.exists() or (folder / SUMMARY).is_file()


def reference_problems(result: lab_runner.LabRun, budget: float) -> list[str]:
    """Why a reference run is not acceptable (empty when it is)."""
    problems = [f"error in {e}" for e in result.errors]
    problems += [f"check {q} failed" for q, ok in result.checks.items() if not ok]
    if not result.checks:
        problems.append("the notebook has no grader.check cell")
    if result.images_shown != len(result.figures):
        problems.append(f"{result.images_shown} figures shown but {len(result.figures)} saved with save_figure")
    if any(axes < 1 for axes in result.figures.values()):
        problems.append("a figure in figures/ has no axes count (save figures with save_figure)")
    if result.charged_seconds > budget:
        problems.append(f"used {result.charged_seconds:.1f} s, over the week's budget of {budget:g} s")
    return problems


def main(*, week: str, stencil: bool = False, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    config = load_week(repo, week)
    variant = "stencil" if stencil else "reference"
    target = repo.dist / "lab" / week / variant
    if not _replaceable(target):
        print(f"error: {target} exists and is not an earlier run of this command; move it away or delete it")
        return 1
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    try:
        result = lab_runner.run(repo, config, variant, target)
    except lab_runner.LabError as e:
        print(f"error: {e}")
        return 1
    (target / SUMMARY).write_text(lab_runner.to_json(result), encoding="utf-8")
    for line in lab_runner.describe(result, config):
        print(line)
    import nbformat
    questions = written_questions(nbformat.read(repo.solution(week) / LAB_NOTEBOOK, as_version=4))
    if questions:
        print("  written questions (the Gradescope outline): "
              + ", ".join(f"{name} ({points:g} pts)" for name, points in questions))
    if variant == "reference":
        problems = reference_problems(result, config.budget.grade_seconds)
        for problem in problems:
            print(f"  problem: {problem}")
        return 1 if problems else 0
    return 0


def figures(*, repo: Repo | None = None) -> int:
    """Regenerate ``docs/figures/`` from the reference labs of :data:`README_FIGURES`."""
    repo = repo or Repo.here()
    folder = repo.root.joinpath(*FIGURES_FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    for week, names in README_FIGURES.items():
        config = load_week(repo, week)
        with tempfile.TemporaryDirectory(prefix=f"lab-{week}-") as scratch:
            result = lab_runner.run(repo, config, "reference", Path(scratch) / "run", export=False)
            problems = reference_problems(result, float("inf"))
            if problems:
                print(f"error: {week}'s lab: " + "; ".join(problems))
                return 1
            for name in names:
                source = result.folder / "figures" / f"{name}.png"
                if not source.is_file():
                    print(f"error: {week}'s lab saved no figure {name!r}")
                    return 1
                dest = folder / f"{week}_{name}.png"
                data = source.read_bytes()
                if dest.is_file() and dest.read_bytes() == data:
                    print(f"{dest} is up to date")
                else:
                    dest.write_bytes(data)
                    print(f"wrote {dest}")
    return 0
