"""Static checks of one week, made before anything is graded (``make verify`` runs them first).

The per-week naming rules (the TA guide states them): in one grading run the public and hidden
test folders are both on ``sys.path`` (pytest's rootdir-relative imports), so their file names must
not collide with each other, with a student module, or with another week's when a TA runs several:

- public tests: ``assignments/<week>/tests/test_<week>*.py``;
- hidden graders: ``autograder/<week>/tests/test_hidden_<week>*.py``;
- helper modules beside them (oracles, cases): ``<week>_*.py``;
- the week's drivers: ``assignments/<week>/drivers.py`` (optional).

The reference's solution markers are checked as ``make stencils`` checks them (a misspelt or
malformed marker is refused with ``file:line``). Then the tests are collected (not run) with the course plugin: every test has a task of the
config, each task's tests carry exactly its points, and every known-bad submission's changes apply
and its score keys name tests that exist.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ..config import WeekConfig
from ..paths import Repo
from . import known_bad, stencil


def naming_problems(repo: Repo, week: WeekConfig) -> list[str]:
    name = week.name
    rules = [(repo.public_tests(name), f"test_{name}", "public test"),
             (repo.hidden_tests(name), f"test_hidden_{name}", "hidden grader")]
    problems = []
    students = {Path(f).stem for f in week.student_files}
    for folder, prefix, kind in rules:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            stem = path.stem
            if stem in ("__init__", "conftest"):
                problems.append(f"{path}: a week's test folders hold no {path.name} (the plugin does its job)")
            elif stem.startswith("test_"):
                if not stem.startswith(prefix):
                    problems.append(f"{path}: a {kind} file must be named {prefix}*.py")
            elif not stem.startswith(f"{name}_") or stem in students:
                problems.append(f"{path}: a helper module must be named {name}_*.py")
    return problems


def collect(repo: Repo, week: WeekConfig, hidden: bool = True) -> dict:
    """Collect the week's public tests and (with ``hidden``) its hidden tests without running them;
    return the plugin's listing (``{"tests": [{"id", "task", "points", "public", ...}],
    "collection_errors": [...]}``)."""
    folders = (repo.public_tests(week.name), repo.hidden_tests(week.name)) if hidden else (repo.public_tests(week.name),)
    paths = [str(p) for p in folders if p.is_dir()]
    with tempfile.TemporaryDirectory(prefix="coursekit-collect-") as tmp:
        ini, out = Path(tmp) / "pytest.ini", Path(tmp) / "tests.json"
        ini.write_text("[pytest]\n", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "coursekit.plugin",
             "-p", "no:cacheprovider", "--rootdir", tmp, "-c", str(ini),
             "--week-config", str(repo.config_path(week.name)),
             "--public-dir", str(repo.public_tests(week.name)), "--list-tests", str(out), *paths],
            capture_output=True, text=True, cwd=tmp)
        if not out.exists():
            raise RuntimeError(f"collecting {week.name}'s tests failed: {done.stdout[-1500:]}{done.stderr[-500:]}")
        return json.loads(out.read_text(encoding="utf-8"))


def points_problems(week: WeekConfig, listing: dict) -> list[str]:
    problems = [f"a test file failed to load: {n}" for n in listing["collection_errors"]]
    found: dict[int, float] = {}
    for t in listing["tests"]:
        if t["task"] is None:
            problems.append(f"{t['id']} has no @pytest.mark.task(n)")
            continue
        try:
            week.task(t["task"])
        except KeyError:
            problems.append(f"{t['id']} names task {t['task']}, which the config does not have")
        if t["points"] <= 0:
            problems.append(f"{t['id']} carries no points (@pytest.mark.points(x))")
        found[t["task"]] = found.get(t["task"], 0.0) + t["points"]
    for task in week.tasks:
        if abs(found.get(task.number, 0.0) - task.points) > 1e-9:
            problems.append(f"task {task.number} is worth {task.points:g} points in week.toml but its "
                            f"tests carry {found.get(task.number, 0.0):g}")
    return problems


def known_bad_problems(repo: Repo, week: WeekConfig, test_ids: list[str]) -> list[str]:
    problems = []
    try:
        bads = known_bad.discover(repo.known_bad(week.name))
    except known_bad.KnownBadError as e:
        return [str(e)]
    with tempfile.TemporaryDirectory(prefix="coursekit-known-bad-") as tmp:
        for bad in bads:
            problems += bad.key_problems(test_ids)
            try:
                known_bad.materialize(bad, repo.solution(week.name), week, Path(tmp) / bad.name)
            except (known_bad.KnownBadError, stencil.MarkerError, OSError) as e:
                problems.append(str(e))
    return problems


def static_problems(repo: Repo, week: WeekConfig) -> list[str]:
    """Everything wrong with ``week`` that can be found without grading (empty when all is well)."""
    problems = stencil.check(repo.solution(week.name), week)  # a misspelt marker, with file:line
    problems += naming_problems(repo, week)
    listing = collect(repo, week)
    problems += points_problems(week, listing)
    problems += known_bad_problems(repo, week, [t["id"] for t in listing["tests"]])
    return problems
