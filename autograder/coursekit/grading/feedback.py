"""What a student reads when a test fails, written by the grader alone.

Public tests (whose inputs the student has) show the check's bounded detail and the student's own
exception message and frames. Hidden tests show what failed and where in the student's code, but
never an expected value, a hidden input, or anything the worker printed or put in a message.
"""

from __future__ import annotations

import builtins
import re
from typing import Any


def describe_failure(excinfo: Any, public: bool, week: Any = None) -> tuple[str, bool]:
    """``(message, grader_error)`` for a failed test phase."""
    from _pytest.outcomes import Failed, Skipped

    from ..checks import GradeFailure
    from .client import ImportFailure, StudentError, WorkerFailure

    if excinfo is None:
        return "failed", False
    exc = excinfo.value
    if isinstance(exc, ImportFailure):
        return import_failure(exc, public, week), False
    if isinstance(exc, GradeFailure):
        return (f"{exc.summary}\n{exc.detail}".strip() if public else exc.summary), False
    if isinstance(exc, StudentError):
        if exc.in_driver:
            # A driver runs the student's objects in the student's process; the reference and every
            # known-bad pass through the same drivers in `make verify`, so what makes one fail here
            # is what the student's code gave it (None for a model, a missing method).
            kind = exc.type if exc.type in BUILTIN_EXCEPTIONS else "an exception"
            return (f"The check could not run on what your code returned or built ({kind} in the course's "
                    "step that drives your objects): see the task's specification."), False
        return _student_error(exc, public, week), False
    if isinstance(exc, WorkerFailure):
        if exc.kind == "startup":  # before any student code ran: the grading machine's fault
            return ("The grader could not start the sandbox for your code; this is not your fault, "
                    "and your course staff will look into it."), True
        if exc.kind == "overload":  # the machine, not the student's code, ran out of time
            return ("The grading machine was too busy to finish this test; this is not your fault, "
                    "and your course staff will regrade it."), True
        return f"Your code could not finish: {exc.detail}.", False
    if isinstance(exc, Failed):
        return str(exc.msg if hasattr(exc, "msg") else exc)[:2000], False
    if isinstance(exc, Skipped):
        return "skipped", False
    if isinstance(exc, AssertionError):
        # Graders run with --assert=plain: the message is exactly the author's text.
        text = str(exc).strip()
        if public:
            return text[:2000] or "a check failed", False
        return (text.splitlines()[0][:300] if text else "a check failed"), False
    # Anything else is the grader's own fault (or an unforeseen student result): say so plainly.
    return ("The grader hit an internal error on this test; this is not necessarily your fault, and "
            f"your course staff will look into it ({type(exc).__name__})."), True


#: Exception types whose name a hidden test may show: Python's own (a student's class may carry
#: any name, hidden inputs included).
BUILTIN_EXCEPTIONS = frozenset(name for name, obj in vars(builtins).items()
                               if isinstance(obj, type) and issubclass(obj, BaseException))
MAX_MESSAGE_CHARS = 1500
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Student text fit for a visible test: control characters and ANSI escapes removed (a carriage
    return could overwrite the grader's words), unpaired surrogates replaced, and bounded."""
    text = _CONTROL.sub("", str(text)).encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + " […]"


def _where(exc: Any, week: Any, public: bool) -> str:
    """``perceptron.py line 42`` (hidden tests) or with the function (public): only for a frame in
    one of the week's declared files; a hidden test never shows a name the student chose."""
    files = set(getattr(week, "student_files", ()) or ())
    for file, line, func, _ in reversed(exc.frames):
        if file in files and type(line) is int:
            return f"{file} line {line}" + (f", in {clean(func, 100)}" if public else "")
    return ""


def import_failure(exc: Any, public: bool, week: Any = None, consequence: str = "this test could not run") -> str:
    """A student file that could not be imported (recorded once; every test of it says so)."""
    head = f"{exc.file} could not be imported, so {consequence}"
    if exc.error is None:
        return f"{head}: {exc.detail}."
    where = _where(exc.error, week, public)
    kind = exc.error.type if exc.error.type in BUILTIN_EXCEPTIONS else "an exception"
    text = f"{head}: it raised {kind}{f' at {where}' if where else ''} while being imported."
    if public:
        text += "\n" + _student_error(exc.error, public, week)
    elif exc.error.hint:
        text += "\n" + exc.error.hint
    return text


def _student_error(exc: Any, public: bool, week: Any) -> str:
    text = _describe_student_error(exc, public, week)
    hint = getattr(exc, "hint", "")
    return f"{text}\n{hint}" if hint else text


def _describe_student_error(exc: Any, public: bool, week: Any) -> str:
    where = _where(exc, week, public)
    at = f" at {where}" if where else ""
    kind = exc.type if exc.type in BUILTIN_EXCEPTIONS else "an exception"
    if exc.type == "NotImplementedError":
        stub = f" ({clean(exc.message, 300)})" if public and exc.message else ""
        return f"Not implemented yet: {where or 'your code'} raised NotImplementedError{stub}."
    if exc.type == "ForbiddenAPIError":
        apis = sorted({f.api for f in getattr(week, "forbidden", ())})
        text = f"Your code used an API this week forbids ({', '.join(apis) or 'see the handout'})"
        return f"{text}: {clean(exc.message, 300)}" if public else f"{text}{at}."
    if not public:
        return f"Your code raised {kind}{at}."
    lines = [f"Your code raised {clean(exc.type, 100)}: {clean(exc.message)}".strip()]
    if exc.frames:
        lines.append("Traceback (your files only):")
        for file, line, func, source in exc.frames:
            lines.append(f"  {clean(file, 100)}, line {line}, in {clean(func, 100)}")
            if source:
                lines.append(f"    {clean(source, 200)}")
    return "\n".join(lines)
