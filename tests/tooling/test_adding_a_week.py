"""A week is a self-contained unit: adding one touches nothing under ``coursekit/``, and tests may be
added to a week without rewriting its known-bad specifications.

Both tests work on a temporary copy of the repository (``COURSEKIT_ROOT``) with the installed
engine, and run the real commands (``coursekit stencils``, ``coursekit verify``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from coursekit.paths import Repo

REPO = Repo.here()
pytestmark = pytest.mark.slow

TOY = {
    "assignments/toy/week.toml": """\
        name = "toy"
        week = 8
        title = "A throwaway week"
        student_files = ["toy.py"]

        [budget]
        call_timeout_seconds = 10
        test_timeout_seconds = 20

        [[tasks]]
        number = 1
        title = "Add"
        functions = ["add"]
        points = 3

        [[tasks]]
        number = 2
        title = "A counter"
        functions = ["Counter"]
        points = 2
        """,
    "assignments/toy/drivers.py": '''\
        """The toy week's own driver: step a student object in place, report its state."""

        def count_up(server, counter, times):
            for _ in range(times):
                counter.increment()
            return counter.value

        REGISTRY = {"count_up": count_up}
        ''',
    "assignments/toy/handout.md": "# Toy week\n",
    "assignments/toy/tests/test_toy.py": '''\
        import pytest
        from coursekit.checks import expect_equal

        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_add_small(submission):
            """add(2, 3) is 5"""
            expect_equal(submission.toy.add(2, 3), 5, "add(2, 3)")
        ''',
    "autograder/toy/tests/toy_cases.py": "PAIRS = [(10, 20), (-4, 4)]\n",
    "autograder/toy/tests/test_hidden_toy.py": '''\
        import pytest
        from toy_cases import PAIRS
        from coursekit.checks import expect_equal

        @pytest.mark.task(1)
        @pytest.mark.points(2)
        def test_add_hidden(submission):
            """add on more pairs"""
            for a, b in PAIRS:
                expect_equal(submission.toy.add(a, b), a + b, "add")

        @pytest.mark.task(2)
        @pytest.mark.points(2)
        def test_counter_counts(submission):
            """a Counter incremented 5 times holds 5"""
            counter = submission.toy.Counter()
            expect_equal(submission.driver("count_up", counter, 5), 5, "the counter's value")
        ''',
    "solutions/toy/toy.py": '''\
        """The toy week's reference."""


        def add(a: int, b: int) -> int:
            """a + b"""
            ### BEGIN SOLUTION
            return a + b
            ### END SOLUTION


        class Counter:
            """Counts calls to increment."""

            def __init__(self) -> None:
                self.value = 0

            def increment(self) -> None:
                """Add one to ``value``."""
                ### BEGIN SOLUTION
                self.value += 1
                ### END SOLUTION
        ''',
    "autograder/toy/known_bad/counter_by_two/expected.toml": '''\
        description = "increment adds two"
        lost = 2

        [[change]]
        file = "toy.py"
        old = "self.value += 1"
        new = "self.value += 2"

        [scores]
        "test_counter_counts" = 0
        ''',
}


def _copy(tmp_path: Path, weeks: list[str]) -> Path:
    """A repository with the engine's surroundings and the given weeks, but no ``coursekit/``."""
    root = tmp_path / "repo"
    for name in ("gradescope", "datasets"):
        shutil.copytree(REPO.root / name, root / name, ignore=shutil.ignore_patterns("build", "__pycache__"))
    shutil.copy(REPO.root / "pyproject.toml", root)
    for week in weeks:
        for top in ("assignments", "solutions", "stencils", "autograder"):
            if (REPO.root / top / week).is_dir():
                shutil.copytree(REPO.root / top / week, root / top / week,
                                ignore=shutil.ignore_patterns("__pycache__"))
    (root / "autograder").mkdir(exist_ok=True)
    return root


def _coursekit(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COURSEKIT_ROOT": str(root)}
    return subprocess.run([sys.executable, "-m", "coursekit", *args], capture_output=True, text=True,
                          env=env, cwd=root)


def test_a_new_week_with_its_own_driver_needs_no_engine_change(tmp_path):
    root = _copy(tmp_path, [])
    for rel, text in TOY.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(dedent(text))
    assert not (root / "autograder" / "coursekit").exists()
    done = _coursekit(root, "stencils", "toy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "raise NotImplementedError" in (root / "stencils" / "toy" / "toy.py").read_text()
    done = _coursekit(root, "verify", "toy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "known-bad counter_by_two" in done.stdout and "verify: all graders proven" in done.stdout


def test_inserting_a_public_test_at_the_top_changes_no_known_bad_spec(tmp_path):
    week = "perceptron"
    root = _copy(tmp_path, [week])
    keep = {"predict_sign", "update_ignores_lr"}
    for spec in (root / "autograder" / week / "known_bad").iterdir():
        if spec.name not in keep:  # two suffice for the proof, and keep the test short
            shutil.rmtree(spec)
    specs = {p: p.read_text() for p in (root / "autograder" / week / "known_bad").glob("*/expected.toml")}
    tests = root / "assignments" / week / "tests" / "test_perceptron.py"
    inserted = dedent('''
        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_a_new_first_test(submission):
            """predict returns one label per row"""
            got = submission.perceptron.predict(np.ones(2), 0.0, np.ones((4, 2)))
            expect_array(got, "predict's labels", shape=(4,))
        ''')
    text = tests.read_text()
    first = text.index("\n@pytest.mark")
    tests.write_text(text[:first] + "\n" + inserted + text[first:])
    config = root / "assignments" / week / "week.toml"
    task_one = config.read_text().split("[[tasks]]")
    task_one[1] = task_one[1].replace("points = 6", "points = 7", 1)
    config.write_text("[[tasks]]".join(task_one))
    done = _coursekit(root, "verify", week)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p: p.read_text() for p in specs} == specs
