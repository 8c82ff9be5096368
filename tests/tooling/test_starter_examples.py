"""Every week's starter works as its README says (slow: seven builds and their public tests).

For each week, in a freshly built starter: ``make test`` (with the course's own environment standing
in for the one ``make install`` builds, which has the same pinned packages) runs the public tests on
the untouched stencil, every test failing as not implemented with its task named, and passes them all
with the reference in place; the README's Python examples and its inline data loads run; and pytest
run by a Python without torch says in one line what to run, or, in the numpy-only weeks, runs the
tests. The real ``make install && make test`` on a bare copy is tests/packaging/test_starter.py's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from coursekit.authoring.commands import student
from coursekit.config import load_week
from coursekit.paths import Repo
from starter_examples import inline_data_calls, python_blocks, run_python, student_env, without

REPO = Repo.here()
WEEKS = REPO.week_names()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``built(week)``: the week's starter, built once for this module."""
    starters: dict[str, Path] = {}

    def get(week: str) -> Path:
        if week not in starters:
            starters[week] = student.build(REPO, load_week(REPO, week), tmp_path_factory.mktemp("dist") / week)
        return starters[week]
    return get


def clone(starter: Path, tmp_path: Path, reference: str | None = None) -> Path:
    target = tmp_path / "clone"
    shutil.copytree(starter, target)
    if reference:
        for name in load_week(REPO, reference).student_files:
            shutil.copy(REPO.solution(reference) / name, target / name)
    return target


def make_test(starter: Path, *args: str) -> subprocess.CompletedProcess:
    """The starter's own ``make test``, with this environment as its ``.venv`` (never reinstalled)."""
    venv = Path(sys.prefix)
    make = ["make", "-C", str(starter), f"VENV={venv}", "-o", f"{venv}/.installed", "test", *args]
    dry = subprocess.run([*make[:1], "-n", *make[1:]], capture_output=True, text=True)
    assert "pip" not in dry.stdout and " venv " not in dry.stdout, dry.stdout  # it must not install here
    return subprocess.run(make, capture_output=True, text=True, env=student_env(), timeout=1800)


def summary(output: str) -> str:
    return [line for line in output.splitlines() if re.search(r"\d+ (passed|failed|error)", line)][-1]


@pytest.mark.parametrize("week", WEEKS)
def test_make_test_fails_every_task_on_the_stencil_as_not_implemented(built, week, tmp_path):
    """Every public test fails (or, for a fixture that trains, errors in its setup) saying its task
    is not implemented yet; none passes, no test file fails to load, no grader error."""
    config = load_week(REPO, week)
    done = make_test(clone(built(week), tmp_path))
    # make fails (2) because pytest did with 1, "tests failed" (not 2, interrupted, or 4, usage)
    assert done.returncode == 2 and "test] Error 1" in done.stderr, done.stdout[-3000:] + done.stderr[-2000:]
    line = summary(done.stdout)
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|errors?)\b", line)}
    assert "passed" not in counts and counts.get("failed"), line
    unfinished = counts["failed"] + counts.get("errors", counts.get("error", 0))
    assert done.stdout.count("Not implemented yet: ") >= unfinished, done.stdout[-3000:]
    assert "ERROR collecting" not in done.stdout and "internal error" not in done.stdout, done.stdout[-3000:]
    for task in config.tasks:
        assert f"Task {task.number} ({task.title})" in done.stdout


@pytest.mark.parametrize("week", WEEKS)
def test_make_test_passes_on_the_reference(built, week, tmp_path):
    done = make_test(clone(built(week), tmp_path, reference=week))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    line = summary(done.stdout)
    assert "failed" not in line and "error" not in line, line


@pytest.mark.parametrize("week", WEEKS)
def test_the_readme_examples_run(built, week, tmp_path):
    """The README's Python blocks (with the reference in place, as after the tasks are done) and its
    inline calls of ``coursekit.data`` with literal arguments (the data the handout loads)."""
    starter = clone(built(week), tmp_path, reference=week)
    readme = (starter / "README.md").read_text(encoding="utf-8")
    calls = inline_data_calls(readme)
    if calls:
        done = run_python(starter, "import coursekit.data\n" + "".join(f"{call}\n" for call in calls))
        assert done.returncode == 0, (calls, done.stderr[-3000:])
    for block in python_blocks(readme):
        done = run_python(starter, block)
        assert done.returncode == 0, (block, done.stderr[-3000:])
    assert calls or python_blocks(readme), "the README has no example to run"


@pytest.mark.parametrize("week", WEEKS)
def test_pytest_without_torch_says_what_to_run_or_runs(built, week, tmp_path):
    starter = built(week)
    own = [p for p in starter.rglob("*.py") if not {".git", "coursekit"} & set(p.relative_to(starter).parts)]
    needs_torch = any(re.search(r"^\s*(import|from) torch\b", p.read_text(encoding="utf-8"), re.M) for p in own)
    done = subprocess.run([sys.executable, "-m", "pytest", "--task", "1", "-p", "no:cacheprovider"], cwd=starter,
                          capture_output=True, text=True, env=student_env(PYTHONPATH=without("torch", tmp_path)))
    output = done.stdout + done.stderr
    if needs_torch:
        lines = [line for line in output.splitlines() if line.strip()]
        assert done.returncode == 4 and len(lines) == 1, output[-3000:]
        assert "has no torch" in lines[0] and "make test" in lines[0] and "source .venv/bin/activate" in lines[0]
    else:
        line = summary(done.stdout)
        assert done.returncode == 1 and "failed" in line and "error" not in line, output[-3000:]
