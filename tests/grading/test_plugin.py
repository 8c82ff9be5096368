"""The pytest plugin seen from outside: every collected test reaches results.json with its points,
visibility, number and tags; skips, setup errors, collection errors and partial credit are scored
as documented; hidden tests' feedback holds no values, public tests' feedback does."""

from __future__ import annotations

import json

import pytest

from coursekit.grading import results as results_mod
from toyweek import CONFIG, GOOD


@pytest.fixture
def week_dir(pytester):
    pytester.makefile(".toml", week=CONFIG)
    sub = pytester.mkdir("sub")
    (sub / "toy.py").write_text(GOOD.replace("return a + b", "return a + b + (1 if a == 7 else 0)"))
    return pytester


def run(pytester, *paths, public=False):
    args = ["-p", "coursekit.plugin", "--assert=plain", "--week-config", "week.toml", "--submission", "sub",
            "--results", "results.json", *paths]
    if public:
        args += ["--public-dir", "."]
    result = pytester.runpytest_subprocess(*args)
    data = json.loads((pytester.path / "results.json").read_text())
    results_mod.validate(data)
    return result, data


def test_every_outcome_is_recorded_and_scored(week_dir):
    week_dir.makepyfile(test_toy="""
        import pytest
        from coursekit.checks import expect_equal

        @pytest.mark.task(1)
        @pytest.mark.points(2)
        @pytest.mark.visibility("after_published")
        @pytest.mark.tags("basics", "add")
        def test_pass(submission):
            '''add works'''
            expect_equal(submission.toy.add(2, 3), 5, "add(2, 3)")

        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_fail(submission):
            '''add(7, 1) is 8'''
            expect_equal(submission.toy.add(7, 1), 8, "add(7, 1)")

        @pytest.fixture
        def broken():
            raise RuntimeError("fixture bug")

        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_setup_error(submission, broken):
            '''needs a broken fixture'''

        @pytest.mark.task(2)
        @pytest.mark.points(1)
        @pytest.mark.skip(reason="not this term")
        def test_skipped(submission):
            '''skipped on purpose'''

        @pytest.mark.task(2)
        @pytest.mark.points(4)
        @pytest.mark.number("2.9")
        def test_partial(submission, credit):
            '''half of it'''
            credit.set(0.5)
            raise AssertionError("second half wrong")

        @pytest.mark.task(2)
        @pytest.mark.points(1)
        def test_leaderboard(submission, leaderboard):
            '''posts a score'''
            leaderboard("accuracy", 0.75)
    """)
    _, data = run(week_dir, "test_toy.py")
    tests = {t["name"].split(": ", 1)[1]: t for t in data["tests"]}
    assert list(tests) == ["add works", "add(7, 1) is 8", "needs a broken fixture", "skipped on purpose",
                           "half of it", "posts a score"]
    assert tests["add works"]["score"] == 2 and tests["add works"]["visibility"] == "after_published"
    assert tests["add works"]["tags"] == ["basics", "add"] and tests["add works"]["number"] == "1.1"
    assert tests["add works"]["name"] == "Task 1 (Add): add works"
    assert tests["add(7, 1) is 8"]["score"] == 0 and tests["add(7, 1) is 8"]["status"] == "failed"
    assert "add(7, 1): wrong value" in tests["add(7, 1) is 8"]["output"]
    assert "8" not in tests["add(7, 1) is 8"]["output"].replace("add(7, 1)", "")  # hidden: no values
    assert tests["needs a broken fixture"]["extra_data"]["grader_error"] is True
    assert tests["skipped on purpose"]["output"] == "skipped: not this term"
    assert tests["skipped on purpose"]["score"] == 0
    assert tests["half of it"]["score"] == 2 and tests["half of it"]["number"] == "2.9"
    assert tests["half of it"]["output"].startswith("partial credit: 50%")
    assert data["leaderboard"] == [{"name": "accuracy", "value": 0.75, "order": "desc"}]
    assert data["score"] == 2 + 2 + 1


