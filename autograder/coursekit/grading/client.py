"""Grader-side proxies: the student's modules and objects as ordinary Python, over a channel.

``submission.perceptron.predict(w, b, X)`` sends a ``call`` request and returns the decoded reply;
a student object (``submission.perceptron.MulticlassPerceptron(64, 10)``) comes back as an
:class:`ObjectProxy` whose methods and attributes are requests too. Arguments travel as copies;
results are plain ``np.ndarray`` / ``torch.Tensor`` / builtins that the decoder built itself.

Two channels implement the same ``request``: :class:`~coursekit.grading.sandbox.WorkerChannel`
(grading) and :class:`~coursekit.local.InProcessChannel` (students debugging locally: the worker's
own server runs in their process, behind the same encoder and decoder, so the types that come back
are identical). The grader entry can never select the second.
"""

from __future__ import annotations

import time
from typing import Any

from .. import protocol
from ..protocol import Handle


class StudentError(Exception):
    """The student's code raised; carries the exception as data (type, message, student frames, and
    where a driver was: see ``coursekit.worker.server.describe_error``).

    Every field comes from the student's process, so each is taken only in the shape the worker
    sends and dropped otherwise: a forged error is still the student's error, never the grader's.
    ``hint`` is the grader's own advice, if any (an import of a module that is not submitted).
    """

    def __init__(self, error: dict):
        self.type = str(error.get("type", "Exception"))
        self.message = str(error.get("message", ""))
        frames = error.get("frames")
        self.frames = [tuple(f) for f in frames if type(f) is list and len(f) == 4] if type(frames) is list else []
        self.in_driver = error.get("in_driver") is True
        self.error = error
        self.hint = ""
        driver = error.get("driver")
        #: ``(which, line, function)`` of the innermost driver frame: which is "week" or "course".
        self.driver = (tuple(driver) if type(driver) is list and len(driver) == 3 and driver[0] in ("week", "course")
                       and type(driver[1]) is int and type(driver[2]) is str else None)
        attribute = error.get("attribute")
        self.attribute = attribute if type(attribute) is str else None
        super().__init__(f"{self.type}: {self.message}")

    def location(self) -> str:
        """Where in the student's files it was raised: ``perceptron.py line 42, in predict``."""
        if not self.frames:
            return ""
        file, line, func, _ = self.frames[-1]
        return f"{file} line {line}, in {func}"


class WorkerFailure(Exception):
    """The worker crashed, exited, hung or broke the protocol while serving a request."""

    def __init__(self, kind: str, detail: str):
        self.kind, self.detail = kind, detail
        super().__init__(detail)


class ImportFailure(Exception):
    """A student file could not be imported when its worker started, recorded once by the channel:
    every request that needs it fails at once with this, instead of importing it again.

    ``kind`` is ``"exception"`` (``error`` is the :class:`StudentError` it raised), ``"timeout"``,
    ``"crash"`` or ``"protocol"``; ``detail`` is the grader's own words for the last three."""

    def __init__(self, file: str, kind: str, detail: str, error: StudentError | None = None):
        self.file, self.kind, self.detail, self.error = file, kind, detail, error
        super().__init__(f"{file} could not be imported: {self.summary()}")

    def summary(self) -> str:
        """Why, in words any test may show (an exception's message and frames are left out)."""
        if self.error is None:
            return self.detail
        from .feedback import BUILTIN_EXCEPTIONS
        kind = self.error.type if self.error.type in BUILTIN_EXCEPTIONS else "an exception"
        return f"it raised {kind} while being imported"

    def again(self) -> ImportFailure:
        """A fresh exception with the same record (raising one object twice would pile up tracebacks)."""
        copy = ImportFailure(self.file, self.kind, self.detail, self.error)
        if self.error is not None:
            copy.error = StudentError(self.error.error)
            copy.error.hint = self.error.hint
        return copy


class Deadline:
    """The current test's time left, in seconds charged to the student (see ``grading.clock``), set
    by the plugin; each call gets the smaller of it and its own limit, and uses it up."""

    test_remaining: float | None = None


