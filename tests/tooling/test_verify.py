"""``make verify`` proves a week's graders only when no submission it grades meets a grader error:
the reference, the untouched stencil, the do-nothing submission (every stub returns ``None``, which
must score 0) and every known-bad submission."""

from __future__ import annotations

from textwrap import dedent

import pytest

from coursekit.authoring.commands.verify import check_known_bad, check_reference, check_zero
from coursekit.authoring.known_bad import KnownBad
from coursekit.config import load_week_config

CONFIG = """\
name = "tiny"
week = 97
title = "Tiny"
student_files = ["tiny.py"]

[[tasks]]
number = 1
title = "One"
file = "tiny.py"
functions = ["one"]
points = 2
"""


def _results(*tests: tuple[float, float, bool]) -> dict:
    """A results document with tests of ``(score, max_score, grader_error)``."""
    entries = [{"name": f"Task 1 (One): test {i}", "number": f"1.{i}", "score": score, "max_score": top,
                "output": "The grader hit an internal error on this test" if error else "",
                "extra_data": {"id": f"test_{i}", "grader_error": error}}
               for i, (score, top, error) in enumerate(tests, start=1)]
    return {"score": sum(t["score"] for t in entries), "tests": entries}


@pytest.fixture
def week(tmp_path):
    (tmp_path / "week.toml").write_text(CONFIG)
    return load_week_config(tmp_path / "week.toml")


def test_a_grader_error_fails_every_kind_of_run_even_with_the_right_score(week, tmp_path):
    assert check_reference(week, _results((1, 1, False), (1, 1, False))) == []
    assert check_reference(week, _results((1, 1, False), (1, 1, True)))  # full marks, but an error
    assert check_zero("the stencil", _results((0, 1, False), (0, 1, False))) == []
    assert check_zero("the do-nothing submission", _results((0, 1, False), (0, 1, True)))
    assert check_zero("the do-nothing submission", _results((1, 1, False), (0, 1, False)))  # points for nothing
    bad = KnownBad("wrong", tmp_path / "expected.toml", "", (("tiny.py", "a", "b"),), {"test_2": 0.0}, 1.0)
    assert check_known_bad(bad, _results((1, 1, False), (0, 1, False))) == []
    problems = check_known_bad(bad, _results((1, 1, False), (0, 1, True)))  # its expected 0, by accident
    assert problems and all("grader error" in p for p in problems)


@pytest.mark.slow
def test_verify_fails_when_the_do_nothing_or_a_known_bad_submission_meets_a_grader_error(tmp_path):
    """A throwaway week whose grader crashes on ``None`` (an ``int(None)`` of its own): the reference
    passes, and the do-nothing submission and a known-bad that returns ``None`` each fail verify,
    even though both score exactly what they should."""
    from test_adding_a_week import TOY, _copy, _coursekit

    root = _copy(tmp_path, [])
    files = dict(TOY)
    files["autograder/toy/tests/test_hidden_toy.py"] += '''
        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_add_is_a_number(submission):
            """add returns a number"""
            got = submission.toy.add(1, 1)
            assert int(got) == got, "add must return a number"  # int(None) is the grader's own bug
        '''
    files["assignments/toy/week.toml"] = files["assignments/toy/week.toml"].replace("points = 3", "points = 4")
    files["autograder/toy/known_bad/add_returns_none/expected.toml"] = '''\
        description = "add returns None"
        lost = 4

        [[change]]
        file = "toy.py"
        old = "return a + b"
        new = "return None"

        [scores]
        "test_add_small" = 0
        "test_add_hidden" = 0
        "test_add_is_a_number" = 0
        '''
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(dedent(text))
    assert _coursekit(root, "stencils", "toy").returncode == 0
    done = _coursekit(root, "verify", "toy")
    assert done.returncode == 1 and "verify: FAILED" in done.stdout, done.stdout + done.stderr

    def verdict(label: str) -> str:
        return next(line.split()[0] for line in done.stdout.splitlines() if label in line
                    and line.split()[0] in ("ok", "FAIL"))

    assert verdict("reference") == "ok" and verdict("known-bad counter_by_two") == "ok", done.stdout
    assert verdict("do-nothing") == "FAIL" and verdict("known-bad add_returns_none") == "FAIL", done.stdout
    assert "grader error in 1." in done.stdout and "TypeError" in done.stdout
