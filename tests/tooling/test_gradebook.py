"""The batch's bookkeeping without grading (quick suite): flags read from results, the gradebook's
rows and charts, which results count as current, and when a rerun grades a submission again. The
same code on real gradings: tests/tooling/test_grade_all.py."""

from __future__ import annotations

import csv
import json
import os
import signal
import struct
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from _pytest.outcomes import Failed

from coursekit.authoring import flags as F
from coursekit.authoring import gradebook
from coursekit.authoring.charts import histogram_figure, task_figure
from coursekit.authoring.commands import grade_all as grade_all_mod
from coursekit.authoring.submissions import Submission, Submitter
from coursekit.config import Forbidden, load_week
from coursekit.grading.client import StudentError, WorkerFailure
from coursekit.grading.feedback import describe_failure
from coursekit.grading.locate import SubmissionError, read_student_files
from coursekit.grading.results import validate
from coursekit.grading.static_check import Unreadable, Violation, check_source
from coursekit.paths import Repo

REPO = Repo.here()
WEEK = load_week(REPO, "perceptron")


def entry(test_id: str, task: int | None, score: float, max_score: float = 1.0, output: str = "",
          grader_error: bool = False, public: bool = False, number: str | None = None, record_task=True) -> dict:
    extra = {"id": test_id, "outcome": "passed" if score >= max_score else "failed", "public": public,
             "grader_error": grader_error, "seconds": 0.1}
    if record_task:
        extra["task"] = task
    t = {"name": f"Task {task}: {test_id}", "score": score, "max_score": max_score,
         "status": "passed" if score >= max_score else "failed", "output": output, "visibility": "visible",
         "extra_data": extra}
    if number or task is not None:
        t["number"] = number or f"{task}.1"
    return t


def doc(tests: list[dict], output: str = "", grader: str = "done", fallback: bool = False) -> dict:
    data = {"score": round(sum(t["score"] for t in tests), 6), "tests": tests, "output": output,
            "extra_data": {"grading_run": {"grader": grader}}}
    if fallback:
        data["extra_data"]["fallback"] = True
    validate(data)
    return data


def message(exc, public=False) -> str:
    """What the grader writes for a test that failed with ``exc`` (the real feedback code)."""
    return describe_failure(SimpleNamespace(value=exc), public, WEEK)[0]


# --- flags -------------------------------------------------------------------------------------

def test_each_kind_of_trouble_is_flagged_from_the_graders_own_words(tmp_path):
    rule = Forbidden("torch", ("perceptron.py",), "numpy only")
    static = Violation("torch", "perceptron.py", 20, "predict", rule.reason)
    try:
        read_student_files(tmp_path, ["perceptron.py"])
    except SubmissionError as e:
        unreadable = f"Your submission could not be graded: {e}"  # connect.connect's words
    with pytest.raises(Unreadable) as parse:
        check_source(b"def broken(:\n", "perceptron.py", (rule,))
    cases = {
        F.FORBIDDEN: doc([entry("a", 1, 0, output=message(Failed(f"Task 1 {static.message()}", pytrace=False)))]),
        F.TIMEOUT: doc([entry("b", 3, 0, output=message(WorkerFailure(
            "timeout", "the call did not finish within 20 seconds (an infinite loop, or far too slow)")))]),
        F.UNREADABLE: doc([entry("c", 1, 0, output=message(Failed(unreadable, pytrace=False)))]),
    }
    cases[F.FORBIDDEN + " at run time"] = doc([entry("d", 2, 0, output=message(StudentError(
        {"type": "ForbiddenAPIError", "message": "torch is forbidden here", "frames": []})))])
    cases[F.TIMEOUT + " (CPU)"] = doc([entry("e", 2, 0, output=message(WorkerFailure(
        "crash", "the student's code ended the worker process (killed by SIGXCPU)")))])
    cases[F.UNREADABLE + " (parse)"] = doc([entry("f", 1, 1)], output=f"Note: {parse.value}.")
    cases[F.FORBIDDEN + " (import)"] = doc([entry("g", 1, 1)], output="Warning: perceptron.py line 3 imports "
                                           "torch, which this week forbids; remove the import.")
    cases[F.GRADER_ERROR] = doc([entry("h", 1, 0, grader_error=True)])
    cases[F.TIMEOUT + " (deadline)"] = doc([], output="Grading took longer…", grader="timeout", fallback=True)
    cases[F.GRADER_ERROR + " (crash)"] = doc([], output="The autograder could not produce valid results.",
                                            grader="crashed (exit code 1)", fallback=True)
    for label, results in cases.items():
        found = F.flags(results)
        assert [f.kind for f in found] == [label.split(" (")[0].removesuffix(" at run time")], (label, found)
        assert all(f.detail for f in found)


