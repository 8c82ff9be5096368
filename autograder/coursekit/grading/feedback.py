"""What a student reads when a test fails, written by the grader alone.

Public tests (whose inputs the student has) show the check's bounded detail and the student's own
exception message and frames. Hidden tests show what failed and where in the student's code, but
never an expected value, a hidden input, or anything the worker printed or put in a message.
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from pathlib import Path
from typing import Any


def describe_failure(excinfo: Any, public: bool, week: Any = None,
                     sources: dict[str, bytes] | None = None) -> tuple[str, bool]:
    """``(message, grader_error)`` for a failed test phase.

    ``sources`` are the student's files as the grader read them (before any student code ran):
    where the student's code raised is named from them (``Linear.backward``), never from what the
    student's process reports. A grader error is only the grader's own fault: anything the student's
    code raised, also inside a driver, and anything its process sent that breaks the protocol is
    the student's.
    """
    message, grader_error = _describe(excinfo, public, week, sources or {})
    upstream = getattr(excinfo.value, UPSTREAM_ATTRIBUTE, None) if excinfo is not None else None
    if upstream and not grader_error:
        message = f"{message}\n{upstream_note(upstream)}"
    return message, grader_error


def _describe(excinfo: Any, public: bool, week: Any, sources: dict[str, bytes]) -> tuple[str, bool]:
    from _pytest.outcomes import Failed, Skipped

    from ..checks import GradeFailure
    from .client import ImportFailure, StudentError, WorkerFailure

    if excinfo is None:
        return "failed", False
    exc = excinfo.value
    if isinstance(exc, ImportFailure):
        return import_failure(exc, public, week, sources=sources), False
    if isinstance(exc, GradeFailure):
        return (f"{exc.summary}\n{exc.detail}".strip() if public else exc.summary), False
    if isinstance(exc, StudentError):
        if exc.in_driver:
            return _driver_failure(exc, public, week), False
        return _student_error(exc, public, week, sources), False
    if isinstance(exc, WorkerFailure):
        if exc.kind == "startup":  # before any student code ran: the grading machine's fault
            return ("The grader could not start the sandbox for your code; this is not your fault, "
                    "and your course staff will look into it."), True
        if exc.kind == "overload":  # the machine, not the student's code, ran out of time
            return ("The grading machine was too busy to finish this test; this is not your fault, "
                    "and your course staff will regrade it."), True
        if exc.kind == "protocol":
            # The worker is the student's process: a reply that breaks the protocol (one its code
            # wrote on the channel itself, or a result that cannot travel) is the student's doing.
            text = ("Your code's process broke the grader's protocol (its code wrote on the grader's "
                    "channel, or sent back something that is not data), so this call's result was "
                    "discarded.")
            return (f"{text}\n{clean(exc.detail, 300)}" if public else text), False
        return f"Your code could not finish: {exc.detail}.", False
    from .users import SandboxError
    if isinstance(exc, SandboxError):  # the grading machine's set-up, said once at the top
        return ("The autograder could not start its sandbox, so this test did not run; this is not "
                "your fault, and your course staff will look into it."), True
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
    # Anything else is the grader's own fault: say so plainly.
    return ("The grader hit an internal error on this test; this is not necessarily your fault, and "
            f"your course staff will look into it ({type(exc).__name__})."), True


#: Set on a test's exception (by ``coursekit.checks.upstream``) to the upstream tasks that fail
#: their own checks: grader-authored lines such as ``Task 2 (Linear layer): backward``.
UPSTREAM_ATTRIBUTE = "coursekit_upstream"


def upstream_note(causes: list[str]) -> str:
    """The line that names the upstream tasks a failed test depends on."""
    listed = "; ".join(str(c) for c in causes[:8])
    return (f"This test also runs your code of other tasks, and some of it fails its own checks ({listed}): "
            "fix that first, since this result may come from it.")


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


def _source_line(path: Path | None, line: int) -> str:
    """Line ``line`` of the grader's own copy of a file, stripped and bounded ('' if none)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path else []
    except OSError:
        return ""
    return clean(lines[line - 1].strip(), 160) if 1 <= line <= len(lines) else ""


