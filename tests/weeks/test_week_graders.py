"""Each week end to end: public tests pass on the reference and fail on the stencil naming the task;
`make verify` proves the graders (reference full marks, stencil zero without grader errors, every
known-bad submission exactly its expected scores); `make grade` accepts every submission shape."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from coursekit.authoring.commands.grade import grade
from coursekit.authoring.commands.verify import verify_week
from coursekit.config import load_week
from coursekit.grading import results as results_mod
from coursekit.paths import Repo

REPO = Repo.here()
WEEKS = REPO.week_names()
pytestmark = pytest.mark.slow


def public_run(week: str, submission, tmp_path) -> dict:
    out = tmp_path / "public.json"
    (tmp_path / "none.ini").write_text("[pytest]\n")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "coursekit.plugin", "-p", "no:cacheprovider",
                    "--rootdir", str(tmp_path), "-c", str(tmp_path / "none.ini"),
                    "--week-config", str(REPO.config_path(week)), "--submission", str(submission),
                    "--public-dir", str(REPO.public_tests(week)), "--results", str(out),
                    str(REPO.public_tests(week))], capture_output=True, text=True, cwd=tmp_path)
    return json.loads(out.read_text())


@pytest.mark.parametrize("week", WEEKS)
def test_public_tests_pass_on_the_reference(week, tmp_path):
    data = public_run(week, REPO.solution(week), tmp_path)
    assert data["tests"], "no public tests"
    failing = [t["name"] for t in data["tests"] if t["status"] != "passed"]
    assert not failing


@pytest.mark.parametrize("week", WEEKS)
def test_public_tests_fail_on_the_stencil_naming_the_task(week, tmp_path):
    config = load_week(REPO, week)
    data = public_run(week, REPO.stencil(week), tmp_path)
    for t in data["tests"]:
        assert t["status"] == "failed" and t["score"] == 0, t["name"]
        task = int(t["number"].split(".")[0])
        assert t["name"].startswith(f"Task {task} ({config.task(task).title})")
        assert re.search(rf"{week} task {task} \(", t["output"]) or "NotImplementedError" in t["output"], t


@pytest.mark.parametrize("week", WEEKS)
def test_verify_proves_the_graders(week):
    lines: list[str] = []
    outcomes = verify_week(REPO, load_week(REPO, week), echo=lines.append)
    assert all(o.ok for o in outcomes), "\n".join(lines)
    assert sum(o.label.startswith("known-bad") for o in outcomes) >= 5
    # every stub returning None scores 0 with no grader error (week 1's scored 13/100 once)
    assert [o.score for o in outcomes if o.label.startswith("do-nothing")] == [0.0]


def _shapes(week: str, tmp_path):
    config = load_week(REPO, week)
    files = [REPO.solution(week) / f for f in config.student_files]
    nested = tmp_path / "nested" / "My Homework" / week
    nested.mkdir(parents=True)
    for f in files:
        shutil.copy(f, nested)
    (tmp_path / "nested" / ".DS_Store").write_bytes(b"\0")
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in files:
            z.write(f, f"{week}-submission/{f.name}")
        z.writestr(f"__MACOSX/{week}-submission/._{files[0].name}", "litter")
    repo_like = tmp_path / "starter"
    shutil.copytree(REPO.assignments / week, repo_like)
    for f in files:
        shutil.copy(f, repo_like)
    (repo_like / ".git").mkdir()
    (repo_like / "README.md").write_text("handout")
    return {"reference": REPO.solution(week), "nested": tmp_path / "nested", "zip": archive,
            "starter repository": repo_like}


@pytest.mark.parametrize("week", WEEKS)
def test_grade_accepts_every_submission_shape(week, tmp_path):
    config = load_week(REPO, week)
    for shape, path in _shapes(week, tmp_path).items():
        data = grade(REPO, config, path, tmp_path / f"{shape}.json", quiet=True)
        results_mod.validate(data)
        assert data["score"] == pytest.approx(config.total_points), shape


def test_make_grade_command_prints_a_table_and_exits_zero_on_a_zero_score(tmp_path):
    week = WEEKS[0]
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "coursekit", "grade", week, str(REPO.stencil(week)),
                           "--results", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "TOTAL" in done.stdout and f"results: {out}" in done.stdout
    assert "run_autograder: exit status 0" in done.stdout  # the one grading path, as Gradescope runs it
    assert json.loads(out.read_text())["score"] == 0


@pytest.mark.parametrize("week", WEEKS)
def test_every_week_releases_without_a_leak(week, tmp_path):
    """The Gradescope zip and the starter of every week build: the leak scans find nothing, and
    nothing of the TA-only ``coursekit/authoring/`` is in either (what ships is decided by folders:
    every other module of the package ships)."""
    from pathlib import Path

    import coursekit
    from coursekit.authoring.commands import autograder, student
    config = load_week(REPO, week)
    archive = autograder.build(REPO, config, tmp_path / f"{week}.zip")
    starter = student.contents(REPO, config)
    assert student.validate(starter, REPO, config) == []
    package = Path(coursekit.__file__).parent
    modules = {p.relative_to(package).as_posix() for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    public = {m for m in modules if not m.startswith("authoring/")}
    with zipfile.ZipFile(archive) as z:
        shipped = {n.removeprefix("engine/coursekit/") for n in z.namelist() if n.startswith("engine/coursekit/")}
    assert shipped == public
    assert {n.removeprefix("coursekit/") for n in starter if n.startswith("coursekit/")} == public
