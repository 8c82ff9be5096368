"""A built starter is complete and says what it does (week 1, quick; every week: test_starter_examples):
its README is the handout with a Getting started section true to its Makefile and workflow; the
workflow's points are the public tests' points; the data the handout loads ships, checksummed, and no
held-out data does (of any week); pytest run by a Python without a needed package says what to run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from coursekit.authoring.commands import student
from coursekit.config import load_week
from coursekit.data.files import content_sha256
from coursekit.paths import Repo
from starter_examples import inline_data_calls, python_blocks, run_python, student_env, without

REPO = Repo.here()
WEEK = "perceptron"
CONFIG = load_week(REPO, WEEK)


@pytest.fixture(scope="module")
def starter(tmp_path_factory) -> Path:
    return student.build(REPO, CONFIG, tmp_path_factory.mktemp("dist") / WEEK)


def public_listing(starter: Path, tmp_path: Path) -> list[dict]:
    """The starter's public tests as its own pytest collects them."""
    out = tmp_path / "tests.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "--list-tests", str(out)], cwd=starter, capture_output=True, text=True, env=student_env())
    assert out.exists(), done.stdout + done.stderr
    return json.loads(out.read_text())["tests"]


def test_the_readme_is_the_handout_with_a_getting_started_section(starter):
    readme = (starter / "README.md").read_text(encoding="utf-8")
    handout = REPO.handout(WEEK).read_text(encoding="utf-8")
    start = readme.index("## Getting started\n")
    end = readme.index("\n## ", start) + 1
    assert readme[:start] + readme[end:] == handout  # the handout, whole and unchanged
    assert readme.startswith(handout.splitlines()[0] + "\n")  # the week's title stays first
    section = readme[start:end]
    for needed in ("Python 3.11", "`make`", "`git`", "make install", "make test", "make test TASK=3",
                   "pytest --task 3", "source .venv/bin/activate", "make submit", "submission.zip",
                   "Gradescope", ".github/workflows/classroom.yml", "`perceptron.py`", "datasets/"):
        assert needed in section, needed
    for line in (starter / "requirements.txt").read_text().splitlines():
        name, version = line.split("==")
        assert f"{name} {version}" in section  # what `make install` installs


def test_every_make_command_the_readme_names_is_in_the_makefile(starter):
    readme = (starter / "README.md").read_text(encoding="utf-8")
    targets = set(re.findall(r"^make ([a-z]+)", readme, flags=re.M)) | set(re.findall(r"`make ([a-z]+)", readme))
    assert {"install", "test", "submit", "help"} <= targets
    for target in targets:
        done = subprocess.run(["make", "-n", "-C", str(starter), target], capture_output=True, text=True)
        assert done.returncode == 0, (target, done.stderr)
    done = subprocess.run(["make", "-n", "-C", str(starter), "test", "TASK=3"], capture_output=True, text=True)
    assert "-m pytest --task 3" in done.stdout
    listed = subprocess.run(["make", "-s", "-C", str(starter), "help"], capture_output=True, text=True).stdout
    assert all(f"make {t}" in listed for t in ("install", "test", "submit", "help"))


