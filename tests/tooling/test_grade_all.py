"""Batch grading end to end, through the real grading path: a small Gradescope export of week-1
submissions (the reference, the stencil, known-bad ones, one uploaded as a zip, one using a
forbidden API, one broken zip, a group submission) graded two at a time. An interrupted run leaves
only whole results and a rerun grades only the rest; two shards run as separate processes (one
through the Slurm script) merge into the same gradebook as the single run."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from coursekit.authoring import flags as F
from coursekit.authoring import gradebook, known_bad
from coursekit.authoring.class_export import Planted, place, synthetic_export, write_metadata
from coursekit.authoring.commands import grade_all as grade_all_mod
from coursekit.authoring.commands import gradebook as gradebook_cmd
from coursekit.authoring.submissions import Submitter, content_hash
from coursekit.config import load_week
from coursekit.paths import Repo

pytestmark = pytest.mark.slow

REPO = Repo.here()
WEEK = load_week(REPO, "perceptron")
SLURM_SCRIPT = REPO.root / "autograder/coursekit/authoring/slurm/grade_all.sbatch"
FORBIDDEN_ID, BROKEN_ID = "submission_900001", "submission_900002"
RESULT_NAME = re.compile(r"submission_\d{6}\.json")


def _reference_with_torch_in_predict(tmp: Path) -> dict[str, bytes]:
    """The reference, but predict (task 1) computes with torch, which week 1 forbids."""
    change = ("perceptron.py", "    return np.where(scores >= 0, 1, -1).astype(np.int64)\n",
              "    import torch\n"
              "    return torch.where(torch.as_tensor(scores) >= 0, 1, -1).numpy().astype(np.int64)\n")
    bad = known_bad.KnownBad("uses_torch", tmp / "expected.toml", "", (change,))
    folder = known_bad.materialize(bad, REPO.solution(WEEK.name), WEEK, tmp / "uses_torch")
    return {"perceptron.py": (folder / "perceptron.py").read_bytes()}


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, dict[str, Planted]]:
    root = tmp_path_factory.mktemp("class")
    folder = root / "assignment_1_export"
    planted = synthetic_export(REPO, WEEK, folder, count=6, zip_every=5)
    planted[0] = dataclasses.replace(planted[0], submitters=(
        Submitter("Ada Lovelace", "ada@example.edu", "1815"), Submitter("Alan Turing", "alan@example.edu", "1912")))
    place(_reference_with_torch_in_predict(root), folder / FORBIDDEN_ID, as_zip=False)
    (folder / BROKEN_ID).mkdir()
    (folder / BROKEN_ID / "submission.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    planted += [Planted(FORBIDDEN_ID, "forbidden", lambda r: [], (Submitter("Eve", "eve@example.edu", "9"),)),
                Planted(BROKEN_ID, "broken zip", lambda r: [], (Submitter("Mallory", "m@example.edu", "8"),))]
    write_metadata(folder, planted)
    assert [p.kind for p in planted[:6]] == ["reference", "stencil", "known-bad bce_naive", "known-bad grad_sum",
                                             "known-bad logreg_no_bias", "known-bad multiclass_no_subtract"]
    assert (folder / planted[4].id / "submission.zip").is_file()  # one upload is a zip
    return folder, {p.id: p for p in planted}


def _results(folder: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


@pytest.fixture(scope="module")
def single(export, tmp_path_factory) -> SimpleNamespace:
    """grade-all with 2 jobs as a subprocess, interrupted (SIGINT) once results appear; then the
    same command again, in this process, to finish."""
    folder, planted = export
    out = tmp_path_factory.mktemp("single")
    before = content_hash(folder)
    cmd = [sys.executable, "-m", "coursekit", "grade-all", WEEK.name, str(folder), "--jobs", "2", "--out", str(out),
           "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 600
    while not list((out / "results").glob("*.json")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    first_output, _ = proc.communicate(timeout=600)
    after_interrupt = sorted(p.name for p in (out / "results").iterdir())
    stats = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "results").iterdir()}
    first_results = _results(out / "results")
    gradebook_after_interrupt = (out / gradebook.GRADEBOOK).exists()
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        rc = grade_all_mod.main(week=WEEK.name, submissions=str(folder), jobs=2, out=str(out), progress=False)
    return SimpleNamespace(out=out, first_rc=proc.returncode, first_output=first_output,
                           after_interrupt=after_interrupt, stats=stats, first_results=first_results,
                           had_gradebook=gradebook_after_interrupt,
                           rerun_rc=rc, rerun_output=text.getvalue(), export_unchanged=content_hash(folder) == before,
                           results=_results(out / "results"))


def test_an_interrupted_run_leaves_only_whole_results_and_a_rerun_grades_only_the_rest(single, export):
    _, planted = export
    assert single.first_rc == 130, single.first_output
    assert "interrupted" in single.first_output
    kept = len(single.after_interrupt)
    assert 0 < kept < len(planted), single.first_output
    assert all(RESULT_NAME.fullmatch(name) for name in single.after_interrupt), single.after_interrupt  # no temp file
    for sub_id, results in single.first_results.items():
        assert gradebook.read(single.out / "results" / f"{sub_id}.json") is not None
        assert gradebook.complete(results) and results["extra_data"]["batch"]["submission"] == sub_id
    assert not single.had_gradebook  # an interrupted run writes no gradebook
    assert single.rerun_rc == 0, single.rerun_output
    assert f"graded {len(planted) - kept}, kept {kept} already graded" in single.rerun_output
    for name, stat in single.stats.items():  # the first run's results were kept as they were
        path = single.out / "results" / name
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == stat
    assert sorted(single.results) == sorted(planted)
    assert single.export_unchanged


def test_every_submission_gets_valid_results_and_exactly_its_expected_score(single, export):
    _, planted = export
    for sub_id, p in planted.items():
        results = single.results[sub_id]
        assert gradebook.read(single.out / "results" / f"{sub_id}.json") is not None
        assert gradebook.complete(results), sub_id
        assert p.check(results) == [], (p.kind, p.check(results))
        if p.kind.startswith("known-bad "):
            spec = known_bad.load(REPO.known_bad(WEEK.name) / p.kind.removeprefix("known-bad ") / "expected.toml")
            assert WEEK.total_points - results["score"] == pytest.approx(spec.lost)
    task1 = WEEK.task(1).points
    forbidden = single.results[FORBIDDEN_ID]
    assert forbidden["score"] == pytest.approx(WEEK.total_points - task1)
    assert gradebook.task_points(forbidden)[1] == 0
    broken = single.results[BROKEN_ID]
    assert broken["score"] == 0 and broken["tests"]
    assert all(t["output"].startswith("Your submission could not be graded") for t in broken["tests"])


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_gradebook_holds_the_results_names_flags_and_charts(single, export):
    _, planted = export
    rows = {r["submission"]: r for r in _csv(single.out / gradebook.GRADEBOOK)}
    assert sorted(rows) == sorted(planted)
    for sub_id, row in rows.items():
        results = single.results[sub_id]
        assert float(row["total"]) == pytest.approx(results["score"])
        tasks = [float(row[f"task {t.number}"]) for t in WEEK.tasks]
        assert sum(tasks) == pytest.approx(results["score"])
        people = planted[sub_id].submitters
        assert row["names"] == "; ".join(p.name for p in people)
        assert row["emails"] == "; ".join(p.email for p in people)
    reference = next(p.id for p in planted.values() if p.kind == "reference")
    assert rows[reference]["names"] == "Ada Lovelace; Alan Turing"
    assert [float(rows[reference][f"task {t.number}"]) for t in WEEK.tasks] == [t.points for t in WEEK.tasks]
    assert rows[FORBIDDEN_ID]["flags"] == F.FORBIDDEN and rows[BROKEN_ID]["flags"] == F.UNREADABLE
    assert {(r["submission"], r["flag"]) for r in _csv(single.out / gradebook.FLAGGED)} == {
        (FORBIDDEN_ID, F.FORBIDDEN), (BROKEN_ID, F.UNREADABLE)}
    tests = _csv(single.out / gradebook.TESTS)
    assert len(tests) == len(single.results[reference]["tests"])
    for row in tests:
        passed = sum(any(t["extra_data"]["id"] == row["test"] and t["status"] == "passed" for t in r["tests"])
                     for r in single.results.values())
        assert int(row["passed"]) == passed and int(row["submissions"]) == len(planted)
    for chart in (gradebook.HISTOGRAM, gradebook.TASK_CHART):
        assert (single.out / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_two_shards_as_separate_processes_merge_into_the_single_runs_gradebook(single, export, tmp_path):
    folder, planted = export
    ids = sorted(planted)
    slurm = dict(os.environ, SLURM_ARRAY_TASK_ID="0", SLURM_ARRAY_TASK_MIN="0", SLURM_ARRAY_TASK_COUNT="2",
                 SLURM_CPUS_PER_TASK="1", SLURM_SUBMIT_DIR=str(REPO.root), COURSEKIT_PYTHON=sys.executable)
    first = subprocess.Popen(["bash", str(SLURM_SCRIPT), WEEK.name, str(folder), "--out", str(tmp_path / "a")],
                             env=slurm, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    second = subprocess.Popen([sys.executable, "-m", "coursekit", "grade-all", WEEK.name, str(folder), "--shard",
                               "2/2", "--jobs", "1", "--out", str(tmp_path / "b"), "--no-progress"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs = [p.communicate(timeout=900)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert "shard 1/2" in outputs[0] and "shard 2/2" in outputs[1]
    assert sorted(_results(tmp_path / "a" / "results")) == ids[0::2]
    assert sorted(_results(tmp_path / "b" / "results")) == ids[1::2]
    assert not (tmp_path / "a" / gradebook.GRADEBOOK).exists()  # a shard writes results only
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        rc = gradebook_cmd.main(week=WEEK.name, submissions=str(folder), out=str(tmp_path / "merged"),
                                results=[str(tmp_path / "a" / "results"), str(tmp_path / "b" / "results")])
    assert rc == 0, text.getvalue()
    for name in (gradebook.GRADEBOOK, gradebook.TESTS, gradebook.FLAGGED):
        assert (tmp_path / "merged" / name).read_text() == (single.out / name).read_text(), name
    with contextlib.redirect_stdout(io.StringIO()):  # one shard alone: the other half is not graded
        assert gradebook_cmd.main(week=WEEK.name, submissions=str(folder), out=str(tmp_path / "half"),
                                  results=[str(tmp_path / "a" / "results")]) == 1
    assert {r["submission"] for r in _csv(tmp_path / "half" / gradebook.FLAGGED) if r["flag"] == F.NOT_GRADED} \
        == set(ids[1::2])
