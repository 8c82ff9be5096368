"""Gradescope's results.json: the schema we hold it to, validation, and the atomic write.

The schema follows Gradescope's autograder specification (top-level ``score``, ``tests`` with
``score``/``max_score``/``status``/``name``/``number``/``output``/``tags``/``visibility``, and
``leaderboard`` entries of ``name``/``value``/``order``). We always write the top-level score as
the sum of the test scores, so the two can never disagree.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

MAX_OUTPUT_CHARS = 100_000  # Gradescope cuts longer strings; we cut first, keeping head and tail

VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"]
FORMATS = ["text", "html", "simple_format", "md", "ansi"]

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["score", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string", "maxLength": MAX_OUTPUT_CHARS},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": {"enum": VISIBILITIES},
        "stdout_visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": {"enum": FORMATS},
                    "number": {"type": "string"},
                    "output": {"type": "string", "maxLength": MAX_OUTPUT_CHARS},
                    "output_format": {"enum": FORMATS},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"enum": VISIBILITIES},
                    "extra_data": {"type": "object"},
                },
            },
        },
        "leaderboard": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "value": {"type": ["number", "string"]},
                    "order": {"enum": ["asc", "desc"]},
                },
            },
        },
    },
}


class InvalidResults(ValueError):
    """A results document that Gradescope would reject or misread."""


def clip(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """``text`` within ``limit`` characters, keeping its head and tail."""
    if len(text) <= limit:
        return text
    marker = "\n[… output shortened …]\n"
    keep = (limit - len(marker)) // 2
    return text[:keep] + marker + text[-keep:]


_compiled = None


def validate(results: dict) -> None:
    """Raise :class:`InvalidResults` unless ``results`` matches the schema and its score is the sum.

    fastjsonschema compiles the schema once and imports in milliseconds; jsonschema takes over a
    second to import, which every graded submission would pay.
    """
    global _compiled
    import fastjsonschema

    if _compiled is None:
        _compiled = fastjsonschema.compile(SCHEMA)
    try:
        _compiled(results)
    except fastjsonschema.JsonSchemaException as e:
        raise InvalidResults(f"results.json: {e.message}") from None
    total = sum(t.get("score", 0) for t in results["tests"])
    if abs(total - results["score"]) > 1e-6:
        raise InvalidResults(f"results.json: score {results['score']} is not the sum of test scores {total}")
    for i, t in enumerate(results["tests"]):
        if "max_score" in t and t.get("score", 0) > t["max_score"] + 1e-9:
            raise InvalidResults(f"results.json at tests/{i}: score exceeds max_score")
    json.dumps(results, allow_nan=False)  # NaN is not JSON: raises ValueError


def write_atomic(results: dict, path: Path) -> None:
    """Validate, then write ``results`` to ``path`` through a temporary file and a rename."""
    validate(results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fallback(message: str) -> dict:
    """The results a grading run leaves when nothing better is possible: score 0 and why."""
    return {"score": 0, "output": clip(message), "tests": [], "extra_data": {"fallback": True}}


def _finite(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _sane(rec: Any) -> str | None:
    """What is wrong with a record's own values (a grader's mistake), or None."""
    if not _finite(rec.points) or rec.points < 0:
        return f"its points are {rec.points!r}"
    if rec.visibility not in VISIBILITIES:
        return f"its visibility is {rec.visibility!r}"
    if rec.credit is not None and not (_finite(rec.credit) and 0 <= rec.credit <= 1):
        return f"its partial credit is {rec.credit!r}"
    return None


def build(state: Any) -> dict:
    """Gradescope's results document from a run's :class:`~coursekit.grading.records.GradingState`:
    every collected test in task order, its score (points × credit), and the run's extra data.

    A bad value in one test (NaN points, an unknown visibility, credit out of range) fails that
    test as a grader error, and a bad leaderboard value drops that entry: never the whole file."""
    tests = []
    for rec in state.ordered():
        problem = _sane(rec)
        if problem is not None:
            rec.outcome, rec.grader_error, rec.credit = "failed", True, None
            rec.output = (f"The grader hit an internal error on this test ({problem}); this is not your "
                          "fault, and your course staff will look into it.")
            rec.points = rec.points if _finite(rec.points) and rec.points >= 0 else 0.0
            rec.visibility = rec.visibility if rec.visibility in VISIBILITIES else "visible"
        if rec.outcome == "passed":
            fraction = 1.0 if rec.credit is None else rec.credit
        elif rec.outcome == "failed":
            fraction = rec.credit or 0.0
        else:
            fraction = 0.0
        score = round(rec.points * fraction, 6)
        rec.score = score
        output = rec.output
        if rec.outcome == "not run":
            output = "not run (the grading run ended before this test)"
        if rec.credit is not None and rec.outcome in ("passed", "failed"):
            output = (f"partial credit: {rec.credit:.0%} of the points. " + output).strip()
        entry = {"name": rec.name, "score": score, "max_score": rec.points,
                 "status": "passed" if score >= rec.points and rec.outcome == "passed" else "failed",
                 "output": clip(output), "visibility": rec.visibility,
                 "extra_data": {"id": rec.test_id, "task": rec.task, "outcome": rec.outcome,
                                "public": rec.public, "grader_error": rec.grader_error,
                                "seconds": round(rec.duration, 3)}}
        if rec.number:
            entry["number"] = str(rec.number)
        if rec.tags:
            entry["tags"] = [str(t) for t in rec.tags]
        tests.append(entry)
    for nodeid, text in state.collection_errors:
        tests.append({"name": f"Could not load the grader's tests in {nodeid}", "score": 0.0,
                      "max_score": 0.0, "status": "failed", "visibility": "visible",
                      "output": "The grader's own tests failed to load; this is not your fault. "
                                "Your course staff has been notified.",
                      "extra_data": {"outcome": "collection error", "grader_error": True}})
    missing = _missing_points(state)
    if missing > 1e-9:
        tests.append({"name": "Tests that could not run", "score": 0.0, "max_score": missing,
                      "status": "failed", "visibility": "visible",
                      "output": "Some of the grader's tests could not be loaded, so their points "
                                "could not be awarded. Your course staff has been notified.",
                      "extra_data": {"outcome": "missing", "grader_error": True}})
    total = round(sum(t["score"] for t in tests), 6)
    results = {"score": total, "tests": tests,
               "execution_time": round(time.monotonic() - state.started, 3),
               "output": "\n".join(state.notes), "extra_data": _extra_data(state)}
    board = [e for e in state.leaderboard if isinstance(e.get("value"), str) or _finite(e.get("value"))]
    if len(board) < len(state.leaderboard):
        results["output"] = (results["output"] + "\nA leaderboard value was not a finite number and "
                             "was left out; your course staff has been notified.").strip()
    if board:
        results["leaderboard"] = board
    return results


def _missing_points(state: Any) -> float:
    """Points the config promises that no collected test carries (only for a full, unfiltered run)."""
    if state.week is None or state.task_filter is not None or not state.collection_errors:
        return 0.0
    collected = sum(r.points for r in state.records.values())
    return max(state.week.total_points - collected, 0.0)


#: Integrity flags kept per submission (a file can repeat one construct many times).
MAX_INTEGRITY_FLAGS = 50


def _extra_data(state: Any) -> dict:
    import platform
    import resource
    import sys

    data = {"week": getattr(state.week, "name", None), "mode": state.mode, "device": state.device,
            "python": platform.python_version(),
            "seconds": round(time.monotonic() - state.started, 3)}
    torch = sys.modules.get("torch")
    if torch is not None:
        data["torch"] = torch.__version__
    # Peak resident memory in MB (Linux reports KiB): this process, and the largest reaped worker.
    data["peak_rss_mb"] = {"grader": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                           "worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
    channels = state.channels
    data["isolation"] = getattr(channels[0], "isolation", "none: the student's code ran in this process") \
        if channels else "no student code ran"
    data["workers"] = len(channels)
    filters = sorted({c.worker_status.get("syscall_filter") or "none"
                      for c in channels if getattr(c, "worker_status", None)})
    if filters:
        data["syscall_filter"] = filters if len(filters) > 1 else filters[0]
    flags = getattr(state, "integrity", None)
    if flags:  # for staff (extra_data and the run's log), never in a test's output
        data["integrity"] = [f.as_dict() for f in flags[:MAX_INTEGRITY_FLAGS]]
    if getattr(state, "setup_error", None):
        data["setup_error"] = state.setup_error
    failures = [f for c in channels for f in getattr(c, "failures", [])]
    if failures:
        data["worker_failures"] = failures
    return data


def points_table(results: dict) -> str:
    """A plain-text table of a results document, for terminals."""
    rows = [(t.get("number", ""), t.get("name", ""), t.get("score", 0), t.get("max_score", 0))
            for t in results.get("tests", [])]
    width = max([len(r[1]) for r in rows] + [4])
    width = min(width, 70)
    lines = [f"{'#':<6} {'test':<{width}} {'score':>12}"]
    for number, name, score, max_score in rows:
        lines.append(f"{number:<6} {name[:width]:<{width}} {score:>5.2f} / {max_score:<5.2f}")
    total_max = sum(r[3] for r in rows)
    lines.append(f"{'':<6} {'TOTAL':<{width}} {results.get('score', 0):>5.2f} / {total_max:<5.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m coursekit.grading.results FILE``: exit 0 if FILE is valid results, else 1."""
    import sys
    args = sys.argv[1:] if argv is None else argv
    try:
        validate(json.loads(Path(args[0]).read_text(encoding="utf-8")))
    except (OSError, ValueError, IndexError) as e:
        print(f"invalid results: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
