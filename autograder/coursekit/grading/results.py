"""Gradescope's results.json: the schema we hold it to, validation, and the atomic write.

The schema follows Gradescope's autograder specification (top-level ``score``, ``tests`` with
``score``/``max_score``/``status``/``name``/``number``/``output``/``tags``/``visibility``, and
``leaderboard`` entries of ``name``/``value``/``order``). We always write the top-level score as
the sum of the test scores, so the two can never disagree.
"""

from __future__ import annotations

import json
import os
import tempfile
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
