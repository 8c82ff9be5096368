"""The worker's request handler: runs student code on the grader's behalf and answers with data.

Requests (header fields; arguments are protocol-encoded values):

- ``{"op": "import", "module": "perceptron"}`` → ``{"ok": true}``
- ``{"op": "call", "module": m, "name": "predict", "args": [...], "kwargs": {...}}`` → result
- ``{"op": "getattr", "handle": h | null, "module": m, "name": "W"}`` → the attribute as data, a
  handle, or ``{"callable": true}`` for a method
- ``{"op": "call_method", "handle": h, "name": "fit", "args": ..., "kwargs": ...}`` → result
- ``{"op": "setattr", "handle": h, "name": ..., "value": ...}``
- ``{"op": "driver", "name": "drivers.step_optimizer", "args": ..., "kwargs": ...}`` → result
- ``{"op": "release", "handles": [..]}``
- ``{"op": "ping"}`` → how the worker was set up (``{"syscall_filter": description or null}``)

Replies: ``{"id": n, "ok": true, "value": ...}`` or ``{"id": n, "ok": false, "error": {"type",
"message", "frames": [[file, line, function, source], ...], "in_driver", "driver", "attribute"}}``
where frames are the student's own (see :func:`describe_error`).
Any result that is not plain data stays here and goes back as a handle.

This module is also what the in-process mode runs, so both modes give the same types.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import traceback
from pathlib import Path
from typing import Any

from .. import protocol
from ..protocol import Handle
from .guard import is_student_file

MAX_MESSAGE_CHARS = 2000
MAX_FRAMES = 12


class Server:
    """Holds the student's modules and the objects handed out as handles."""

    def __init__(self, student_dir: Path, module_names: list[str], drivers_file: Path | None = None,
                 broken: dict[str, str] | None = None, status: dict | None = None):
        self.student_dir = Path(student_dir)
        self.module_names = set(module_names)
        #: Student modules whose import failed in an earlier worker (the grader's record, by module:
        #: why): never imported again, by a request, a driver or another student module.
        self.broken = dict(broken or {})
        #: How this worker was set up (its syscall filter), the answer to ``ping``.
        self.status = dict(status or {})
        self.objects: dict[int, Any] = {}
        self.next_id = 1
        self.drivers, self.driver_files = load_drivers(drivers_file)
        self.week_drivers_file = str(drivers_file) if drivers_file is not None else None

    # handles ------------------------------------------------------------------------------
    def make_handle(self, obj: Any) -> Handle:
        hid = self.next_id
        self.next_id += 1
        self.objects[hid] = obj
        try:
            name = type(obj).__name__
        except Exception:  # a student's metaclass may refuse
            name = "object"
        return Handle(hid, str(name)[:100])

    def resolve(self, handle: Handle) -> Any:
        try:
            return self.objects[handle.id]
        except KeyError:
            raise LookupError(f"handle {handle.id} ({handle.type}) is no longer alive") from None

    def module(self, name: str):
        if name not in self.module_names:
            raise LookupError(f"{name!r} is not one of this week's student modules")
        if name in self.broken:
            raise ImportError(f"{name}.py could not be imported: {self.broken[name]}", name=name)
        if str(self.student_dir) not in sys.path:
            sys.path.insert(0, str(self.student_dir))
        cached = sys.modules.get(name)
        if cached is not None and not str(getattr(cached, "__file__", "")).startswith(str(self.student_dir)):
            del sys.modules[name]  # same name, other folder (an earlier in-process session)
        return importlib.import_module(name)

    # requests -----------------------------------------------------------------------------
    def handle_frame(self, header: dict, buffers: list[bytes]) -> bytes:
        """Answer one request frame with one reply frame; never raises."""
        rid = header.get("id")
        try:
            value = self.dispatch(header, buffers)
            out: list[bytes] = []
            encoded = protocol.encode_value(value, out, self.make_handle)
            return protocol.pack_frame({"id": rid, "ok": True, "value": encoded}, out)
        except BaseException as e:  # student code may raise SystemExit or KeyboardInterrupt too
            error = describe_error(e, self.student_dir, self.driver_files, self.week_drivers_file)
            return protocol.pack_frame({"id": rid, "ok": False, "error": error}, [])

    def dispatch(self, header: dict, buffers: list[bytes]) -> Any:
        op = header.get("op")

        def arg(name: str, default: Any = None) -> Any:
            return protocol.decode_value(header.get(name, default), buffers, self.resolve)

        if op == "ping":
            return self.status
        if op == "import":
            self.module(str(header.get("module")))
            return None
        if op == "call":
            fn = getattr(self.module(str(header.get("module"))), str(header.get("name")))
            return fn(*arg("args", {"t": "list", "v": []}), **arg("kwargs", {"t": "dict", "v": []}))
        if op == "getattr":
            target = self._target(header)
            value = getattr(target, str(header.get("name")))
            if inspect.isroutine(value):
                return {"callable": True}
            return {"value": value}
        if op == "call_method":
            target, name = self._target(header), str(header.get("name"))
            # Calling a handle calls the object itself: a class handle (an nn.Module subclass, whose
            # unbound __call__ would miss its self) constructs an instance.
            method = target if name == "__call__" else getattr(target, name)
            return method(*arg("args", {"t": "list", "v": []}), **arg("kwargs", {"t": "dict", "v": []}))
        if op == "setattr":
            setattr(self._target(header), str(header.get("name")), arg("value"))
            return None
        if op == "driver":
            name = str(header.get("name"))
            if name not in self.drivers:
                raise LookupError(f"unknown driver {name!r}")
            return self.drivers[name](self, *arg("args", {"t": "list", "v": []}),
                                      **arg("kwargs", {"t": "dict", "v": []}))
        if op == "release":
            for hid in header.get("handles") or []:
                self.objects.pop(hid, None)
            return None
        raise LookupError(f"unknown operation {str(op)[:40]!r}")

    def _target(self, header: dict) -> Any:
        hid = header.get("handle")
        if hid is None:
            return self.module(str(header.get("module")))
        if type(hid) is not int:
            raise LookupError("malformed handle")
        return self.resolve(Handle(hid, ""))


