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


# --- a course checkout as a TA keeps it ---------------------------------------------------------

def private_copy(dest: Path) -> "Repo":
    """A copy of this checkout's tracked files at ``dest`` (a world-searchable folder), kept as a TA
    grading as root without bubblewrap must keep it: the secret folders
    (``isolation.CHECKOUT_SECRETS``) private, the rest readable by everyone."""
    import shutil

    from coursekit.grading.isolation import CHECKOUT_SECRETS
    from coursekit.paths import Repo

    source = Repo.here().root
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=source, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        if (source / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, dest / name)
    (dest / ".git").mkdir(exist_ok=True)
    (dest / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (dest / "dist").mkdir(exist_ok=True)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    for name in CHECKOUT_SECRETS:
        (dest / name).chmod(0o700)
    return Repo(dest)


def coursekit_command(repo: "Repo", *args: str) -> subprocess.CompletedProcess:
    """``python -m coursekit ARGS`` run by a TA in ``repo``, with that checkout's own engine (as
    root: then the checkout whose secrets must stay private is that one alone)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COURSEKIT_ROOT"))}
    env["PYTHONPATH"] = str(repo.root / "autograder")
    return subprocess.run([sys.executable, "-m", "coursekit", *args], cwd=repo.root, env=env,
                          capture_output=True, text=True, timeout=900)


def grade_checkout(repo: "Repo", week: str, submission: Path, results: Path) -> tuple[dict, subprocess.CompletedProcess]:
    """``make grade HW=week SUBMISSION=submission`` run by a TA in ``repo``; the results document and
    the finished command (output, exit code)."""
    done = coursekit_command(repo, "grade", week, str(submission), "--results", str(results))
    assert results.exists(), done.stdout + done.stderr
    return json.loads(results.read_text()), done