@functools.lru_cache(maxsize=32)
def _definitions(source: bytes) -> tuple[tuple[int, int, str], ...]:
    """``(first line, last line, qualified name)`` of every function and class in ``source``
    (``Linear``, ``Linear.backward``), innermost last; nothing when it does not parse."""
    try:
        tree = ast.parse(source.decode("utf-8-sig", errors="replace"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    found: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                found.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.")
            elif not isinstance(child, ast.expr):
                visit(child, prefix)

    visit(tree, "")
    return tuple(found)


def _enclosing(source: bytes | None, line: int) -> str:
    """The innermost function or method around ``line`` of ``source`` (``Linear.backward``)."""
    inner = [name for first, last, name in _definitions(source or b"") if first <= line <= last]
    return inner[-1] if inner else ""


def _task_frame(exc: Any, week: Any, sources: dict[str, bytes]) -> tuple[str, Any] | None:
    """``("Linear.backward", its task)``: the innermost frame of the student's that lies in a task's
    function or class, named from the grader's own parse of the submitted file (static text, which
    no hidden input can reach), and only when a task of the week covers it."""
    files = set(getattr(week, "student_files", ()) or ())
    task_for = getattr(week, "task_for", None)
    if task_for is None:
        return None
    for file, line, _, _ in reversed(exc.frames):
        if file in files and type(line) is int:
            name = _enclosing(sources.get(file), line)
            task = task_for(file, name) if name else None
            if task is not None:
                return name, task
    return None


def _interface_name(exc: Any, week: Any, sources: dict[str, bytes]) -> str:
    """``Linear.backward`` (see :func:`_task_frame`), or ``""``."""
    found = _task_frame(exc, week, sources)
    return found[0] if found else ""


def _owning_task(exc: Any, week: Any, sources: dict[str, bytes]) -> str:
    """``Task 5 (Layer normalization)``: the task whose code holds the frame :func:`_task_frame` finds."""
    found = _task_frame(exc, week, sources)
    return f"Task {found[1].number} ({found[1].title})" if found else ""


def _where(exc: Any, week: Any, public: bool) -> str:
    """``perceptron.py line 42`` (hidden tests) or with the function (public): only for a frame in
    one of the week's declared files; a hidden test never shows a name the student's process sent."""
    files = set(getattr(week, "student_files", ()) or ())
    for file, line, func, _ in reversed(exc.frames):
        if file in files and type(line) is int:
            return f"{file} line {line}" + (f", in {clean(func, 100)}" if public else "")
    return ""


def import_failure(exc: Any, public: bool, week: Any = None, consequence: str = "this test could not run",
                   sources: dict[str, bytes] | None = None) -> str:
    """A student file that could not be imported (recorded once; every test of it says so)."""
    head = f"{exc.file} could not be imported, so {consequence}"
    if exc.error is None:
        return f"{head}: {exc.detail}."
    where = _where(exc.error, week, public)
    kind = exc.error.type if exc.error.type in BUILTIN_EXCEPTIONS else "an exception"
    text = f"{head}: it raised {kind}{f' at {where}' if where else ''} while being imported."
    if public:
        text += "\n" + _student_error(exc.error, public, week, sources or {})
    elif exc.error.hint:
        text += "\n" + exc.error.hint
    return text


def _student_error(exc: Any, public: bool, week: Any, sources: dict[str, bytes]) -> str:
    text = _describe_student_error(exc, public, week, sources)
    hint = getattr(exc, "hint", "")
    return f"{text}\n{hint}" if hint else text


def _driver_file(which: str, week: Any) -> tuple[Path | None, str]:
    """The grader's own copy of a driver file, and how the student's starter names it."""
    if which == "week":
        return getattr(week, "drivers_path", None), "drivers.py"
    from ..worker import drivers
    return Path(drivers.__file__), "coursekit/worker/drivers.py"


def _driver_step(exc: Any, week: Any) -> str:
    """``the course's driver sequential_pass (drivers.py line 97: `pairs = ...`)``: the innermost
    driver frame, named and quoted from the grader's own copy of the driver file."""
    if exc.driver is None:
        return "the course's step that drives your objects"
    which, line, _ = exc.driver
    path, label = _driver_file(which, week)
    try:
        source = path.read_bytes() if path is not None else None
    except OSError:
        source = None
    function = _enclosing(source, line)
    code = _source_line(path, line)
    named = f"the course's driver {function}" if function else "the course's driver"
    return f"{named} ({label} line {line}" + (f": `{code}`)" if code else ")")


def _driver_failure(exc: Any, public: bool, week: Any) -> str:
    """A driver's own code raised on what the student's code gave it (a missing method, a value of
    the wrong kind): the student's mistake, named by the driver's line and, for a missing
    attribute, by the attribute's name when that line asks for it."""
    kind = exc.type if exc.type in BUILTIN_EXCEPTIONS else "an exception"
    missing = ""
    if exc.type == "AttributeError" and exc.attribute and exc.attribute.isidentifier() and exc.driver:
        path, _ = _driver_file(exc.driver[0], week)
        if re.search(rf"\.{re.escape(exc.attribute)}\b", _source_line(path, exc.driver[1])):
            missing = f": an object your code built or returned has no attribute `{exc.attribute}`"
    text = (f"The course's code could not use what your code returned or built: {_driver_step(exc, week)} "
            f"raised {kind}{missing}. See the task's specification of what it must provide.")
    if public:
        text += f"\n{clean(exc.type, 100)}: {clean(exc.message)}"
    return text


def _refused_api(message: str, week: Any) -> str:
    """The forbidden API (and operator) a refusal's message names, as the week spells it: only the
    week's own names are taken from the message, which the student's process sent."""
    message = message or ""
    found = None
    for f in getattr(week, "forbidden", ()):
        for op in f.operators:
            if re.search(rf"{re.escape(op)}\b", message) and re.search(rf"\b{re.escape(f.api)}\b", message):
                return f"{f.api} (PyTorch's operator {op}, under whatever name your code reached it)"
        if re.search(rf"\b{re.escape(f.api)}\b", message) and (found is None or len(f.api) > len(found)):
            found = f.api
    return found or "see the handout's list of what is allowed and forbidden"


def _describe_student_error(exc: Any, public: bool, week: Any, sources: dict[str, bytes]) -> str:
    where = _where(exc, week, public)
    method = _interface_name(exc, week, sources)
    at = f" at {where}" if where else ""
    inside = f" (in {method})" if method and not public else ""
    called = f", called by {_driver_step(exc, week)}" if exc.driver is not None else ""
    kind = exc.type if exc.type in BUILTIN_EXCEPTIONS else "an exception"
    if exc.type == "NotImplementedError":
        stub = f" ({clean(exc.message, 300)})" if public and exc.message else ""
        return f"Not implemented yet: {where or 'your code'}{inside} raised NotImplementedError{stub}."
    if exc.type == "ForbiddenAPIError":
        text = f"Your code used an API this week forbids: {_refused_api(exc.message, week)}"
        owner = _owning_task(exc, week, sources)
        if owner:  # a later task's test that runs it fails too: say whose code it is
            text += (f"\nThe call is in {owner}'s code; every test that runs that code fails as if it "
                     "were not written yet.")
        return f"{text}\n{clean(exc.message, 300)}" if public else f"{text}{at}{inside}."
    if not public:
        return f"Your code raised {kind}{at}{inside}{called}."
    lines = [f"Your code raised {clean(exc.type, 100)}: {clean(exc.message)}".strip()]
    if method or called:
        lines.append(f"In {method or 'your code'}{called}.")
    if exc.frames:
        lines.append("Traceback (your files only):")
        for file, line, func, source in exc.frames:
            lines.append(f"  {clean(file, 100)}, line {line}, in {clean(func, 100)}")
            if source:
                lines.append(f"    {clean(source, 200)}")
    return "\n".join(lines)
