"""``make verify HW=x``: prove a week's graders right before anyone trusts a score.

Three kinds of submissions go through the exact Gradescope path (``commands.grade``):

- the reference (``solutions/<week>/``): full marks on every public and hidden test;
- the untouched stencil (``stencils/<week>/``): zero, with no test in a grader-error state;
- every known-bad submission (``autograder/<week>/known_bad/<name>/expected.toml``, the reference
  with one typical mistake, see ``coursekit.known_bad``): exactly its expected per-test scores.

It also checks that each task's tests carry exactly the points the config gives the task.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import known_bad
from ..config import WeekConfig, load_all_weeks, load_week
from ..known_bad import KnownBad
from ..paths import Repo
from .grade import grade


@dataclass
class Outcome:
    label: str
    score: float
    max_score: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _task_points(results: dict) -> dict[int, float]:
    points: dict[int, float] = {}
    for t in results["tests"]:
        number = t.get("number", "")
        if "." in number:
            task = int(number.split(".")[0])
            points[task] = points.get(task, 0.0) + t["max_score"]
    return points


def check_reference(week: WeekConfig, results: dict) -> list[str]:
    problems = []
    for t in results["tests"]:
        if t["score"] < t["max_score"] - 1e-9:
            problems.append(f"reference loses points on {t.get('number')} {t['name']}: {t['output'][:300]}")
    if not results["tests"]:
        problems.append("no tests ran")
    found = _task_points(results)
    for task in week.tasks:
        if abs(found.get(task.number, 0.0) - task.points) > 1e-9:
            problems.append(f"task {task.number} is worth {task.points:g} points in week.toml but its "
                            f"tests carry {found.get(task.number, 0.0):g}")
    return problems


def check_stencil(results: dict) -> list[str]:
    problems = []
    if results["score"] != 0:
        problems.append(f"the untouched stencil scores {results['score']:g}, not 0")
    for t in results["tests"]:
        if t.get("extra_data", {}).get("grader_error"):
            problems.append(f"grader error on the stencil in {t.get('number')} {t['name']}")
    return problems


def check_known_bad(bad: KnownBad, results: dict) -> list[str]:
    problems = []
    by_number = {t.get("number"): t for t in results["tests"]}
    for number in bad.scores:
        if number not in by_number:
            problems.append(f"{bad.spec_path} names test {number}, which does not exist")
    for number, t in by_number.items():
        want = bad.scores.get(number, t["max_score"])
        if abs(t["score"] - want) > 1e-6:
            problems.append(f"test {number} ({t['name']}) scored {t['score']:g}, expected {want:g}")
        if t.get("extra_data", {}).get("grader_error"):
            problems.append(f"grader error in test {number} ({t['name']})")
    if bad.total is not None and abs(bad.total - results["score"]) > 1e-6:
        problems.append(f"total {results['score']:g}, expected {bad.total:g}")
    return problems


def verify_week(repo: Repo, week: WeekConfig, echo=print, archive: Path | None = None) -> list[Outcome]:
    """Grade the reference, the stencil and every known-bad submission; with ``archive`` (a built
    Gradescope zip) through its own ``run_autograder``, else through the same entry point in place."""
    from .grade import grade_with_archive

    outcomes = []
    with tempfile.TemporaryDirectory(prefix="coursekit-verify-") as tmp:
        def run(label: str, submission: Path, checker) -> None:
            out = Path(tmp) / f"{len(outcomes)}.json"
            results = (grade_with_archive(archive, submission, out) if archive is not None
                       else grade(repo, week, submission, out, quiet=True))
            outcome = Outcome(label, results["score"], sum(t["max_score"] for t in results["tests"]),
                              checker(results))
            outcomes.append(outcome)
            mark = "ok  " if outcome.ok else "FAIL"
            echo(f"  {mark} {label:<34} {outcome.score:6.2f} / {outcome.max_score:.2f}")
            for p in outcome.problems:
                echo(f"       - {p}")

        if repo.solution(week.name).is_dir():
            run("reference", repo.solution(week.name), lambda r: check_reference(week, r))
        run("stencil (untouched)", repo.stencil(week.name), check_stencil)
        for bad in known_bad.discover(repo.known_bad(week.name)):
            folder = known_bad.materialize(bad, repo.solution(week.name), week, Path(tmp) / "known_bad" / bad.name)
            run(f"known-bad {bad.name}", folder, lambda r, b=bad: check_known_bad(b, r))
    return outcomes


def main(*, week: str | None = None, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    weeks = [load_week(repo, week)] if week else load_all_weeks(repo)
    failed = False
    for config in weeks:
        print(f"verify {config.name}:")
        outcomes = verify_week(repo, config)
        failed |= not all(o.ok for o in outcomes)
    print("verify: FAILED" if failed else "verify: all graders proven")
    return 1 if failed else 0
