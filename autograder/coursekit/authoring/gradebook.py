"""A class's results, gathered into the files a TA reads: the gradebook, per-test pass rates, the
flagged list, and two charts (:mod:`coursekit.authoring.charts`).

Batch grading (``commands.grade_all``) keeps one results.json per submission,
``<results>/<submission id>.json``: Gradescope's document, plus ``extra_data.batch``, the key it
was graded under (the submission's id, a hash of its files, a hash of the graders) and who
submitted it. :func:`collect` takes, for each submission, the results whose key matches the
submission and graders now; anything else (another grader's, an older upload's) is not current.

Written into the output folder:

- ``gradebook.csv``: one row per submission: ``submission``, ``names``, ``emails``, ``sids``
  (``; `` between group members), ``total``, one ``task <n>`` column of points per task, ``flags``;
- ``tests.csv``: per test (by its stable id): its task, points, how many submissions passed it, the
  pass rate and the mean score;
- ``flagged.csv``: one row per flag (see :mod:`coursekit.authoring.flags`) with its detail;
- ``scores.png`` (histogram of totals) and ``tasks.png`` (share of full marks per task).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..config import WeekConfig
from . import flags as flags_mod
from .submissions import Submission, content_hash

GRADEBOOK = "gradebook.csv"
TESTS = "tests.csv"
FLAGGED = "flagged.csv"
HISTOGRAM = "scores.png"
TASK_CHART = "tasks.png"


def results_path(results_dir: Path, submission_id: str) -> Path:
    return Path(results_dir) / f"{submission_id}.json"


def batch_key(submission: Submission, graders: str, files: str | None = None) -> dict:
    """What a submission's results are keyed by: the submission, its files, and the graders."""
    return {"submission": submission.id, "files": files if files is not None else content_hash(submission.path),
            "graders": graders}


def matches(results: dict, key: dict) -> bool:
    """Whether ``results`` were graded under ``key`` (same submission, files and graders)."""
    batch = (results.get("extra_data") or {}).get("batch") or {}
    return all(batch.get(k) == v for k, v in key.items())


def complete(results: dict) -> bool:
    """Whether the grading run finished its own protocol (the supervisor recorded the run), so a
    rerun need not grade the submission again."""
    extra = results.get("extra_data") or {}
    return bool(extra.get("grading_run")) and not (extra.get("batch") or {}).get("error")


def read(path: Path) -> dict | None:
    """A results file when it is valid Gradescope results, else ``None``."""
    from ..grading.results import validate

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        validate(data)
    except (OSError, ValueError):
        return None
    return data


@dataclass
class Graded:
    submission: Submission
    results: dict | None  # None: no current results
    flags: list = field(default_factory=list)


def collect(submissions: list[Submission], results_dirs: list[Path], graders: str) -> list[Graded]:
    """Each submission with its current results from any of ``results_dirs`` (the first folder
    that has them; shards may have written to different folders), and its flags."""
    out = []
    for sub in sorted(submissions, key=lambda s: s.id):
        key = batch_key(sub, graders)
        found = None
        for folder in results_dirs:
            data = read(results_path(folder, sub.id))
            if data is not None and matches(data, key):
                found = data
                break
        out.append(Graded(sub, found, flags_mod.flags(found)))
    return out


def task_of(test: dict) -> int | None:
    """The task a results entry belongs to: recorded by the grader, else the number's ``task.k``."""
    task = (test.get("extra_data") or {}).get("task")
    if type(task) is int:
        return task
    head = str(test.get("number", "")).partition(".")[0]
    return int(head) if head.isdigit() else None


def task_points(results: dict | None) -> dict[int, float]:
    points: dict[int, float] = {}
    for test in (results or {}).get("tests", []):
        task = task_of(test)
        if task is not None:
            points[task] = points.get(task, 0.0) + float(test.get("score", 0))
    return points


def _join(values) -> str:
    return "; ".join(v for v in values if v)


def gradebook_rows(week: WeekConfig, graded: list[Graded]) -> list[dict]:
    rows = []
    for g in graded:
        row = {"submission": g.submission.id,
               "names": _join(p.name for p in g.submission.submitters),
               "emails": _join(p.email for p in g.submission.submitters),
               "sids": _join(p.sid for p in g.submission.submitters),
               "total": _number(g.results["score"]) if g.results else ""}
        points = task_points(g.results)
        for task in week.tasks:
            row[f"task {task.number}"] = _number(points.get(task.number, 0.0)) if g.results else ""
        row["flags"] = _join(dict.fromkeys(f.kind for f in g.flags))
        rows.append(row)
    return rows


def _test_key(test: dict) -> str:
    return (test.get("extra_data") or {}).get("id") or test.get("name", "")


