"""A tiny self-contained week for the engine's own tests: one student file, three tests, a secret.

``make_root`` lays out Gradescope's tree (source/, submission/, results/) with this week's graders
and a given ``toy.py``; ``grade`` runs the real ``run_autograder`` on it, as Gradescope would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RUN_AUTOGRADER = Path(__file__).resolve().parents[2] / "gradescope" / "run_autograder"

SECRET_SOURCE_TOKEN = "HIDDEN-SOURCE-TOKEN-5b1e9c"
SECRET_EXPECTED = 987654
HIDDEN_INPUTS = (123456, 864198)

CONFIG = """\
name = "toy"
week = 99
title = "Toy week"
student_files = ["toy.py"]

[budget]
grade_seconds = 20
memory_mb = 1024
call_timeout_seconds = 5
test_timeout_seconds = 10

[[tasks]]
number = 1
title = "Add"
file = "toy.py"
functions = ["add"]
points = 3

[[tasks]]
number = 2
title = "Vector"
file = "toy.py"
functions = ["vector"]
points = 1

[[forbidden]]
api = "torch"
files = ["toy.py"]
reason = "numpy only"
"""

PUBLIC_TEST = '''\
import numpy as np
import pytest
from coursekit.checks import expect_close, expect_equal

@pytest.mark.task(1)
@pytest.mark.points(1)
def test_public_add(submission):
    """add(2, 3) is 5"""
    expect_equal(submission.toy.add(2, 3), 5, "add(2, 3)")

@pytest.mark.task(2)
@pytest.mark.points(1)
def test_public_vector(submission):
    """vector() is [1, 2, 3]"""
    expect_close(submission.toy.vector(), np.array([1.0, 2.0, 3.0]), "vector()")
'''

HIDDEN_TEST = f'''\
import pytest
from coursekit.checks import expect_equal

# {SECRET_SOURCE_TOKEN}
pytestmark = pytest.mark.task(1)

@pytest.mark.points(1)
def test_hidden_add(submission):
    """add is right on hidden inputs"""
    expect_equal(submission.toy.add({HIDDEN_INPUTS[0]}, {HIDDEN_INPUTS[1]}), {SECRET_EXPECTED}, "add on hidden inputs")

@pytest.mark.points(1)
def test_hidden_add_again(submission):
    """add still works after the earlier tests"""
    expect_equal(submission.toy.add(40, 2), 42, "add after earlier tests")
'''

GOOD = """\
import numpy as np

def add(a, b):
    return a + b

def vector():
    return np.array([1.0, 2.0, 3.0])
"""

FULL_MARKS = 4.0


def make_root(base: Path, student_source: str, extra_files: dict[str, str] | None = None) -> Path:
    root = base / "autograder"
    (root / "source" / "tests" / "public").mkdir(parents=True)
    (root / "source" / "tests" / "hidden").mkdir(parents=True)
    (root / "source" / "week.toml").write_text(CONFIG)
    (root / "source" / "tests" / "public" / "test_toy_public.py").write_text(PUBLIC_TEST)
    (root / "source" / "tests" / "hidden" / "test_toy_hidden.py").write_text(HIDDEN_TEST)
    (root / "submission").mkdir()
    (root / "submission" / "toy.py").write_text(student_source)
    for name, text in (extra_files or {}).items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)
    (root / "results").mkdir()
    (root / "source" / "run_autograder").write_bytes(RUN_AUTOGRADER.read_bytes())
    return root


def grade(root: Path, timeout: float = 120, env: dict | None = None) -> tuple[dict, str]:
    """Run ``run_autograder`` on ``root``; return the results document and its log."""
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "COURSEKIT_VENV": sys.prefix, **(env or {})}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True,
                          text=True, timeout=timeout, cwd=root.parent, env=environment)
    results = json.loads((root / "results" / "results.json").read_text())
    return results, done.stdout + done.stderr


def scores(results: dict) -> dict[str, float]:
    return {t["name"].split(": ", 1)[-1]: t["score"] for t in results["tests"]}


def student_visible_text(results: dict) -> str:
    """Every field a student can see: top-level output, test names, outputs, tags, leaderboard."""
    parts = [results.get("output", "")]
    for t in results.get("tests", []):
        parts += [t.get("name", ""), t.get("output", ""), " ".join(t.get("tags", []))]
    parts += [json.dumps(results.get("leaderboard", []))]
    return "\n".join(parts)
