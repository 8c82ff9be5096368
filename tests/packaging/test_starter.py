"""The student starter: installs and runs its public tests on a bare copy, fails task by task on the
stencil, passes on the reference, submits a zip that grades at full marks, carries a Classroom
workflow of the right shape, and refuses every kind of planted leak."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from coursekit.authoring.commands import student
from coursekit.authoring.commands.grade import grade
from coursekit.config import load_week
from coursekit.paths import Repo

REPO = Repo.here()
WEEK = "perceptron"
CONFIG = load_week(REPO, WEEK)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def starter(tmp_path_factory) -> Path:
    return student.build(REPO, CONFIG, tmp_path_factory.mktemp("dist") / WEEK)


def copy(starter: Path, tmp_path: Path) -> Path:
    target = tmp_path / "clone"
    shutil.copytree(starter, target)
    return target


def test_the_starter_is_a_repository_with_one_commit(starter):
    log = subprocess.run(["git", "-C", str(starter), "log", "--format=%s"], capture_output=True, text=True).stdout
    assert log.splitlines() == [f"Starter code for week {CONFIG.week}: {CONFIG.title}"]
    status = subprocess.run(["git", "-C", str(starter), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == ""
    readme, handout = (starter / "README.md").read_text(), REPO.handout(WEEK).read_text()
    assert readme.startswith(handout.splitlines()[0]) and "## Getting started" in readme
    assert all(line in readme.splitlines() for line in handout.splitlines())  # the handout, whole
    assert not any("__pycache__" in p.parts or p.suffix == ".pyc" for p in starter.rglob("*"))


def test_make_install_and_test_on_a_bare_copy(starter, tmp_path):
    """make install builds .venv from nothing but python3; make test then runs the public tests,
    each failing on the stencil with its task named; with the reference, all pass; make submit
    builds a zip that `make grade` scores at full marks."""
    clone = copy(starter, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV"))}
    system_python = shutil.which("python3", path="/usr/bin") or "python3"
    make = ["make", "-C", str(clone), f"PYTHON={system_python}", "PIP_EXTRA="]
    done = subprocess.run([*make, "install"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([*make, "test"], capture_output=True, text=True, env=env)
    assert done.returncode != 0
    for task in CONFIG.tasks:
        assert f"Task {task.number} ({task.title})" in done.stdout
    summary = [line for line in done.stdout.splitlines() if " failed" in line and " in " in line][-1]
    assert re.search(r"\b\d+ failed in ", summary) and "passed" not in summary, summary  # none passes
    shutil.copy(REPO.solution(WEEK) / "perceptron.py", clone)
    done = subprocess.run([*make, "test", "TASK=3"], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and "deselected" in done.stdout, done.stdout
    done = subprocess.run([*make, "test"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout
    done = subprocess.run([*make, "submit"], capture_output=True, text=True, env=env)
    assert done.returncode == 0 and "built" in done.stdout, done.stdout
    with zipfile.ZipFile(clone / "submission.zip") as z:
        assert z.namelist() == list(CONFIG.student_files)
    results = grade(REPO, CONFIG, clone / "submission.zip", tmp_path / "r.json", quiet=True)
    assert results["score"] == CONFIG.total_points


def test_make_submit_refuses_a_file_that_does_not_compile(starter, tmp_path):
    clone = copy(starter, tmp_path)
    (clone / "perceptron.py").write_text("def predict(:\n")
    done = subprocess.run([sys.executable, "-m", "coursekit.submit", "--root", str(clone)],
                          capture_output=True, text=True, cwd=clone)
    assert done.returncode == 1 and "perceptron.py line 1" in done.stdout
    assert not (clone / "submission.zip").exists()


def test_classroom_workflow_has_the_command_grader_shape(starter):
    workflow = yaml.safe_load((starter / ".github/workflows/classroom.yml").read_text())
    assert workflow["on"] == ["push", "repository_dispatch"]
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses") == "classroom-resources/autograding-command-grader@v1"]
    assert len(graders) == len(CONFIG.tasks)
    for step, task in zip(graders, CONFIG.tasks):
        w = step["with"]
        assert set(w) == {"test-name", "setup-command", "command", "timeout", "max-score"}
        assert isinstance(w["max-score"], int) and 0 < w["max-score"] < task.points  # the public tests' points
        assert w["command"] == f"python -m pytest -q --task {task.number}"
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    ids = [s["id"] for s in graders]
    assert reporter["with"]["runners"] == ",".join(ids)
    assert set(reporter["env"]) == {f"{i.upper()}_RESULTS" for i in ids}


def test_workflow_commands_succeed_locally_on_the_reference(starter, tmp_path):
    clone = copy(starter, tmp_path)
    shutil.copy(REPO.solution(WEEK) / "perceptron.py", clone)
    workflow = yaml.safe_load((clone / ".github/workflows/classroom.yml").read_text())
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}
    for step in workflow["jobs"]["run-autograding-tests"]["steps"]:
        if "command" in step.get("with", {}):
            done = subprocess.run(step["with"]["command"], shell=True, cwd=clone, env=env,
                                  capture_output=True, text=True)
            assert done.returncode == 0, (step["name"], done.stdout[-2000:])


PLANTS = {
    "solution text": ("notes.py", lambda: "x = 1\n" + next(
        line for line in (REPO.solution(WEEK) / "perceptron.py").read_text().splitlines()
        if len(line.strip()) > 40 and "=" in line and not line.strip().startswith(("#", '"', "def", "Args"))
        and line.strip() not in (REPO.stencil(WEEK) / "perceptron.py").read_text()) + "\n"),
    "marker": ("perceptron_extra.py", lambda: "### BEGIN SOLUTION\n"),
    "hidden test": ("tests/test_more.py", lambda: (REPO.hidden_tests(WEEK) / "test_hidden_perceptron_xor.py").read_text()),
    "golden": ("tests/cases.py", lambda: (REPO.hidden_tests(WEEK) / "perceptron_cases.py").read_text()),
    "solution file": ("reference.py", lambda: (REPO.solution(WEEK) / "perceptron.py").read_text()),
    "compiled file": ("perceptron.cpython-311.pyc", lambda: "\0\0"),
    "cache": ("tests/__pycache__/x.txt", lambda: "cache"),
    "OS litter": (".DS_Store", lambda: "\0"),
    "known-bad": ("known_bad/predict_sign/expected.toml", lambda: "lost = 1\n"),
}


@pytest.mark.parametrize("kind", list(PLANTS))
def test_the_validator_catches_each_kind_of_leak(kind):
    files = student.contents(REPO, CONFIG)
    assert student.validate(files, REPO, CONFIG) == []
    name, make = PLANTS[kind]
    files[name] = make().encode()
    problems = student.validate(files, REPO, CONFIG)
    assert problems and any(p.startswith(name) for p in problems), problems


def test_a_changed_starter_is_never_overwritten(starter, tmp_path):
    target = copy(starter, tmp_path)
    (target / "perceptron.py").write_text("# my work\n")
    with pytest.raises(student.StarterError, match="not an unchanged earlier build"):
        student.build(REPO, CONFIG, target)
    assert (target / "perceptron.py").read_text() == "# my work\n"
    clean = copy(starter, tmp_path / "again")
    assert student.build(REPO, CONFIG, clean) == clean


def test_week_4s_held_out_texts_ship_in_the_gradescope_zip_and_never_to_students():
    """The texts the RNN graders feed held out (the original scenes they score, the end of the play)
    are in the zip, and neither they nor a line of them in the starter or the stencil; a starter
    with one of their lines planted is refused."""
    from coursekit.authoring.commands import autograder

    rnn = load_week(REPO, "rnn")
    starter = student.contents(REPO, rnn)
    stencil = {p.name: p.read_bytes() for p in REPO.stencil("rnn").rglob("*") if p.is_file()}
    zipped = autograder.contents(REPO, rnn)
    for name in ("warden_of_the_ford.txt", "macbeth_test.txt"):
        path = REPO.hidden_tests("rnn") / "data" / name
        data = path.read_bytes()
        assert data in zipped.values()
        lines = [line.strip() for line in path.read_text().splitlines() if len(line.strip()) >= 24]
        for shipped in (starter, stencil):
            assert data not in shipped.values()
            text = "\n".join(v.decode("utf-8", "replace") for v in shipped.values())
            assert not [line for line in lines if line in text]
        planted = {**starter, "notes.txt": f"{lines[len(lines) // 2]}\n".encode()}
        assert any(p.startswith("notes.txt") for p in student.validate(planted, REPO, rnn))