def test_a_students_own_text_raises_no_flag_and_passing_tests_are_not_read():
    forged = ("Your submission could not be graded: nothing; Task 1 uses torch, which this week forbids; "
              "Your code could not finish: the call did not finish within 1 seconds")
    public = message(StudentError({"type": "ValueError", "message": forged, "frames": []}), public=True)
    assert forged in public
    passing = entry("p", 1, 1, output="Your submission could not be graded: anything")
    assert F.flags(doc([entry("x", 1, 0, output=public, public=True), passing])) == []
    assert F.flags(doc([entry("y", 1, 0.5, output="partial credit: 50% of the points. " + forged.split("; ")[2])])) \
        == [F.Flag(F.TIMEOUT, forged.split("; ")[2])]


def test_repeated_troubles_are_flagged_once_and_no_results_is_not_graded():
    text = "Your submission could not be graded: missing perceptron.py"
    assert F.flags(doc([entry(f"t{i}", 1, 0, output=text) for i in range(5)])) == [F.Flag(F.UNREADABLE, text)]
    assert [f.kind for f in F.flags(None)] == [F.NOT_GRADED]


# --- gradebook rows and which results count ---------------------------------------------------

def _sub(sub_id: str, folder: Path, *people: Submitter) -> Submission:
    path = folder / sub_id
    path.mkdir(parents=True, exist_ok=True)
    (path / "perceptron.py").write_text(f"# {sub_id}\n")
    return Submission(sub_id, path, people)


def _write(results: dict, folder: Path, sub: Submission, graders: str) -> None:
    results = json.loads(json.dumps(results))
    results["extra_data"]["batch"] = gradebook.batch_key(sub, graders)
    folder.mkdir(parents=True, exist_ok=True)
    gradebook.results_path(folder, sub.id).write_text(json.dumps(results))


def test_rows_hold_names_totals_task_points_and_flags(tmp_path):
    ada = Submitter("Ada", "ada@example.edu", "1")
    bob, cy = Submitter("Bob", "bob@example.edu", "2"), Submitter("Cy", "", "3")
    subs = [_sub("s1", tmp_path, ada), _sub("s2", tmp_path, bob, cy), _sub("s3", tmp_path)]
    r1 = doc([entry("a", 1, 1.0, 2.0), entry("b", 1, 2.0, 2.0), entry("c", 3, 0.5, 4.0, record_task=False)])
    r2 = doc([entry("a", 1, 0, 2.0, output="Your submission could not be graded: broken zip")])
    _write(r1, tmp_path / "res", subs[0], "G")
    _write(r2, tmp_path / "res", subs[1], "G")
    graded = gradebook.collect(subs, [tmp_path / "res"], "G")
    rows = gradebook.gradebook_rows(WEEK, graded)
    assert rows[0]["submission"] == "s1"
    assert (rows[0]["names"], rows[0]["emails"], rows[0]["sids"], rows[0]["total"]) == ("Ada", "ada@example.edu",
                                                                                         "1", "3.5")
    assert (rows[0]["task 1"], rows[0]["task 3"], rows[0]["task 2"]) == ("3", "0.5", "0")  # task 3 from "3.1"
    assert (rows[1]["names"], rows[1]["emails"], rows[1]["flags"]) == ("Bob; Cy", "bob@example.edu", "unreadable")
    assert (rows[2]["total"], rows[2]["task 1"], rows[2]["flags"]) == ("", "", "not graded")
    tests = gradebook.per_test_rows(graded)
    a = next(t for t in tests if t["test"] == "a")
    assert (a["submissions"], a["passed"], a["pass_rate"], a["mean_score"]) == (2, 0, "0.000", "0.500")
    assert gradebook.task_pass_rates(WEEK, graded)[1] == 0.0
    flagged = gradebook.flagged_rows(graded)
    assert [(f["submission"], f["flag"]) for f in flagged] == [("s2", "unreadable"), ("s3", "not graded")]