def test_public_tests_show_values_and_the_students_traceback(week_dir):
    week_dir.makepyfile(test_toy="""
        import pytest
        from coursekit.checks import expect_equal

        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_fail(submission):
            '''add(7, 1) is 8'''
            expect_equal(submission.toy.add(7, 1), 8, "add(7, 1)")

        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_raises(submission):
            '''add of a string'''
            submission.toy.add("a", 1)
    """)
    _, data = run(week_dir, "test_toy.py", public=True)
    fail, raises = data["tests"]
    assert "got 9, expected 8" in fail["output"]
    assert "TypeError" in raises["output"] and "toy.py, line 4, in add" in raises["output"]


def test_a_collection_error_is_reported_and_its_points_are_kept(week_dir):
    week_dir.makepyfile(test_ok="""
        import pytest
        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_one(submission):
            '''one'''
    """, test_broken="import nonexistent_module_xyz\n")
    _, data = run(week_dir, "test_ok.py", "test_broken.py")
    names = [t["name"] for t in data["tests"]]
    assert any("Could not load" in n for n in names)
    missing = [t for t in data["tests"] if t["name"] == "Tests that could not run"][0]
    assert missing["max_score"] == 4 - 1 and missing["score"] == 0
    assert data["score"] == 1


def test_task_option_runs_one_task(week_dir):
    week_dir.makepyfile(test_toy="""
        import pytest
        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_one(submission):
            '''one'''
        @pytest.mark.task(2)
        @pytest.mark.points(1)
        def test_two(submission):
            '''two'''
    """)
    result = week_dir.runpytest_subprocess("-p", "coursekit.plugin", "--week-config", "week.toml", "--submission", "sub",
                                "--task", "2")
    result.assert_outcomes(passed=1, deselected=1)


def test_missing_student_file_is_named_in_every_test(week_dir):
    (week_dir.path / "sub" / "toy.py").unlink()
    week_dir.makepyfile(test_toy="""
        import pytest
        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_one(submission):
            '''one'''
    """)
    _, data = run(week_dir, "test_toy.py")
    assert "missing toy.py" in data["tests"][0]["output"]


def test_cuda_only_tests_skip_on_the_cpu_with_a_reason(week_dir, monkeypatch):
    week_dir.makepyfile(test_toy='''
        import pytest
        @pytest.mark.task(1)
        @pytest.mark.points(1)
        @pytest.mark.cuda
        def test_gpu(submission, device):
            """runs on the GPU"""
            assert device == "cuda"
    ''')
    monkeypatch.setenv("COURSEKIT_DEVICE", "cpu")
    _, data = run(week_dir, "test_toy.py")
    assert data["tests"][0]["output"] == "skipped: needs a CUDA GPU, and this run grades on the CPU"
    assert data["extra_data"]["device"] == "cpu"


def test_a_bad_value_in_one_test_fails_that_test_never_the_file(week_dir):
    """NaN points, an unknown visibility and a NaN leaderboard value are the grader's mistakes: each
    fails its own test (or drops its entry) as a grader error, and the file stays valid."""
    week_dir.makepyfile(test_toy="""
        import pytest
        from coursekit.checks import expect_equal

        @pytest.mark.task(1)
        @pytest.mark.points(float("nan"))
        def test_nan_points(submission):
            '''points that are not a number'''

        @pytest.mark.task(1)
        @pytest.mark.points(1)
        @pytest.mark.visibility("sometimes")
        def test_bad_visibility(submission):
            '''an unknown visibility'''

        @pytest.mark.task(1)
        @pytest.mark.points(2)
        def test_fine(submission, leaderboard):
            '''add works, with a NaN on the leaderboard'''
            leaderboard("accuracy", float("nan"))
            expect_equal(submission.toy.add(2, 3), 5, "add(2, 3)")
    """)
    _, data = run(week_dir)
    by_name = {t["name"].split(": ", 1)[-1]: t for t in data["tests"]}
    assert by_name["points that are not a number"]["extra_data"]["grader_error"]
    assert by_name["an unknown visibility"]["extra_data"]["grader_error"]
    assert by_name["an unknown visibility"]["visibility"] == "visible"
    assert by_name["add works, with a NaN on the leaderboard"]["score"] == 2
    assert "leaderboard" not in data and "leaderboard value" in data["output"]


