"""``make grade`` (``coursekit grade``) of week 1 submissions that cannot be graded normally: every
one ends with a valid, complete results file that says what happened, well within the deadline."""

from __future__ import annotations

import json
import os
import time
import zipfile

import pytest

from coursekit.authoring.commands import grade as grade_command
from coursekit.config import load_week
from coursekit.grading import results as results_mod
from coursekit.paths import Repo

pytestmark = pytest.mark.slow

WEEK = "perceptron"


@pytest.fixture(scope="module")
def repo() -> Repo:
    return Repo.here()


def reference(repo: Repo) -> str:
    return (repo.solution(WEEK) / "perceptron.py").read_text(encoding="utf-8")


def graded(repo: Repo, tmp_path, source: str) -> tuple[dict, float]:
    """Grade ``source`` as perceptron.py through the real path; the results and the seconds taken."""
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "perceptron.py").write_text(source, encoding="utf-8")
    started = time.monotonic()
    data = grade_command.grade(repo, load_week(repo, WEEK), folder, tmp_path / "results.json", quiet=True)
    results_mod.validate(data)
    return data, time.monotonic() - started


def test_an_endless_loop_at_import_is_found_once_and_every_test_says_so(repo, tmp_path):
    """Before, every test restarted the worker, imported again and waited its own 20 s limit: nine
    minutes, then the score-0 fallback with no test listed."""
    data, seconds = graded(repo, tmp_path, reference(repo) + "\nwhile True:\n    pass\n")
    assert seconds < 120, seconds
    tests = data["tests"]
    assert len(tests) == 65 and data["score"] == 0
    for test in tests:
        assert "perceptron.py could not be imported" in test["output"], test
        assert "did not finish within 20 seconds" in test["output"], test
        assert not test["extra_data"]["grader_error"]
    assert "perceptron.py could not be imported" in data["output"]
    assert data["extra_data"]["worker_failures"] == ["timed out after 20 s"]


def test_an_exception_at_import_is_found_once_and_every_test_says_so(repo, tmp_path):
    """Each test names the exception's class; public tests also show its message."""
    data, seconds = graded(repo, tmp_path, reference(repo) + "\nraise ValueError('no data file here')\n")
    assert seconds < 120, seconds
    assert len(data["tests"]) == 65 and data["score"] == 0
    for test in data["tests"]:
        assert "perceptron.py could not be imported" in test["output"], test
        assert "raised ValueError at perceptron.py line" in test["output"], test
        public = test["extra_data"]["public"]
        assert ("no data file here" in test["output"]) == public, test


def test_a_lone_surrogate_in_an_exception_message_still_gives_results(repo, tmp_path):
    source = reference(repo).replace(
        "def sigmoid(z: np.ndarray) -> np.ndarray:",
        "def sigmoid(z):\n    raise ValueError(b'caf\\xe9'.decode('utf-8', 'surrogateescape'))\n\n\ndef _old_sigmoid(z):")
    assert "surrogateescape" in source
    data, _ = graded(repo, tmp_path, source)
    assert 50 < data["score"] < 100
    public = [t for t in data["tests"] if t["extra_data"]["public"] and "sigmoid" in t["name"]]
    assert public and all("ValueError: caf" in t["output"] for t in public)
    json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))


def _damaged_zip(folder):
    archive = folder / "submission.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("perceptron.py", "import numpy as np\n")
    data = bytearray(archive.read_bytes())
    data[30 + len("perceptron.py")] ^= 0xFF  # one byte of the stored file: its checksum fails
    archive.write_bytes(bytes(data))


@pytest.mark.parametrize("make, reason", [
    (lambda folder: None, "missing perceptron.py"),
    (_damaged_zip, "perceptron.py in submission.zip is damaged"),
    (lambda folder: os.mkfifo(folder / "perceptron.py"), "perceptron.py is a named pipe"),
    (lambda folder: os.symlink("/etc/hostname", folder / "perceptron.py"),
     "perceptron.py is a symbolic link pointing outside the submission"),
], ids=["empty folder", "damaged zip", "named pipe", "link out"])
def test_make_grade_prints_why_a_submission_cannot_be_graded(repo, tmp_path, capsys, make, reason):
    folder = tmp_path / "upload"
    folder.mkdir()
    make(folder)
    assert grade_command.main(week=WEEK, submission=str(folder), results=str(tmp_path / "r.json"), repo=repo) == 0
    printed = capsys.readouterr().out
    assert f"Your submission could not be graded: {reason}" in printed
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert len(data["tests"]) == 65 and all(reason in t["output"] for t in data["tests"])
