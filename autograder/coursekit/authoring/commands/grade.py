"""``make grade HW=x SUBMISSION=path [RESULTS=file]``: grade one submission as Gradescope would.

Gradescope's tree (:mod:`coursekit.grading.layout`) is laid out in a temporary folder: ``source/``
holds exactly what the week's zip holds (``commands.autograder.contents``, or a built zip's own
files), ``submission/`` a copy of the upload, and ``submission_metadata.json``. Then the tree's own
``source/run_autograder`` runs, as Gradescope runs it, with this environment standing in for what
``setup.sh`` installs. ``make verify``, ``make demo`` and ``make bench`` grade through here too.
The results are copied to ``RESULTS`` (default ``dist/results/<week>.json``) and printed as a
points table. The exit code is 0 whenever results were produced, whatever the score.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ...config import WeekConfig, load_week
from ...grading.layout import Layout
from ...paths import Repo
from .autograder import contents, write_tree


def stage_submission(submission: Path, dest: Path) -> None:
    """Copy the upload as Gradescope would present it: a zip stays a zip, a folder its contents."""
    dest.mkdir(parents=True)
    if submission.is_dir():
        shutil.copytree(submission, dest, dirs_exist_ok=True, symlinks=True,
                        ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    else:
        shutil.copy2(submission, dest / submission.name)


def metadata(week: WeekConfig) -> dict:
    now = datetime.now(timezone.utc).isoformat()
    return {"id": 0, "created_at": now, "submission_method": "upload", "users": [],
            "assignment": {"title": week.title, "total_points": week.total_points, "due_date": None},
            "previous_submissions": []}


def run_autograder(layout: Layout, deadline: float | None = None) -> subprocess.CompletedProcess:
    """Run ``source/run_autograder`` on ``layout`` with this Python environment as its venv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COURSEKIT_SECRET"))}
    env.update(AUTOGRADER_ROOT=str(layout.root), COURSEKIT_VENV=sys.prefix)
    if deadline is not None:
        env["COURSEKIT_DEADLINE_SECONDS"] = str(int(deadline))
    return subprocess.run(["bash", str(layout.run_autograder)], env=env, capture_output=True,
                          text=True, errors="replace", cwd=layout.root.parent)


def grade(repo: Repo, week: WeekConfig, submission: Path, results: Path, quiet: bool = False,
          archive: Path | None = None) -> dict:
    """Grade ``submission`` through ``run_autograder`` on the week's Gradescope tree (built from
    the repository, or unpacked from ``archive``, a built zip); return the results document."""
    import zipfile

    base = Path(tempfile.mkdtemp(prefix="coursekit-grade-"))
    try:
        layout = Layout(base / "autograder")
        if archive is not None:
            with zipfile.ZipFile(archive) as z:
                files = {name: z.read(name) for name in z.namelist() if not name.endswith("/")}
        else:
            files = contents(repo, week)
        write_tree(files, layout.source)
        stage_submission(Path(submission), layout.submission)
        layout.metadata.write_text(json.dumps(metadata(week)), encoding="utf-8")
        done = run_autograder(layout)
        if not quiet:
            print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else
                  f"run_autograder: exit status {done.returncode}")
        if not layout.results.exists():
            raise RuntimeError(f"run_autograder wrote no results (exit code {done.returncode}): "
                               f"{done.stderr.strip()[-500:]}")
        results.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(layout.results, results)
        return json.loads(results.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def exposed_secrets(repo: Repo) -> list[str]:
    """As root, private folders of this checkout that the worker user could read (grading copies
    the graders into a private folder, but a student's code could look for the originals)."""
    if os.geteuid() != 0:
        return []
    found = []
    for folder in (repo.solutions, repo.autograder):
        path, readable = folder, True
        while True:  # every folder above must be searchable by others, and this one readable
            mode = path.stat().st_mode
            if not mode & 0o001 or (path == folder and not mode & 0o004):
                readable = False
                break
            if path.parent == path:
                break
            path = path.parent
        if readable:
            found.append(f"{folder} is readable by other users, so a submission graded on this machine "
                         f"could read it; run `chmod 700 {folder}` on a shared grading machine")
    return found


def main(*, week: str, submission: str, results: str | None = None, repo: Repo | None = None) -> int:
    from ...grading.results import points_table

    repo = repo or Repo.here()
    config = load_week(repo, week)
    path = Path(submission)
    if not path.exists():
        print(f"error: {submission} does not exist; SUBMISSION must be a folder or a zip file")
        return 2
    out = Path(results) if results else repo.dist / "results" / f"{week}.json"
    for warning in exposed_secrets(repo):
        print(f"warning: {warning}")
    data = grade(repo, config, path, out)
    print(points_table(data))
    if data.get("output"):
        print(data["output"])
    print(f"results: {out}")
    return 0
