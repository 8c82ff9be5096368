"""Batch grading shows a worker its own submission and nothing else the TA handed over: not the
other submissions of the export, not the graders' archive, not the output folder. With namespaces
they are hidden; as the worker user alone, where they are readable by others, the command refuses
and says what to make private. (Before: a worker read every other submission and a world-readable
archive with the hidden graders.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from coursekit.authoring.class_export import Planted, place, write_metadata
from coursekit.authoring.commands.autograder import contents, write_zip
from coursekit.authoring.submissions import Submitter
from coursekit.config import load_week
from coursekit.paths import Repo
from toyweek import coursekit_command, private_copy

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="the worker user exists only as root")]

REPO = Repo.here()
WEEK = load_week(REPO, "perceptron")
VICTIM_TOKEN = "ANOTHER-STUDENTS-WORK-7f3a"

#: Week 1's reference, whose predict first shows, in its visible feedback, whatever it can read of
#: the paths it is given (the other submission, the archive, the output folder's results).
SPY = '''
import os


def _look(paths):
    found = []
    for path in paths:
        try:
            if os.path.isdir(path):
                for dirpath, _, names in os.walk(path):
                    for name in names:
                        with open(os.path.join(dirpath, name), "rb") as f:
                            found.append(f.read().decode("latin-1"))
            else:
                with open(path, "rb") as f:
                    found.append(f.read().decode("latin-1"))
        except OSError as e:
            found.append(type(e).__name__)
    return " || ".join(found)


_honest_predict = predict


def predict(w, b, X):
    raise ValueError("found: " + _look(@PATHS@)[:20000])
'''


def _reference() -> str:
    from coursekit.authoring.known_bad import without_markers

    return without_markers((REPO.solution("perceptron") / "perceptron.py").read_text())


def _grade_all(course: Repo, export: Path, out: Path, *more: str):
    """``make grade-all`` as a TA runs it in ``course`` (a private copy of the checkout)."""
    return coursekit_command(course, "grade-all", "perceptron", str(export), "--out", str(out), "--jobs", "1",
                             *more)


def test_a_batch_worker_sees_only_its_own_submission(checkout_copy, isolation_mode):
    course = private_copy(checkout_copy / "course")
    export = checkout_copy / "export"
    out = checkout_copy / "out"
    out.mkdir(mode=0o755)
    (out / "results").mkdir(mode=0o755)
    (out / "results" / "submission_000009.json").write_text(json.dumps({"note": VICTIM_TOKEN}))
    archive = checkout_copy / "perceptron-graders.zip"
    write_zip(contents(REPO, WEEK), archive)
    victim = export / "submission_000002"
    spy_source = _reference() + SPY.replace("@PATHS@", repr([str(victim), str(archive), str(out / "results")]))
    place({"perceptron.py": spy_source.encode()}, export / "submission_000001", as_zip=False)
    place({"perceptron.py": (_reference() + f"\n# {VICTIM_TOKEN}\n").encode()}, victim, as_zip=False)
    write_metadata(export, [
        Planted("submission_000001", "spy", lambda r: [], (Submitter("Spy", "spy@example.edu", "1"),)),
        Planted("submission_000002", "victim", lambda r: [], (Submitter("Victim", "v@example.edu", "2"),))])
    for path in [export, out, archive, *export.rglob("*"), *out.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # as a TA's download lands: readable by all

    done = _grade_all(course, export, out, "--archive", str(archive))
    code = done.returncode
    if isolation_mode == "worker user":
        assert code == 2, done.stdout  # refused up front: nothing graded, nothing a worker could read
        assert not list((out / "results").glob("submission_00000[12].json"))
        return
    assert code == 0, done.stdout + done.stderr
    spied = json.loads((out / "results" / "submission_000001.json").read_text())
    text = json.dumps(spied)
    assert "found: " in text  # it ran, and looked
    assert VICTIM_TOKEN not in text
    assert "def test_" not in text and "PK\\u0003\\u0004" not in text and "PK\x03\x04" not in text
    victim_results = json.loads((out / "results" / "submission_000002.json").read_text())
    assert victim_results["score"] == WEEK.total_points


def test_the_refusal_names_what_to_make_private(checkout_copy, isolation_mode):
    if isolation_mode != "worker user":
        pytest.skip("with namespaces nothing is refused")
    course = private_copy(checkout_copy / "course")
    export = checkout_copy / "export"
    place({"perceptron.py": _reference().encode()}, export / "submission_000001", as_zip=False)
    write_metadata(export, [Planted("submission_000001", "reference", lambda r: [], ())])
    for path in [export, *export.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    out = checkout_copy / "out"
    done = _grade_all(course, export, out)
    assert done.returncode == 2 and "refusing to grade as root" in done.stdout, done.stdout
    assert f"chmod 700 {export}" in done.stdout and str(course.root / "solutions") not in done.stdout
    export.chmod(0o700)  # as it says
    done = coursekit_command(course, "grade-all", "perceptron", str(export), "--out", str(out), "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    # Two students' workers never live at once without namespaces: they would share /tmp.
    assert "grading one submission at a time" in done.stdout
    assert json.loads((out / "results" / "submission_000001.json").read_text())["score"] == WEEK.total_points