def test_only_results_graded_from_these_files_by_these_graders_count(tmp_path):
    subs = [_sub(f"s{i}", tmp_path / "class") for i in range(4)]
    results = doc([entry("a", 1, 1.0)])
    _write(results, tmp_path / "old", subs[0], "OLD-GRADERS")
    _write(results, tmp_path / "shard2", subs[1], "G")
    _write(results, tmp_path / "shard1", subs[2], "G")
    (subs[2].path / "perceptron.py").write_text("# changed since it was graded\n")
    _write(results, tmp_path / "shard1", subs[3], "G")
    moved = gradebook.results_path(tmp_path / "shard1", subs[3].id)
    moved.rename(gradebook.results_path(tmp_path / "shard1", "s-other"))  # another submission's file
    (tmp_path / "shard1" / "s3.json").write_text("{not json")
    graded = gradebook.collect(subs, [tmp_path / "old", tmp_path / "shard1", tmp_path / "shard2"], "G")
    assert [g.results is not None for g in graded] == [False, True, False, False]


def test_charts_have_the_expected_axes_and_are_written_as_pngs(tmp_path):
    totals = [100.0, 0.0, 95.0, 89.0, 92.0, 100.0]
    fig = histogram_figure(WEEK, totals)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("total score") and ax.get_ylabel() == "submissions"
    assert ax.get_xlim() == (0.0, WEEK.total_points)
    assert sum(p.get_height() for p in ax.patches) == len(totals) and len(ax.patches) == 20
    rates = {t.number: t.number / 10 for t in WEEK.tasks}
    ax = task_figure(WEEK, rates, len(totals)).axes[0]
    assert ax.get_xlabel() == "task" and "full marks (%)" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(t.number) for t in WEEK.tasks]
    assert [round(p.get_height(), 6) for p in ax.patches] == [round(100 * rates[t.number], 6) for t in WEEK.tasks]

    subs = [_sub("s1", tmp_path / "class")]
    _write(doc([entry("a", 1, 1.0)]), tmp_path / "res", subs[0], "G")
    written = gradebook.write(WEEK, gradebook.collect(subs, [tmp_path / "res"], "G"), tmp_path / "out")
    for png in (written.histogram, written.task_chart):
        head = png.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
        width, height = struct.unpack(">II", head[16:24])
        assert width > 400 and height > 300
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [gradebook.GRADEBOOK, gradebook.TESTS, gradebook.FLAGGED, gradebook.HISTOGRAM, gradebook.TASK_CHART])
    with open(written.gradebook, newline="") as f:
        header = next(csv.reader(f))
    assert header == ["submission", "names", "emails", "sids", "total",
                      *[f"task {t.number}" for t in WEEK.tasks], "flags"]


# --- resuming ----------------------------------------------------------------------------------

class FakeGrading:
    """Stands in for commands.grade.grade (the real one: test_grade_all.py): records each call."""

    def __init__(self, fail: set[str] = frozenset()):
        self.calls: list[str] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, repo, week, submission, results, quiet=False, archive=None, hide=()):
        with self.lock:
            self.calls.append(Path(submission).name)
        if Path(submission).name in self.fail:
            raise RuntimeError("run_autograder wrote no results")
        return doc([entry("a", 1, 1.0)])


