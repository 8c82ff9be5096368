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
    """Copy the upload as Gradescope would present it: a zip stays a zip, a folder its contents.
    Links stay links, and a named pipe, socket or device is made again, never opened (opening a
    pipe would wait forever), so the grader sees, and refuses, exactly what was submitted."""
    dest.mkdir(parents=True)
    if submission.is_dir():
        shutil.copytree(submission, dest, dirs_exist_ok=True, symlinks=True, copy_function=_copy_entry,
                        ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    else:
        _copy_entry(submission, dest / submission.name)


def _copy_entry(src: str | Path, dst: str | Path) -> None:
    import stat

    info = os.lstat(src)
    if stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
        shutil.copy2(src, dst, follow_symlinks=False)
        return
    try:
        os.mknod(dst, info.st_mode, info.st_rdev)  # a pipe, socket or device, as it was
    except OSError:  # a device without the right to make one: a pipe stands in, refused alike
        os.mkfifo(dst)


def metadata(week: WeekConfig) -> dict:
    now = datetime.now(timezone.utc).isoformat()
    return {"id": 0, "created_at": now, "submission_method": "upload", "users": [],
            "assignment": {"title": week.title, "total_points": week.total_points, "due_date": None},
            "previous_submissions": []}


def run_autograder(layout: Layout, deadline: float | None = None,
                   hide: list[Path] = ()) -> subprocess.CompletedProcess:
    """Run ``source/run_autograder`` on ``layout`` with this Python environment as its venv, hiding
    the folders ``hide`` from the worker where namespaces allow."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COURSEKIT_SECRET"))}
    env.update(AUTOGRADER_ROOT=str(layout.root), COURSEKIT_VENV=sys.prefix,
               COURSEKIT_HIDE_PATHS=os.pathsep.join(map(str, hide)))
    if deadline is not None:
        env["COURSEKIT_DEADLINE_SECONDS"] = str(int(deadline))
    return subprocess.run(["bash", str(layout.run_autograder)], env=env, capture_output=True,
                          text=True, errors="replace", cwd=layout.root.parent)


def grade(repo: Repo, week: WeekConfig, submission: Path, results: Path, quiet: bool = False,
          archive: Path | None = None, hide: list[Path] = ()) -> dict:
    """Grade ``submission`` through ``run_autograder`` on the week's Gradescope tree (built from
    the repository, or unpacked from ``archive``, a built zip); return the results document.
    ``hide`` names more of what the TA handed over (a class's export, the archive, an output
    folder) that the worker must not see, besides the checkouts."""
    import zipfile

    hidden = [*checkouts(repo), *hide, *([archive] if archive is not None else [])]
    refuse_if_exposed(repo, hidden)
    if archive is not None:
        with zipfile.ZipFile(archive) as z:
            files = {name: z.read(name) for name in z.namelist() if not name.endswith("/")}
    else:
        files = contents(repo, week)
    return grade_tree(files, week, submission, results, quiet=quiet, hide=hidden)


def grade_tree(files: dict[str, bytes], week: WeekConfig, submission: Path, results: Path,
               quiet: bool = False, hide: list[Path] = ()) -> dict:
    """Grade ``submission`` exactly as Gradescope does: the autograder zip's ``files`` unpacked in
    a private Gradescope tree, the upload beside them, the tree's own ``run_autograder``; ``hide``
    is what the worker must not see besides (checked by its preflight). Returns the results."""
    base = Path(tempfile.mkdtemp(prefix="coursekit-grade-"))
    try:
        layout = Layout(base / "autograder")
        write_tree(files, layout.source)
        stage_submission(Path(submission), layout.submission)
        layout.metadata.write_text(json.dumps(metadata(week)), encoding="utf-8")
        done = run_autograder(layout, hide=hide)
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


class GradingRefused(RuntimeError):
    """Grading here would let student code read the course's secrets; the message says what to do."""


def checkouts(repo: Repo) -> list[Path]:
    """The course checkouts on this machine a submission must not see: this repository, and the one
    the installed engine comes from (they differ when a copy is graded)."""
    from ...grading.isolation import is_checkout

    engine = Path(__file__).resolve().parents[4]
    found = [repo.root.resolve()]
    if is_checkout(engine) and engine not in found:
        found.append(engine)
    return found


def exposed_secrets(repo: Repo, hide: list[Path] = ()) -> list[Path]:
    """As root, what of the checkouts (their secret folders, ``isolation.CHECKOUT_SECRETS``) and of
    ``hide`` other users (the worker user) could read. The worker's preflight checks the same
    parts (``isolation.secret_parts``), so what passes here grades there."""
    from ...grading.isolation import secret_parts

    if os.geteuid() != 0:
        return []
    found = []
    for path in dict.fromkeys([*checkouts(repo), *map(Path, hide)]):
        for part in (secret_parts(path) if Path(path).exists() else []):
            if part.exists() and _world_readable(part) and part not in found:
                found.append(part)
    return found


def _world_readable(folder: Path) -> bool:
    """Every folder above is searchable by others, and this one (or this file) readable."""
    path = Path(folder).resolve()
    target = path
    while True:
        mode = path.stat().st_mode
        if path == target and not mode & 0o004:
            return False
        if path != target and not mode & 0o001:
            return False
        if path.parent == path:
            return True
        path = path.parent


def refuse_if_exposed(repo: Repo, hide: list[Path] = ()) -> None:
    """As root, grade only where student code cannot read the checkout's secrets or what ``hide``
    names: hidden by the worker's namespaces (bubblewrap), or made private. Raise
    :class:`GradingRefused` otherwise."""
    from ...grading.isolation import namespaces_available

    exposed = exposed_secrets(repo, hide)
    if exposed and not namespaces_available():
        raise GradingRefused(
            f"refusing to grade as root: student code could read {', '.join(map(str, exposed))}. "
            "Install bubblewrap (`apt-get install bubblewrap`), which hides them from the "
            f"worker, or make them private (`chmod 700 {' '.join(map(str, exposed))}`).")


def main(*, week: str, submission: str, results: str | None = None, repo: Repo | None = None) -> int:
    from ...grading.results import points_table

    repo = repo or Repo.here()
    config = load_week(repo, week)
    path = Path(submission)
    if not path.exists():
        print(f"error: {submission} does not exist; SUBMISSION must be a folder or a zip file")
        return 2
    out = Path(results) if results else repo.dist / "results" / f"{week}.json"
    try:
        data = grade(repo, config, path, out)
    except GradingRefused as e:
        print(f"error: {e}")
        return 2
    print(points_table(data))
    if data.get("output"):
        print(data["output"])
    print(f"results: {out}")
    setup_error = data.get("extra_data", {}).get("setup_error")
    if setup_error:
        print(f"error: grading could not start here, so these scores mean nothing: {setup_error}")
        return 1
    return 0
