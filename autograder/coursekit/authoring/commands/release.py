"""``make release HW=x``: verify, then the Gradescope zip, then the starter repository.

Any failing step stops the release with its reason; the summary says what was produced and where.
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
    print(f"release {week}: 1/3 verify")
    outcomes = verify_week(repo, config)
    if not all(o.ok for o in outcomes):
        print(f"release {week}: REFUSED: verify failed (see above); nothing was released")
        return 1
    print(f"release {week}: 2/3 Gradescope zip")
    try:
        archive = autograder.build(repo, config)
    except autograder.LeakError as e:
        print(f"release {week}: REFUSED: {e}")
        return 1
    print(f"release {week}: 3/3 starter repository")
    try:
        starter = student.build(repo, config)
    except student.StarterError as e:
        print(f"release {week}: REFUSED: {e}")
        return 1
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    print(f"\nrelease {week}: done")
    print(f"  graders proven   {len(outcomes)} submissions graded as expected "
          f"(reference {outcomes[0].score:g}/{outcomes[0].max_score:g})")
    print(f"  Gradescope zip   {archive} (sha256 {digest}…)")
    print(f"  starter repo     {starter} (one commit; push it as a template repository)")
    return 0