def test_a_rerun_grades_only_what_has_no_finished_results_for_these_files_and_graders(tmp_path, monkeypatch):
    subs = [_sub(f"s{i}", tmp_path / "class") for i in range(4)]
    graders = grade_all_mod.Graders(tmp_path / "unused.zip", "G1")
    fake = FakeGrading(fail={"s2"})
    monkeypatch.setattr(grade_all_mod, "grade", fake)

    def run(g=graders):
        fake.calls.clear()
        outcome = grade_all_mod.grade_all(REPO, WEEK, subs, tmp_path / "res", g, jobs=2, progress=False)
        return outcome, sorted(fake.calls)

    outcome, calls = run()
    assert calls == ["s0", "s1", "s2", "s3"] and sorted(outcome.graded) == calls and outcome.failed == ["s2"]
    failed = gradebook.read(gradebook.results_path(tmp_path / "res", "s2"))
    assert failed is not None and not gradebook.complete(failed) and failed["score"] == 0
    assert "RuntimeError" in failed["extra_data"]["batch"]["error"]
    assert [f.kind for f in F.flags(failed)] == [F.GRADER_ERROR]
    fake.fail = set()
    outcome, calls = run()
    assert calls == ["s2"] and sorted(outcome.skipped) == ["s0", "s1", "s3"]  # only the batch's failure
    (subs[1].path / "perceptron.py").write_text("# a new upload\n")
    assert run()[1] == ["s1"]
    assert run()[1] == []
    assert run(grade_all_mod.Graders(graders.archive, "G2"))[1] == ["s0", "s1", "s2", "s3"]
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == [f"s{i}.json" for i in range(4)]
    batch = json.loads((tmp_path / "res" / "s0.json").read_text())["extra_data"]["batch"]
    assert batch["graders"] == "G2" and batch["submission"] == "s0"


def test_sigterm_like_ctrl_c_stops_new_gradings_without_leaving(monkeypatch):
    messages = []
    before = signal.getsignal(signal.SIGTERM)
    with grade_all_mod._Stop(threading.Lock(), messages.append) as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.event.wait(5)
    assert signal.getsignal(signal.SIGTERM) == before
    assert messages and "no new grading starts" in messages[0]


def test_the_graders_hash_is_the_same_for_a_tree_and_its_zip(tmp_path):
    from coursekit.authoring.commands.autograder import contents, write_zip

    files = contents(REPO, WEEK)
    write_zip(files, tmp_path / "w.zip")
    assert grade_all_mod.current_graders_hash(REPO, WEEK) == grade_all_mod.current_graders_hash(
        REPO, WEEK, tmp_path / "w.zip") == grade_all_mod.graders_hash(files)
    files["tests/hidden/test_hidden_perceptron_xor.py"] += b"\n"
    assert grade_all_mod.graders_hash(files) != grade_all_mod.current_graders_hash(REPO, WEEK)


# --- the batch benchmark's own checks -----------------------------------------------------------

def test_the_batch_bench_catches_missing_results_wrong_totals_and_wrong_scores(tmp_path):
    from coursekit.authoring.class_export import Planted
    from coursekit.authoring.commands.bench import PeakMemory, check_batch

    subs = [_sub(f"s{i}", tmp_path / "class") for i in range(3)]
    for sub, score in zip(subs[:2], (1.0, 0.0)):
        _write(doc([entry("a", 1, score)]), tmp_path / "res", sub, "G")
    planted = [Planted(s.id, "reference", lambda r: [] if r["score"] == 1.0 else ["not full marks"], ())
               for s in subs]
    rows = [{"submission": "s0", "total": "1"}, {"submission": "s1", "total": "1"}]
    problems = check_batch(WEEK, planted, tmp_path / "res", rows)
    assert problems == ["s1 (reference): gradebook total '1', results 0", "s1 (reference): not full marks",
                        "s2 (reference): no valid, finished results"]
    rows[1]["total"] = "0"
    planted[1] = Planted("s1", "stencil", lambda r: [], ())
    assert check_batch(WEEK, planted[:2], tmp_path / "res", rows) == []
    with PeakMemory(interval=0.05) as memory:
        time.sleep(0.2)
    assert memory.peak_mb > 10  # this interpreter alone


def test_a_submitters_name_cannot_become_a_spreadsheet_formula(tmp_path):
    """A name typed by a student (``=HYPERLINK(...)``) is written as text; numbers stay numbers."""
    rows = [{"name": '=HYPERLINK("http://x","y")', "email": "@x", "total": "-1.5", "plain": "Ada"}]
    path = gradebook.write_csv(rows, tmp_path / "g.csv", ["name", "email", "total", "plain"])
    row = next(csv.DictReader(path.open(encoding="utf-8")))
    assert row == {"name": '\'=HYPERLINK("http://x","y")', "email": "'@x", "total": "-1.5", "plain": "Ada"}
