"""``make verify HW=x``: prove a week's graders right before anyone trusts a score.

First the static checks, before anything is graded (:mod:`coursekit.authoring.week_checks`): the
config, the file-naming rules, each task's tests carrying exactly the task's points, and every
known-bad key naming a test that exists. Then submissions go through the one grading path
(``run_autograder``, see ``commands.grade``), several at a time:

- the reference (``solutions/<week>/``): full marks on every public and hidden test;
- the untouched stencil (``stencils/<week>/``): zero, with no test in a grader-error state;
- the do-nothing submission (the stencil with every stub returning ``None``): zero, no grader
  error (a property test that passes for code that computes nothing gives points for nothing);
- every known-bad submission (``autograder/<week>/known_bad/<name>/expected.toml``, the reference
  with one typical mistake, see ``coursekit.authoring.known_bad``): exactly its expected per-test
  scores, keyed by stable test id, and no grader error.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ...config import WeekConfig, load_all_weeks, load_week
from ...paths import Repo
from .. import known_bad
from ..known_bad import KnownBad
from ..week_checks import static_problems
from .grade import GradingRefused, grade


@dataclass
class Outcome:
    label: str
    score: float
    max_score: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _grader_errors(results: dict) -> list[str]:
    return [f"grader error in {t.get('number')} {t['name']}: {t['output'][:300]}"
            for t in results["tests"] if t.get("extra_data", {}).get("grader_error")]


def check_reference(week: WeekConfig, results: dict) -> list[str]:
    problems = [f"reference loses points on {t.get('number')} {t['name']}: {t['output'][:300]}"
                for t in results["tests"] if t["score"] < t["max_score"] - 1e-9]
    if not results["tests"]:
        problems.append("no tests ran: " + results.get("output", "")[:300])
    if abs(results["score"] - week.total_points) > 1e-6 and not problems:
        problems.append(f"the reference scores {results['score']:g}, not the config's {week.total_points:g}")
    return problems + _grader_errors(results)


def check_zero(what: str, results: dict) -> list[str]:
    problems = [f"{what} scores {results['score']:g}, not 0"] if results["score"] != 0 else []
    return problems + _grader_errors(results)


def check_known_bad(bad: KnownBad, results: dict) -> list[str]:
    problems = []
    for t in results["tests"]:
        test_id = t.get("extra_data", {}).get("id", "")
        want = bad.expected_score(test_id, t["max_score"])
        if abs(t["score"] - want) > 1e-6:
            problems.append(f"{test_id} ({t.get('number')} {t['name']}) scored {t['score']:g}, expected {want:g}")
    lost = sum(t["max_score"] for t in results["tests"]) - results["score"]
    if bad.lost is not None and abs(bad.lost - lost) > 1e-6:
        problems.append(f"lost {lost:g} points in all, expected {bad.lost:g}")
    return problems + _grader_errors(results)


def default_jobs() -> int:
    """Gradings at once: the cores this process may use (each grading is a pair of processes)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def verify_week(repo: Repo, week: WeekConfig, echo=print, archive: Path | None = None,
                jobs: int | None = None) -> list[Outcome]:
    """Static checks, then grade the reference, the stencil and every known-bad submission through
    ``run_autograder`` (on a built Gradescope zip's own tree when ``archive`` is given)."""
    problems = static_problems(repo, week)
    if problems:
        outcome = Outcome("static checks", 0.0, week.total_points, problems)
        echo(f"  FAIL {'static checks':<34} (nothing was graded)")
        for p in problems:
            echo(f"       - {p}")
        return [outcome]
    echo(f"  ok   {'static checks':<34} {week.total_points:g} points in {len(week.tasks)} tasks")
    with tempfile.TemporaryDirectory(prefix="coursekit-verify-") as tmp:
        runs = []
        if repo.solution(week.name).is_dir():
            runs.append(("reference", repo.solution(week.name), lambda r: check_reference(week, r)))
        runs.append(("stencil (untouched)", repo.stencil(week.name),
                     lambda r: check_zero("the untouched stencil", r)))
        nothing = known_bad.do_nothing(repo.stencil(week.name), week, Path(tmp) / "do_nothing")
        runs.append(("do-nothing (stubs return None)", nothing,
                     lambda r: check_zero("the do-nothing submission", r)))
        for bad in known_bad.discover(repo.known_bad(week.name)):
            folder = known_bad.materialize(bad, repo.solution(week.name), week, Path(tmp) / "known_bad" / bad.name)
            runs.append((f"known-bad {bad.name}", folder, lambda r, b=bad: check_known_bad(b, r)))

        def run(index: int, label: str, submission: Path, checker) -> Outcome:
            results = grade(repo, week, submission, Path(tmp) / f"{index}.json", quiet=True, archive=archive)
            return Outcome(label, results["score"], week.total_points, checker(results))

        with ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool:
            futures = [pool.submit(run, i, *spec) for i, spec in enumerate(runs)]
            outcomes = []
            for future in futures:  # in submission order, so the table reads the same every time
                outcome = future.result()
                outcomes.append(outcome)
                mark = "ok  " if outcome.ok else "FAIL"
                echo(f"  {mark} {outcome.label:<34} {outcome.score:6.2f} / {week.total_points:g}")
                for p in outcome.problems:
                    echo(f"       - {p}")
    return outcomes


def main(*, week: str | None = None, repo: Repo | None = None, jobs: int | None = None) -> int:
    repo = repo or Repo.here()
    weeks = [load_week(repo, week)] if week else load_all_weeks(repo)
    failed = False
    for config in weeks:
        print(f"verify {config.name} (the config's total: {config.total_points:g} points):")
        try:
            outcomes = verify_week(repo, config, jobs=jobs)
        except GradingRefused as e:  # nothing can be graded here as things stand: say what to do
            print(f"error: {e}")
            return 2
        failed |= not all(o.ok for o in outcomes)
    print("verify: FAILED" if failed else "verify: all graders proven")
    return 1 if failed else 0
