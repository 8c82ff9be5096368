"""``make stencils``: regenerate ``stencils/<week>/`` from ``solutions/<week>/``.

With ``check=True`` nothing is written, and the exit code is 1 when a committed stencil differs
from what generation produces (``make test`` runs this check).
"""

from __future__ import annotations

from ...config import load_all_weeks, load_week
from ...paths import Repo
from .. import stencil


def main(*, weeks: list[str] | None = None, check: bool = False, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    # Only the weeks asked for are read: a half-written other week cannot stop this one.
    configs = [load_week(repo, w) for w in weeks] if weeks else load_all_weeks(repo)
    stale = []
    for week in configs:
        solution = repo.solution(week.name)
        if not solution.is_dir():
            print(f"{week.name}: no reference in {solution}; skipped (the private solutions are not here)")
            continue
        files = stencil.generate(solution, week)
        target = repo.stencil(week.name)
        if check:
            report = stencil.diff(target, files)
            print(stencil.freshness(week.name, target, report))
            if report.changed:
                stale.append(week.name)
                for rel in report.written:
                    print(f"  {target / rel} differs from what generation produces")
                for rel in report.removed:
                    print(f"  {target / rel} has no source in {solution}")
            continue
        report = stencil.write(target, files)
        for rel in report.written:
            print(f"wrote {target / rel}")
        for rel in report.removed:
            print(f"removed {target / rel} (no longer in {solution})")
        if not report.changed:
            print(stencil.freshness(week.name, target, report))
    if stale:
        print(f"stencils are stale for {', '.join(stale)}: run `make stencils` and commit the result")
        return 1
    return 0