def per_test_rows(graded: list[Graded]) -> list[dict]:
    """Per test: how the submissions with results did on it (a test missing from a submission's
    results, as after a timeout, counts as not passed)."""
    with_results = [{_test_key(t): t for t in g.results.get("tests", [])}
                    for g in graded if g.results is not None]
    first: dict[str, dict] = {}
    for tests in with_results:
        for key, test in tests.items():
            first.setdefault(key, test)
    rows = []
    count = len(with_results)
    for key, test in first.items():
        entries = [tests[key] for tests in with_results if key in tests]
        passed = sum(t.get("status") == "passed" for t in entries)
        total = sum(float(t.get("score", 0)) for t in entries)
        rows.append({"test": key, "number": test.get("number", ""), "task": task_of(test) or "",
                     "name": test.get("name", ""), "max_points": _number(test.get("max_score", 0)),
                     "submissions": count, "passed": passed,
                     "pass_rate": f"{passed / count:.3f}" if count else "",
                     "mean_score": f"{total / count:.3f}" if count else ""})
    return rows


def task_pass_rates(week: WeekConfig, graded: list[Graded]) -> dict[int, float]:
    """Per task, the share of submissions with results that got all of its points."""
    with_results = [g.results for g in graded if g.results is not None]
    rates = {}
    for task in week.tasks:
        full = sum(task_points(r).get(task.number, 0.0) >= task.points - 1e-9 for r in with_results)
        rates[task.number] = full / len(with_results) if with_results else math.nan
    return rates


def flagged_rows(graded: list[Graded]) -> list[dict]:
    return [{"submission": g.submission.id, "names": _join(p.name for p in g.submission.submitters),
             "emails": _join(p.email for p in g.submission.submitters), "flag": f.kind, "detail": f.detail}
            for g in graded for f in g.flags]


def _number(value: float) -> str:
    """Points as written in results (``6``, ``5.5``), without float noise."""
    return f"{round(float(value), 6):g}"


#: A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """``value``, or for text that a spreadsheet would run as a formula (a submitter's name such as
    ``=HYPERLINK(...)``), the same text behind a ``'``; numbers, negative ones included, unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def write_csv(rows: list[dict], path: Path, header: list[str]) -> Path:
    """Write ``rows`` through a temporary file and a rename (a reader never sees half a file); text
    cells are made safe to open in a spreadsheet (``spreadsheet_safe``)."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@dataclass
class Written:
    gradebook: Path
    tests: Path
    flagged: Path
    histogram: Path
    task_chart: Path
    graded: list[Graded]

    @property
    def missing(self) -> list[str]:
        return [g.submission.id for g in self.graded if g.results is None]


def write(week: WeekConfig, graded: list[Graded], out: Path) -> Written:
    """Every gradebook file for ``graded`` into ``out``; returns their paths."""
    from . import charts

    out = Path(out)
    task_columns = [f"task {t.number}" for t in week.tasks]
    book = write_csv(gradebook_rows(week, graded), out / GRADEBOOK,
                     ["submission", "names", "emails", "sids", "total", *task_columns, "flags"])
    tests = write_csv(per_test_rows(graded), out / TESTS,
                      ["test", "number", "task", "name", "max_points", "submissions", "passed", "pass_rate",
                       "mean_score"])
    flagged = write_csv(flagged_rows(graded), out / FLAGGED, ["submission", "names", "emails", "flag", "detail"])
    totals = [float(g.results["score"]) for g in graded if g.results is not None]
    histogram = charts.score_histogram(week, totals, out / HISTOGRAM)
    task_chart = charts.task_pass_rates(week, task_pass_rates(week, graded), len(totals), out / TASK_CHART)
    return Written(book, tests, flagged, histogram, task_chart, graded)


def summary(week: WeekConfig, written: Written) -> str:
    """A few lines for the terminal: counts, mean and median, flags, and where the files are."""
    import statistics

    totals = [float(g.results["score"]) for g in written.graded if g.results is not None]
    lines = [f"{week.name}: {len(totals)} of {len(written.graded)} submissions graded"]
    if totals:
        lines[0] += (f"; mean {statistics.mean(totals):.1f}, median {statistics.median(totals):g} "
                     f"of {week.total_points:g}")
    counts: dict[str, int] = {}
    for g in written.graded:
        for kind in dict.fromkeys(f.kind for f in g.flags):
            counts[kind] = counts.get(kind, 0) + 1
    if counts:
        lines.append("flagged: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    lines.append(f"gradebook: {written.gradebook}")
    lines.append(f"per-test pass rates: {written.tests}; flagged list: {written.flagged}")
    lines.append(f"charts: {written.histogram}, {written.task_chart}")
    return "\n".join(lines)