class Connection:
    """Sends requests with ids and deadlines; turns error replies into :class:`StudentError`."""

    def __init__(self, channel: Any, call_timeout: float, missing_imports: list = ()):
        self.channel = channel
        self.call_timeout = call_timeout
        #: ``grading.imports.MissingImport``s of the files behind this channel: a ModuleNotFoundError
        #: raised at one of those lines gets the grader's hint naming the module.
        self.missing_imports = list(missing_imports)
        self.next_id = 1
        self.last_seconds: float | None = None  # the last call's time charged to the student

    def request(self, op: str, timeout: float | None = None, **fields: Any) -> Any:
        buffers: list[bytes] = []
        message = {"op": op, "id": self.next_id}
        for key, value in fields.items():
            if key in ("args", "kwargs", "value"):
                message[key] = protocol.encode_value(value, buffers, lambda obj: _handle_of(obj, self))
            else:
                message[key] = value
        self.next_id += 1
        limit = timeout if timeout is not None else self.call_timeout
        if Deadline.test_remaining is not None:
            limit = min(limit, max(Deadline.test_remaining, 0.01))
        started = time.monotonic()
        self.last_seconds = None
        try:
            header, bufs = self.channel.request(message, buffers, limit)
            self.last_seconds = getattr(self.channel, "last_charged", None)
        except ImportFailure as e:
            if e.error is not None:
                e.error.hint = self.hint(e.error)
            raise
        finally:
            if Deadline.test_remaining is not None:
                used = getattr(self.channel, "last_charged", None)
                Deadline.test_remaining -= used if used is not None else time.monotonic() - started
        if header.get("id") != message["id"]:
            raise self._broken("the worker answered a different request")
        if header.get("ok") is True:
            generation = getattr(self.channel, "generation", 0)
            try:
                return protocol.decode_value(header.get("value"), bufs,
                                             lambda h: ObjectProxy(self, h, generation))
            except protocol.ProtocolError as e:
                raise self._broken(f"the worker sent malformed data: {e}") from None
        error = header.get("error")
        if not isinstance(error, dict):
            raise self._broken("the worker sent a malformed error")
        failure = StudentError(error)
        failure.hint = self.hint(failure)
        raise failure

    def hint(self, error: StudentError) -> str:
        """The grader's advice for an import of a module that is not submitted, when ``error`` was
        raised at a line where the static scan found one (``grading.imports``); else ``""``."""
        if error.type not in ("ModuleNotFoundError", "ImportError"):
            return ""
        lines = {(f[0], f[1]) for f in error.frames}
        for missing in self.missing_imports:
            if (missing.file, missing.line) in lines:
                return missing.message()
        return ""

    def attribute(self, reply: Any) -> dict:
        """A ``getattr`` reply, which must be ``{"callable": true}`` or ``{"value": ...}``: anything
        else (the student's code wrote its own reply on the channel) breaks the protocol."""
        if type(reply) is not dict or not (reply.get("callable") is True or "value" in reply):
            raise self._broken("the worker answered an attribute request with something else")
        return reply

    def _broken(self, detail: str) -> WorkerFailure:
        """A reply that breaks the protocol: the worker is not to be trusted with another request."""
        discard = getattr(self.channel, "discard", None)
        if discard is not None:
            discard(detail)
        return WorkerFailure("protocol", detail)


def _handle_of(obj: Any, conn: Connection) -> Handle:
    if isinstance(obj, ObjectProxy):
        if obj._conn is not conn:
            # A handle is an index into one worker's table: in another worker it names whatever
            # object sits there (a grader's stand-in sent to the student's model's worker).
            raise protocol.ProtocolError("cannot send an object of one worker to another (a student "
                                         "file's object goes only to its own file's functions and drivers)")
        return obj._check_alive()
    raise protocol.ProtocolError(f"cannot send a {type(obj).__name__} to the student's code "
                                 "(only data: arrays, tensors, numbers, strings, lists, dicts)")