class BrokenModules:
    """A meta path finder that refuses, at once, the student modules whose import failed before
    (so that another student file importing one does not run it again)."""

    def __init__(self, broken: dict[str, str]):
        self.broken = broken

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name in self.broken:
            raise ImportError(f"{name}.py could not be imported: {self.broken[name]}", name=name)


def describe_error(exc: BaseException, student_dir: Path, driver_files: frozenset[str] = frozenset(),
                   week_drivers_file: str | None = None) -> dict:
    """An exception as data: its type, a bounded message, the student's own frames only, and where
    a driver was when it happened.

    ``in_driver`` says the innermost frame is a driver's own code (it raised on what the student's
    code gave it, e.g. a missing method); ``driver`` is the innermost driver frame, as ``[which,
    line, function]`` with ``which`` ``"week"`` (the week's ``drivers.py``) or ``"course"`` (the
    generic drivers), so the grader can show that line from its own copy; ``attribute`` is the
    missing attribute's name of an ``AttributeError``.
    """
    try:
        name = type(exc).__name__
        message = str(exc)
    except BaseException:
        name, message = "Exception", "(the exception could not be printed)"
    frames = []
    prefix = str(student_dir)
    try:
        stack = traceback.extract_tb(exc.__traceback__)
    except BaseException:
        stack = []
    try:
        for fs in stack:
            if is_student_file(fs.filename, prefix):
                frames.append([Path(fs.filename).name, fs.lineno or 0, fs.name, (fs.line or "")[:200]])
    except BaseException:
        frames = []
    if isinstance(exc, SyntaxError) and exc.filename and is_student_file(str(exc.filename), prefix):
        frames.append([Path(exc.filename).name, exc.lineno or 0, "<module>", (exc.text or "").strip()[:200]])
    # Raised by a driver's own code (not by student code it called): on what the student's code gave it.
    in_driver = bool(stack) and stack[-1].filename in driver_files
    driver = None
    for fs in reversed(stack):
        if fs.filename in driver_files:
            which = "week" if fs.filename == week_drivers_file else "course"
            driver = [which, fs.lineno or 0, str(fs.name)[:100]]
            break
    error = {"type": str(name)[:100], "message": str(message)[:MAX_MESSAGE_CHARS],
             "frames": frames[-MAX_FRAMES:], "in_driver": in_driver, "driver": driver}
    try:  # a student's AttributeError subclass may make ``name`` anything, or raise
        attribute = getattr(exc, "name", None) if isinstance(exc, AttributeError) else None
    except BaseException:
        attribute = None
    if type(attribute) is str:
        error["attribute"] = attribute[:100]
    return error


WEEK_DRIVERS_MODULE = "coursekit_week_drivers"


def load_drivers(drivers_file: Path | None) -> tuple[dict[str, Any], frozenset[str]]:
    """The generic drivers plus the week's (its ``drivers.py``, handed over explicitly), and the
    files they live in. A week driver may not reuse a generic driver's name: a silent override
    would run other code than the grader asked for."""
    import importlib.util

    from . import drivers
    registry = dict(drivers.REGISTRY)
    files = {drivers.__file__}
    if drivers_file is not None:
        spec = importlib.util.spec_from_file_location(WEEK_DRIVERS_MODULE, drivers_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[WEEK_DRIVERS_MODULE] = module
        spec.loader.exec_module(module)
        for name, driver in getattr(module, "REGISTRY", {}).items():
            if name in registry:
                raise RuntimeError(f"driver {name!r} of {Path(drivers_file).name} is already a generic driver")
            registry[name] = driver
        files.add(str(drivers_file))
    return registry, frozenset(files)
