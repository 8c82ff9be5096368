"""``make stencils``: regenerate ``stencils/<week>/`` from ``solutions/<week>/``.

With ``check=True`` nothing is written, and the exit code is 1 when a committed stencil differs
from what generation produces (``make test`` runs this check).
"""

from __future__ import annotations

from ...config import load_all_weeks
from ...paths import Repo
from .. import stencil


def main(*, weeks: list[str] | None = None, check: bool = False, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    configs = [c for c in load_all_weeks(repo) if weeks is None or c.name in weeks]
    unknown = set(weeks or []) - {c.name for c in configs}
    if unknown:
        print(f"error: unknown week(s) {sorted(unknown)}; the weeks are {repo.week_names()}")
        return 2
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
            if report.changed:
                stale.append(week.name)
                for rel in report.written:
                    print(f"stale: {target / rel} differs from what generation produces")
                for rel in report.removed:
                    print(f"stale: {target / rel} has no source in {solution}")
            continue
        report = stencil.write(target, files)
        for rel in report.written:
            print(f"wrote {target / rel}")
        for rel in report.removed:
            print(f"removed {target / rel} (no longer in {solution})")
        if not report.changed:
            print(f"{week.name}: {target} is up to date ({len(report.unchanged)} files)")
    if stale:
        print(f"stencils are stale for {', '.join(stale)}: run `make stencils` and commit the result")
        return 1
    return 0
