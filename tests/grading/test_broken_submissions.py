"""Submissions found, or explained, through the real ``run_autograder``: a broken import is found
once; several copies of a file and imports of the student's own helper modules are named in the
results."""

from __future__ import annotations

import time
from textwrap import dedent

import pytest

from coursekit.grading import results as results_mod
from toyweek import GOOD, grade, make_root

pytestmark = pytest.mark.slow

STARTER = dedent('''\
    def add(a, b):
        raise NotImplementedError("toy task 1 (add) is not implemented yet")

    def vector():
        raise NotImplementedError("toy task 2 (vector) is not implemented yet")
''')


def graded(tmp_path, source: str, extra: dict | None = None) -> tuple[dict, float]:
    started = time.monotonic()
    results, _ = grade(make_root(tmp_path, source, extra))
    results_mod.validate(results)
    return results, time.monotonic() - started


def test_an_endless_loop_at_import_costs_one_limit_and_every_test_names_it(tmp_path):
    results, seconds = graded(tmp_path, "import time\nwhile True:\n    time.sleep(0.01)\n" + GOOD)
    assert seconds < 40
    assert len(results["tests"]) == 4 and results["score"] == 0
    for test in results["tests"]:
        assert "toy.py could not be imported" in test["output"]
        assert "did not finish within 5 seconds" in test["output"]
    assert results["extra_data"]["worker_failures"] == ["timed out after 5 s"]
    assert "toy.py could not be imported, so none of its tests could run" in results["output"]


def test_an_exception_at_import_runs_the_module_once(tmp_path):
    """Every test reports the one import: the module counts how often it ran, in the worker process."""
    source = dedent("""
        import builtins
        builtins.imports = getattr(builtins, "imports", 0) + 1
        raise ValueError(f"import number {builtins.imports}")
    """) + GOOD
    results, _ = graded(tmp_path, source)
    assert len(results["tests"]) == 4 and results["score"] == 0
    for test in results["tests"]:
        assert "toy.py could not be imported" in test["output"]
        assert "raised ValueError at toy.py line 4" in test["output"]
        if test["extra_data"]["public"]:
            assert "import number 1" in test["output"] and "import number 2" not in test["output"]
        else:
            assert "import number" not in test["output"]


def test_a_crash_at_import_is_found_once(tmp_path):
    results, _ = graded(tmp_path, "import os\nos._exit(3)\n" + GOOD)
    assert results["extra_data"]["worker_failures"] == ["exited"]
    for test in results["tests"]:
        assert "toy.py could not be imported" in test["output"], test
        # (the exit code, or the kill that ended the sandbox around it first, as the race goes)
        assert "ended the worker process" in test["output"] and "while it was being imported" in test["output"]


def test_the_finished_copy_is_graded_over_the_untouched_starter_and_both_are_named(tmp_path):
    results, _ = graded(tmp_path, STARTER, {"hw/toy.py": GOOD})
    assert results["score"] == 4.0
    assert "2 copies of toy.py. Graded: hw/toy.py." in results["output"]
    assert "Ignored: toy.py (2 parts still raise NotImplementedError as in the starter)" in results["output"]


def test_a_helper_module_of_the_students_own_is_named_where_it_fails(tmp_path):
    """``my_utils.py`` beside the file works locally, but only toy.py is graded: the results' top
    says so by name, and so does every test that fails on the import (hidden ones included)."""
    source = "from my_utils import add\n\ndef vector():\n    return [1.0, 2.0, 3.0]\n"
    results, _ = graded(tmp_path, source, {"my_utils.py": "def add(a, b):\n    return a + b\n"})
    assert results["score"] == 0
    assert "toy.py line 1 imports my_utils, which is not one of this week's files (toy.py)" in results["output"]
    for test in results["tests"]:
        assert "ModuleNotFoundError" in test["output"] and "imports my_utils" in test["output"], test


def test_a_helper_module_imported_inside_a_function_is_named_in_that_test(tmp_path):
    source = GOOD.replace("return a + b", "from helpers.maths import plus\n    return plus(a, b)")
    results, _ = graded(tmp_path, source)
    assert results["score"] == 1.0  # vector only
    assert "toy.py line 4 imports helpers" in results["output"]
    for test in results["tests"]:
        if "add" in test["name"]:
            assert "ModuleNotFoundError" in test["output"], test
            assert "imports helpers, which is not one of this week's files" in test["output"], test
