"""``make demo``: the main job on built-in defaults, offline.

For every week: regenerate the stencil into a temporary copy and compare it with the committed one,
then grade the bundled example submissions (the reference, the untouched stencil, each known-bad
submission) through the exact Gradescope path, and print a points table.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .. import stencil
from ..config import load_all_weeks
from ..paths import Repo
from .verify import verify_week


def main(*, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    weeks = load_all_weeks(repo)
    rows: list[tuple[str, str, float, float, bool]] = []
    for week in weeks:
        print(f"== week {week.week}: {week.name} ({week.title})")
        with tempfile.TemporaryDirectory(prefix="coursekit-demo-") as tmp:
            files = stencil.generate(repo.solution(week.name), week)
            report = stencil.write(Path(tmp), files)
            fresh = not stencil.diff(repo.stencil(week.name), files).changed
            print(f"  stencil regenerated into a temporary copy: {len(report.written)} files; "
                  f"committed stencil {'matches' if fresh else 'is STALE (run make stencils)'}")
        for o in verify_week(repo, week):
            rows.append((week.name, o.label, o.score, o.max_score, o.ok))
    print()
    print(f"{'week':<12} {'submission':<34} {'points':>15}  verdict")
    for name, label, score, max_score, ok in rows:
        print(f"{name:<12} {label:<34} {score:>6.2f} / {max_score:<6.2f}  {'as expected' if ok else 'UNEXPECTED'}")
    bad = [r for r in rows if not r[4]]
    print(f"\ndemo: {len(rows)} submissions graded, {len(bad)} unexpected")
    return 1 if bad else 0
