"""``make release HW=x``: verify, then the Gradescope zip, then the starter repository.

Everything that can refuse without grading is checked first (the static checks of the week, a
leak in the zip or the starter, an edited earlier starter build in the way), so a release that
would be refused is refused at once, before the slow verification. Any failing step stops the
release with its reason and nothing is written; the summary names the command and what it produced.
"""

from __future__ import annotations

import hashlib

from ...config import load_week
from ...paths import Repo
from . import autograder, student
from .verify import verify_week


def main(*, week: str, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    config = load_week(repo, week)
    command = f"make release HW={week}"
    print(f"{command}: 1/4 checks that can refuse (leaks, an earlier build in the way)")
    try:
        files = autograder.contents(repo, config)
        autograder.scan(files, repo, config)
        starter_files, starter_target = student.prepare(repo, config)
    except (autograder.LeakError, student.StarterError) as e:
        print(f"{command}: REFUSED: {e}; nothing was released")
        return 1
    print(f"{command}: 2/4 verify")
    outcomes = verify_week(repo, config)
    if not all(o.ok for o in outcomes):
        print(f"{command}: REFUSED: verify failed (see above); nothing was released")
        return 1
    print(f"{command}: 3/4 Gradescope zip")
    archive = repo.dist / "gradescope" / f"{week}.zip"
    autograder.write_zip(files, archive)
    print(f"{command}: 4/4 starter repository")
    starter_target.parent.mkdir(parents=True, exist_ok=True)
    starter = student.write_repository(starter_files, config, starter_target)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    print(f"\n{command}: done")
    graded = [o for o in outcomes if o.label != "static checks"]
    reference = next((o for o in graded if o.label == "reference"), None)
    print(f"  graders proven   {len(graded)} submissions graded as expected"
          + (f" (reference {reference.score:g}/{config.total_points:g})" if reference else ""))
    print(f"  Gradescope zip   {archive} (sha256 {digest}…)")
    print(f"  starter repo     {starter} (one commit; push it as a template repository)")
    return 0