class FunctionProxy:
    """A student function or method; calling it is one request."""

    def __init__(self, conn: Connection, label: str, **target: Any):
        self._conn, self._label, self._target = conn, label, target

    def __call__(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        op = "call_method" if "handle" in self._target else "call"
        return self._conn.request(op, timeout=timeout, args=list(args), kwargs=kwargs, **self._target)

    def __repr__(self) -> str:
        return f"<student function {self._label}>"


class ObjectProxy:
    """A student object that lives in the worker, reached through its handle."""

    def __init__(self, conn: Connection, handle: Handle, generation: int):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_generation", generation)

    def _check_alive(self) -> Handle:
        if getattr(self._conn.channel, "generation", 0) != self._generation:
            # (not the object's type name: the student's code chose it, and hidden feedback shows this)
            raise WorkerFailure("lost", "an object your code built was lost when the worker restarted "
                                        "after an earlier failure")
        return self._handle

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        handle = self._check_alive()
        reply = self._conn.attribute(self._conn.request("getattr", handle=handle.id, name=name))
        if reply.get("callable"):
            return FunctionProxy(self._conn, f"{handle.type}.{name}", handle=handle.id, name=name)
        return reply["value"]

    def __setattr__(self, name: str, value: Any) -> None:
        self._conn.request("setattr", handle=self._check_alive().id, name=name, value=value)

    def __call__(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        handle = self._check_alive()
        return self._conn.request("call_method", timeout=timeout, handle=handle.id, name="__call__",
                                  args=list(args), kwargs=kwargs)

    def __repr__(self) -> str:
        return f"<student {self._handle.type} object>"


class ModuleProxy:
    """One student module (``perceptron.py`` → ``submission.perceptron``)."""

    def __init__(self, conn: Connection, name: str):
        self._conn, self._name = conn, name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        reply = self._conn.attribute(self._conn.request("getattr", handle=None, module=self._name, name=name))
        if reply.get("callable"):
            return FunctionProxy(self._conn, f"{self._name}.{name}", module=self._name, name=name)
        return reply["value"]

    def __repr__(self) -> str:
        return f"<student module {self._name}>"


class Submission:
    """What the ``submission`` fixture returns: the student's modules by name, and drivers.

    Each module is reached through the connection of the worker that holds it (files a week
    forbids different modules in run in different workers, see ``grading.connect``). ``channels``
    is the run's list of channels, closed at its end; :meth:`fresh` adds the ones it starts.
    """

    def __init__(self, connections: dict[str, Connection], channels: list | None = None):
        self._connections = connections
        self._modules = {m: ModuleProxy(conn, m) for m, conn in connections.items()}
        self._conn = next(iter(connections.values()))
        self._run_channels = channels if channels is not None else []

    def _channels(self) -> list:
        """This submission's channels, each once, in module order."""
        found: list = []
        for conn in self._connections.values():
            if not any(conn.channel is c for c in found):
                found.append(conn.channel)
        return found

    def fresh(self) -> Submission:
        """The same student files on new workers with the same settings, which have seen nothing
        this submission's workers were sent: a grader's check that a result depends on nothing but
        what it states (a model's weights) rebuilds it there and compares.

        Where workers could leave each other files or reach each other (no namespaces), this
        submission's workers are stopped first and, as root, every process, file and IPC object of
        the worker user removed (see ``WorkerChannel.fresh``); they restart on the next request.
        In process (local debugging) the student's modules are imported again, in the same process.
        The new channels are closed with the run's; :meth:`stop` ends their workers earlier.
        """
        old = self._channels()
        for channel in old:  # all stopped before any is cleared: they may share the worker user
            if not getattr(channel, "workers_private", True):
                channel.stop()
        renewed = {id(c): c.fresh() for c in old}
        self._run_channels.extend(renewed.values())
        connections = {m: Connection(renewed[id(conn.channel)], conn.call_timeout, conn.missing_imports)
                       for m, conn in self._connections.items()}
        return Submission(connections, self._run_channels)

    def stop(self) -> None:
        """End this submission's workers now (to free their memory); a later request starts another."""
        for channel in self._channels():
            stop = getattr(channel, "stop", None)
            if stop is not None:
                stop()

    def __getattr__(self, name: str) -> ModuleProxy:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._modules[name]
        except KeyError:
            raise AttributeError(f"no student module {name!r}; this week's modules are "
                                 f"{sorted(self._modules)}") from None

    def module(self, name: str) -> ModuleProxy:
        return getattr(self, name)

    def timed(self, function: FunctionProxy, /, *args: Any, **kwargs: Any) -> tuple[Any, float]:
        """Call a student function and return ``(result, seconds)``: the time the call took,
        measured by the grader, never reported by the student's process. Sandboxed, the CPU time
        of all the worker user's processes during the call, or the wall time in which neither the
        worker nor the grader waited for a CPU when that is more (from the kernel, see
        ``grading.clock``); in-process, this thread's CPU time. Compare it with an operation the
        grader times itself with ``time.thread_time``, on the same inputs."""
        function._conn.channel.measure_next = True
        value = function(*args, **kwargs)
        seconds = function._conn.last_seconds
        if seconds is None:
            raise RuntimeError("this channel cannot measure the student's CPU time")
        return value, seconds

    def driver(self, driver_name: str, /, *args: Any, timeout: float | None = None, on: str | None = None,
               **kwargs: Any) -> Any:
        """Run a public driver (the week's ``drivers.py`` or ``coursekit.worker.drivers``) in the
        worker and return its data: in the worker of the student module ``on`` (``"cnn"``), else of
        the student objects among the arguments, else of the first argument naming a student
        module, else in the only worker.

        Raises ``TypeError`` (a grader's mistake, never the student's) when the worker cannot be
        told: the week's files run in several workers and nothing names one (``set_seed`` would
        seed a worker the student's next call never reaches), or the arguments hold objects of
        different workers."""
        return self._route(driver_name, args, kwargs, on).request(
            "driver", timeout=timeout, name=driver_name, args=list(args), kwargs=kwargs)

    def _route(self, driver_name: str, args: tuple, kwargs: dict, on: str | None) -> Connection:
        if on is not None:
            if on not in self._connections:
                raise TypeError(f"driver {driver_name}: on={on!r} is not a student module; this week's "
                                f"modules are {sorted(self._connections)}")
            return self._connections[on]
        objects = {id(v._conn): v._conn for v in (*args, *kwargs.values()) if isinstance(v, (ObjectProxy, ModuleProxy))}
        if len(objects) > 1:
            raise TypeError(f"driver {driver_name}: its arguments hold objects of different workers")
        if objects:
            return next(iter(objects.values()))
        for value in (*args, *kwargs.values()):
            if isinstance(value, str) and value in self._connections:
                return self._connections[value]
        if len({id(c) for c in self._connections.values()}) > 1:
            raise TypeError(f"driver {driver_name}: this week's files run in several workers; say in "
                            f"which with on=<module> (one of {sorted(self._connections)})")
        return self._conn
