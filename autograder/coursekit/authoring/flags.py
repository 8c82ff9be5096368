"""Why a graded submission needs a TA's eyes, read from its results.json.

A flag comes from what the grading run recorded itself, never from text the student's code
controls: the structured fields (``extra_data.grading_run.grader``, ``extra_data.fallback``, each
test's ``extra_data.grader_error``) and the grader-authored opening of a failed test's message (the
grader writes every message's first words; a student's text can only follow them, see
``grading.feedback``), and the run's own notes in the top-level ``output``.

- *forbidden API*: a task's code uses an API the week forbids (the static check, or the module
  refused at run time), or a file imports one without using it (a warning to the student);
- *grader error*: a test the grader could not judge, a grader that crashed or left no valid
  results, or a submission the batch itself could not grade;
- *timeout*: a call that did not finish within its limit, a worker stopped for CPU time, or a
  whole grading stopped at its deadline;
- *unreadable*: the declared files could not be read (missing, a broken zip, too large) or parsed;
- *not graded*: no current results (a shard that has not finished, an interrupted run);
- *integrity*: a construct that only serves to evade the rules (``grading.integrity``: run-time
  code, introspection, computed names on torch or numpy, torch internals, ``ctypes``, large
  embedded data), with file and line, for a TA to read; it never changed the score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FORBIDDEN = "forbidden API"
GRADER_ERROR = "grader error"
TIMEOUT = "timeout"
UNREADABLE = "unreadable"
NOT_GRADED = "not graded"
INTEGRITY = "integrity"
KINDS = (FORBIDDEN, GRADER_ERROR, TIMEOUT, UNREADABLE, NOT_GRADED, INTEGRITY)

#: Openings of a failed test's message, all written by the grader (connect.py, feedback.py,
#: sandbox.py); what follows them may be the student's.
_OPENINGS = [
    (re.compile(r"Task \d+ uses \S+, which this week forbids"), FORBIDDEN),
    (re.compile(r"Your code used an API this week forbids"), FORBIDDEN),
    (re.compile(r"Your code could not finish: the call did not finish within"), TIMEOUT),
    (re.compile(r"Your code could not finish: the student's code ended the worker process \(killed by SIGXCPU\)"),
     TIMEOUT),
    (re.compile(r"Your submission could not be graded: "), UNREADABLE),
]
#: Prefixes results.build and the plugin put before a message.
_PREFIXES = re.compile(r"^(partial credit: \d+% of the points\. )?(\(after the test\) )?")
#: The run's own notes (top-level output, one per line).
_NOTES = [
    (re.compile(r"^Warning: .+ imports \S+, which this week forbids"), FORBIDDEN),
    (re.compile(r"^Note: .+ could not be parsed \(\w+\)"), UNREADABLE),
]


@dataclass(frozen=True)
class Flag:
    kind: str
    detail: str


def _first_line(text: str, limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[:limit] + "…"


def flags(results: dict | None) -> list[Flag]:
    """The flags of one submission's results (``None``: it has none), each with a short detail, in
    a stable order and without repeats of the same kind and detail."""
    if results is None:
        return [Flag(NOT_GRADED, "no current results: not graded yet, or its shard did not finish")]
    found: list[Flag] = []
    extra = results.get("extra_data") or {}
    batch_error = (extra.get("batch") or {}).get("error")
    if batch_error:
        found.append(Flag(GRADER_ERROR, f"the batch could not grade it: {_first_line(batch_error)}"))
    grader = str((extra.get("grading_run") or {}).get("grader", ""))
    if grader == "timeout":
        found.append(Flag(TIMEOUT, "the whole grading was stopped at its deadline"))
    elif not batch_error and (grader.startswith("crashed") or extra.get("fallback")):
        what = f"the grader {grader}" if grader.startswith("crashed") else "the grader left no valid results"
        if extra.get("fallback"):
            what += f": {_first_line(results.get('output', ''))}"
        found.append(Flag(GRADER_ERROR, what))
    for item in (extra.get("integrity") or [])[:50]:  # the grader's own reading of the files
        if isinstance(item, dict):
            found.append(Flag(INTEGRITY, _first_line(f"{item.get('kind')}: {item.get('file')} line "
                                                     f"{item.get('line')}: {item.get('detail')}")))
    for line in str(results.get("output", "")).splitlines():
        for pattern, kind in _NOTES:
            if pattern.match(line):
                found.append(Flag(kind, _first_line(line)))
    for test in results.get("tests", []):
        label = " ".join(p for p in (test.get("number"), test.get("name")) if p)
        if (test.get("extra_data") or {}).get("grader_error"):
            found.append(Flag(GRADER_ERROR, f"{label}: the grader could not judge this test"))
        if test.get("status") == "passed":
            continue
        message = _PREFIXES.sub("", str(test.get("output", "")), count=1)
        for pattern, kind in _OPENINGS:
            if pattern.match(message):
                found.append(Flag(kind, _first_line(message)))
                break
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda f: KINDS.index(f.kind))
