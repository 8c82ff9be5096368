"""``make grade HW=x SUBMISSION=path [RESULTS=file]``: grade one submission as Gradescope would.

A Gradescope-like tree is laid out in a temporary folder (``source/`` with the week's config,
public tests and hidden graders; ``submission/`` with a copy of the upload; ``results/``;
``submission_metadata.json``), and the same entry point ``run_autograder`` runs is started on it
in a fresh, isolated interpreter. The results are copied to ``RESULTS`` (default
``dist/results/<week>.json``) and printed as a points table. The exit code is 0 whenever results
were produced, whatever the score.
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

from ..config import WeekConfig, load_week
from ..paths import Repo


def stage_source(repo: Repo, week: WeekConfig, dest: Path) -> Path:
    """Copy what the grader needs of ``week`` (and nothing of ``solutions/``) into ``dest``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    dest.mkdir(parents=True)
    shutil.copyfile(repo.config_path(week.name), dest / "week.toml")
    (dest / "tests").mkdir()
    if repo.public_tests(week.name).is_dir():
        shutil.copytree(repo.public_tests(week.name), dest / "tests" / "public", ignore=ignore)
    if repo.hidden_tests(week.name).is_dir():
        shutil.copytree(repo.hidden_tests(week.name), dest / "tests" / "hidden", ignore=ignore)
    return dest


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


def grade(repo: Repo, week: WeekConfig, submission: Path, results: Path, quiet: bool = False) -> dict:
    """Grade ``submission`` through the Gradescope entry point; return the results document."""
    base = Path(tempfile.mkdtemp(prefix="coursekit-grade-"))
    try:
        root = base / "autograder"
        stage_source(repo, week, root / "source")
        stage_submission(submission, root / "submission")
        (root / "results").mkdir()
        (root / "submission_metadata.json").write_text(json.dumps(metadata(week)), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COURSEKIT_SECRET"))}
        env["COURSEKIT_DATASETS"] = env.get("COURSEKIT_DATASETS", str(repo.datasets))
        done = subprocess.run([sys.executable, "-I", "-m", "coursekit.grading.entry", "--root", str(root)],
                              cwd=base, env=env, capture_output=quiet, text=True)
        produced = root / "results" / "results.json"
        if not produced.exists():
            raise RuntimeError(f"the grader wrote no results (exit code {done.returncode})")
        results.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(produced, results)
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


def grade_with_archive(archive: Path, submission: Path, results: Path) -> dict:
    """Grade through a built Gradescope zip's own ``run_autograder``, as Gradescope would, with this
    environment standing in for what ``setup.sh`` installs."""
    import zipfile

    base = Path(tempfile.mkdtemp(prefix="coursekit-gradescope-"))
    try:
        root = base / "autograder"
        with zipfile.ZipFile(archive) as z:
            z.extractall(root / "source")
        stage_submission(submission, root / "submission")
        (root / "results").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COURSEKIT_SECRET"))}
        env.update(AUTOGRADER_ROOT=str(root), COURSEKIT_VENV=sys.prefix)
        subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                       text=True, cwd=base)
        results.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / "results" / "results.json", results)
        return json.loads(results.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main(*, week: str, submission: str, results: str | None = None, repo: Repo | None = None) -> int:
    from ..grading.results import points_table

    repo = repo or Repo.here()
    config = load_week(repo, week)
    path = Path(submission)
    if not path.exists():
        print(f"error: {submission} does not exist; SUBMISSION must be a folder or a zip file")
        return 2
    out = Path(results) if results else repo.dist / "results" / f"{week}.json"
    for warning in exposed_secrets(repo):
        print(f"warning: {warning}")
    data = grade(repo, config, path, out, quiet=True)
    print(points_table(data))
    if data.get("output"):
        print(data["output"])
    print(f"results: {out}")
    return 0
