"""``make demo``: the main job on built-in defaults, offline.

For every week: check that the committed stencil is what generation produces, build the Gradescope
zip and the starter repository into ``dist/`` (leak-checked), then grade the bundled example
submissions (the reference, the untouched stencil, each known-bad submission) through the zip's own
``run_autograder``, exactly as Gradescope would, and print a points table per week.
"""

from __future__ import annotations

from .. import stencil
from ...config import load_all_weeks
from ...paths import Repo
from . import autograder, student
from .verify import verify_week


def main(*, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    failures = 0
    summary = []
    for week in load_all_weeks(repo):
        print(f"== week {week.week}: {week.name} ({week.title})")
        report = stencil.diff(repo.stencil(week.name), stencil.generate(repo.solution(week.name), week))
        print(f"  stencil: {stencil.freshness(week.name, repo.stencil(week.name), report)}")
        failures += report.changed
        try:
            archive = autograder.build(repo, week)
            print(f"  Gradescope zip: {archive}")
            starter = student.build(repo, week)
            print(f"  starter repository: {starter}")
        except (autograder.LeakError, student.StarterError) as e:
            print(f"  RELEASE REFUSED: {e}\n")
            summary.append(f"{week.name}: release refused")
            failures += 1
            continue
        outcomes = verify_week(repo, week, echo=lambda line: None, archive=archive)
        print(f"\n  {'submission':<34} {'points':>17}  verdict")
        for o in outcomes:
            print(f"  {o.label:<34} {o.score:>7.2f} / {o.max_score:<7.2f}  {'as expected' if o.ok else 'UNEXPECTED'}")
            for p in o.problems:
                print(f"      - {p}")
        bad = sum(not o.ok for o in outcomes)
        failures += bad
        summary.append(f"{week.name}: {len(outcomes)} graded, {bad} unexpected")
        print()
    print("demo: " + "; ".join(summary))
    return 1 if failures else 0