def test_make_install_refuses_a_python_older_than_3_11(starter, tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(starter, clone)
    old = tmp_path / "python3.10"
    old.write_text('#!/bin/sh\n[ "$1" = --version ] && { echo "Python 3.10.12"; exit 0; }\n'
                   '[ "$1" = -c ] && exit 1\necho "$@" >> "$0.calls"\n')
    old.chmod(0o755)
    done = subprocess.run(["make", "-C", str(clone), "install", f"PYTHON={old}"], capture_output=True, text=True)
    assert done.returncode != 0
    assert "needs Python 3.11 or newer" in done.stdout and "Python 3.10.12" in done.stdout
    assert not (clone / ".venv").exists() and not Path(f"{old}.calls").exists()  # nothing was attempted


def test_the_workflow_gives_each_task_its_public_points(starter, tmp_path):
    public: dict[int, float] = {}
    for test in public_listing(starter, tmp_path):
        assert test["public"]
        public[test["task"]] = public.get(test["task"], 0) + test["points"]
    workflow = yaml.safe_load((starter / ".github/workflows/classroom.yml").read_text())
    steps = [s for s in workflow["jobs"]["run-autograding-tests"]["steps"]
             if s.get("uses") == "classroom-resources/autograding-command-grader@v1"]
    assert {int(s["with"]["command"].split()[-1]): s["with"]["max-score"] for s in steps} == public
    total = sum(public.values())
    assert 0 < total < CONFIG.total_points
    readme = " ".join((starter / "README.md").read_text(encoding="utf-8").split())
    assert f"{total:g} of the {CONFIG.total_points:g} points in all" in readme
    assert f"other {CONFIG.total_points - total:g} points" in readme


def test_a_task_without_public_tests_gets_no_workflow_step_and_fractions_are_refused():
    public = {t.number: 2.0 for t in CONFIG.tasks[1:]}
    workflow = yaml.safe_load(student.classroom_workflow(CONFIG, public))
    commands = [s["with"]["command"] for s in workflow["jobs"]["run-autograding-tests"]["steps"] if "with" in s
                and "command" in s["with"]]
    assert commands == [f"python -m pytest -q --task {t.number}" for t in CONFIG.tasks[1:]]
    with pytest.raises(student.StarterError, match="task 2's public tests carry 1.5 points"):
        student.classroom_workflow(CONFIG, {**public, 2: 1.5})


def test_the_data_the_handout_loads_ships_and_loads(starter):
    readme = (starter / "README.md").read_text(encoding="utf-8")
    calls = inline_data_calls(readme)
    assert 'coursekit.data.load_digits("train")' in calls
    code = "import coursekit.data\n" + "".join(f"{call}\n" for call in calls) + "print('loaded')\n"
    done = run_python(starter, code)
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr
    assert python_blocks(readme)  # run with the reference in test_starter_examples


def test_the_starter_ships_the_public_digits_only_with_their_checksums(starter):
    split = json.loads((REPO.datasets / "digits/split.json").read_text())
    public_rows = sorted(split["train"] + split["val"])
    with np.load(REPO.datasets / "digits/digits.npz") as full, np.load(starter / "datasets/digits/digits.npz") as own:
        assert set(own.files) == set(full.files)
        for name in full.files:
            np.testing.assert_array_equal(own[name], full[name][public_rows])  # no test row, nothing else
    table = json.loads((starter / "datasets/checksums.json").read_text())
    shipped = {p.relative_to(starter / "datasets").as_posix() for p in (starter / "datasets").rglob("*")
               if p.is_file() and p.suffix != ".md" and p.name != "checksums.json"}
    assert set(table) == shipped
    for rel, digest in table.items():
        assert content_sha256(starter / "datasets" / rel) == digest
    from coursekit.data import load_digits
    code = ("import numpy as np\nfrom coursekit.data import load_digits, DatasetError\n"
            "X, y = load_digits('train')\nnp.save('train_x.npy', X)\nnp.save('train_y.npy', y)\n"
            "try:\n    load_digits('test')\nexcept DatasetError as e:\n    print('refused:', e)\n")
    done = run_python(starter, code)
    assert done.returncode == 0, done.stderr
    assert "refused: the digits' 'test' split is held out" in done.stdout
    X, y = load_digits("train")  # the course repository's, all splits
    np.testing.assert_array_equal(np.load(starter / "train_x.npy"), X)
    np.testing.assert_array_equal(np.load(starter / "train_y.npy"), y)
    for name in ("train_x.npy", "train_y.npy"):
        (starter / name).unlink()


@dataclass(frozen=True)
class RepoWithData(Repo):
    """The course repository with its datasets/ folder elsewhere."""

    data: Path = Path()

    @property
    def datasets(self) -> Path:
        return self.data


def test_a_data_file_declared_nowhere_or_damaged_refuses_the_build(tmp_path):
    repo = RepoWithData(REPO.root, tmp_path / "datasets")
    shutil.copytree(REPO.datasets, repo.datasets)
    (repo.datasets / "macbeth/test.txt").write_text("the rest of the play\n")
    with pytest.raises(student.StarterError, match="datasets/macbeth/test.txt: not declared"):
        student.contents(repo, CONFIG)
    (repo.datasets / "macbeth/test.txt").unlink()
    (repo.datasets / "macbeth/val.txt").write_text("edited\n")
    with pytest.raises(student.StarterError, match="datasets/macbeth/val.txt: its content does not match"):
        student.contents(repo, CONFIG)


@pytest.mark.parametrize("plant", ["the file", "one line"])
def test_held_out_data_of_any_week_is_refused_in_every_starter(starter, plant):
    """Week 4's held-out text, planted in week 1's starter, is found (whole, or one line of it)."""
    held_out = REPO.hidden_tests("rnn") / "data/macbeth_test.txt"
    files = {p.relative_to(starter).as_posix(): p.read_bytes() for p in sorted(starter.rglob("*"))
             if p.is_file() and not {".git", "__pycache__"} & set(p.relative_to(starter).parts)}
    assert student.validate(files, REPO, CONFIG) == []
    text = held_out.read_text(encoding="utf-8")
    line = next(s for s in text.splitlines() if len(s.strip()) > 40)
    files["datasets/macbeth/test.txt" if plant == "the file" else "notes.md"] = (
        text if plant == "the file" else f"my notes\n{line}\n").encode()
    problems = student.validate(files, REPO, CONFIG)
    assert problems and "autograder/rnn/tests/data/macbeth_test.txt" in problems[0], problems


def test_pytest_without_a_needed_package_says_what_to_run_in_one_line(starter, tmp_path):
    """As `pytest --task 3` run by a Python that lacks a package the tests import (numpy here; the
    torch weeks, torch: test_starter_examples): one line, no traceback."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--task", "3", "-p", "no:cacheprovider"], cwd=starter,
                          capture_output=True, text=True, env=student_env(PYTHONPATH=without("numpy", tmp_path)))
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 4 and len(lines) == 1, done.stdout + done.stderr
    assert "has no numpy" in lines[0] and "make test" in lines[0] and "source .venv/bin/activate" in lines[0]