def test_a_grading_run_can_never_use_the_in_process_channel(week_dir, monkeypatch):
    """Under the grader entry (COURSEKIT_GRADING set), asking for in-process grading fails every
    test that needs the student's code instead of running it in the grader's process."""
    week_dir.makepyfile(test_toy="""
        import pytest
        from coursekit.checks import expect_equal

        @pytest.mark.task(1)
        @pytest.mark.points(1)
        def test_add(submission):
            '''add works'''
            expect_equal(submission.toy.add(2, 3), 5, "add(2, 3)")
    """)
    monkeypatch.setenv("COURSEKIT_GRADING", "1")
    _, data = run(week_dir)
    (test,) = data["tests"]
    assert test["score"] == 0 and "must use the sandboxed worker" in test["output"]


TWO_TESTS = """
    import pytest
    from coursekit.checks import expect_equal

    @pytest.mark.task(1)
    @pytest.mark.points(2)
    def test_add(submission):
        '''add works'''
        expect_equal(submission.toy.add(2, 3), 5, "add(2, 3)")

    @pytest.mark.task(2)
    @pytest.mark.points(1)
    def test_vector(submission):
        '''vector works'''
        submission.toy.vector()
"""


def _encrypted_zip(folder):
    import zipfile
    with zipfile.ZipFile(folder / "submission.zip", "w") as z:
        z.writestr("toy.py", "def add(a, b):\n    return a + b\n")
    data = bytearray((folder / "submission.zip").read_bytes())
    data[6] |= 1  # "encrypted", in the local and the central header
    data[data.index(b"PK\x01\x02") + 8] |= 1
    (folder / "submission.zip").write_bytes(bytes(data))


@pytest.mark.parametrize("make, reason", [
    (_encrypted_zip, "toy.py in submission.zip is password-protected"),
    (lambda folder: __import__("os").mkfifo(folder / "toy.py"), "toy.py is a named pipe"),
    (lambda folder: None, "missing toy.py"),
], ids=["encrypted zip", "fifo", "empty"])
def test_a_submission_that_cannot_be_graded_says_why_at_the_top_and_lists_every_test(week_dir, make, reason):
    """The reason is the results' top-level output, found once; every test is listed at 0 with it."""
    (week_dir.path / "sub" / "toy.py").unlink()
    make(week_dir.path / "sub")
    week_dir.makepyfile(test_toy=TWO_TESTS)
    _, data = run(week_dir)
    assert data["output"].startswith(f"Your submission could not be graded: {reason}")
    assert data["output"].count("could not be graded") == 1
    assert [t["score"] for t in data["tests"]] == [0, 0]
    assert all(reason in t["output"] and not t["extra_data"]["grader_error"] for t in data["tests"])


def test_a_failed_test_names_the_tasks_it_builds_on_that_lost_points(week_dir):
    """``builds_on(1)``: a task 2 test that runs task 1's code names task 1 when it fails and task 1
    lost points in the run; a passing test, and a test's own task, are never named."""
    week_dir.makepyfile(test_toy="""
        import pytest
        from coursekit.checks import expect_equal, expect_true

        @pytest.mark.task(1)
        @pytest.mark.points(1)
        @pytest.mark.builds_on(1)
        def test_add_seven(submission):
            '''add(7, 1) is 8'''
            expect_equal(submission.toy.add(7, 1), 8, "add(7, 1)")

        @pytest.mark.task(2)
        @pytest.mark.points(1)
        @pytest.mark.builds_on(1)
        def test_uses_add(submission):
            '''a sum built with add'''
            expect_equal(submission.toy.add(7, 2), 9, "add(7, 2)")

        @pytest.mark.task(2)
        @pytest.mark.points(1)
        @pytest.mark.builds_on(1)
        def test_passes(submission):
            '''vector has three entries'''
            expect_true(len(submission.toy.vector()) == 3, "three entries")
    """)
    _, data = run(week_dir)
    by_name = {t["name"].split(": ", 1)[-1]: t for t in data["tests"]}
    assert "Task 1 (Add)" in by_name["a sum built with add"]["output"]
    assert by_name["a sum built with add"]["output"].startswith("add(7, 2): wrong value")
    assert "other tasks" not in by_name["add(7, 1) is 8"]["output"]
    assert by_name["vector has three entries"]["output"] == ""
