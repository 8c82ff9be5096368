"""Start, talk to, and end the worker: a fresh, limited, unprivileged process per grading run.

When the grader runs as root (as on Gradescope), the worker runs as a dedicated user with no
supplementary groups; its scratch folder holds only copies of the student's declared files; the
worker code it runs is a root-owned copy of ``coursekit.worker`` and ``coursekit.protocol`` alone,
so no grader file is on its path. At the end every process of that user is stopped and killed, and
every orphan reaped, before results are written.

Without root (a TA's or student's machine) the worker runs as the same user in its own session; it
is isolated as a process, but not as a user, and the grader says so.

A started worker first imports the student's modules, each within ``import_seconds`` of charged
time. A module whose import fails (it raises, loops, crashes the worker) is recorded once and never
imported again, in this worker or the next: every request that needs it fails at once with that
record (:class:`~coursekit.grading.client.ImportFailure`), so a broken import costs one limit, not
one per test.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import protocol
from . import users
from .client import ImportFailure, StudentError, WorkerFailure
from .clock import ChargedClock, Overloaded
from .runtime import WEEK_DRIVERS_NAME, runtime_copy
from . import isolation
from .users import SandboxError, is_root

STARTUP_SECONDS = 60.0
#: On a busy machine a call may take this many times its limit in wall time before the grader
#: gives up and says the machine was too busy (a grader error, never the student's).
OVERLOAD_FACTOR = 5.0
#: Time to finish reading a reply the worker has begun to write.
REPLY_SECONDS = 30.0

_BOOT = ("import sys; sys.path.insert(0, {rt!r}); "
         "from coursekit.worker.main import main; sys.exit(main())")


@dataclass
class SandboxSettings:
    student_files: dict[str, bytes]          # declared module files, by name (all of the submission's)
    served_files: list[str] | None = None    # those whose modules this worker serves (default: all)
    forbidden: list = field(default_factory=list)
    operators: dict[str, str] = field(default_factory=dict)  # refused in the worker: name -> message
    memory_mb: int = 1500
    cpu_seconds: int = 600
    threads: int = 1
    python: str = sys.executable
    secret_paths: list[Path] = field(default_factory=list)  # must be unreadable to the worker
    hidden_paths: list[Path] = field(default_factory=list)  # hidden when namespaces allow (a checkout)
    drivers: bytes | None = None             # the week's drivers.py, if it has one
    worker_user: str | None = None           # a user the supervisor holds (root only); else taken here
    import_seconds: float = 60.0             # charged time allowed to import each student module
    preload: list[str] = field(default_factory=list)  # packages imported at start-up (grader's time)

    @property
    def modules(self) -> list[str]:
        """The modules this worker serves and imports at its start: its group's files
        (``grading.connect.worker_groups``). The other files are in its folder too, so that one
        file may import another; there they run under this worker's rules."""
        return [Path(f).stem for f in (self.served_files if self.served_files is not None else self.student_files)]


def _status(header: dict, buffers: list[bytes]) -> dict:
    """The worker's answer to ``ping`` as plain strings (it is the student's process talking, so
    only what fits is kept, for the TA's record)."""
    try:
        value = protocol.decode_value(header.get("value"), buffers, lambda h: None)
    except Exception:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k)[:40]: (v[:300] if isinstance(v, str) else None) for k, v in list(value.items())[:4]}


class WorkerChannel:
    """A channel to a sandboxed worker, restarted on demand after a failure."""

    #: The worker processes of every channel of this grading run (a run may have several).
    live: set[int] = set()

    def __init__(self, settings: SandboxSettings):
        self.settings = settings
        self.root_mode = is_root()
        self._held = None
        if self.root_mode:
            self._held = (users.held(settings.worker_user) if settings.worker_user
                          else users.acquire())
        self.user = self._held.account if self._held else None
        self.isolation = isolation.choose(self.root_mode)
        self.worker_pid: int | None = None
        self.failed_starts = 0
        self.measure_next = False
        self.base = Path(tempfile.mkdtemp(prefix=users.SANDBOX_PREFIX))
        self.base.chmod(0o755)
        self.runtime = runtime_copy(self.base / "runtime", settings.drivers)
        self.proc: subprocess.Popen | None = None
        self.generation = 0
        self.failures: list[str] = []
        self.import_failures: dict[str, ImportFailure] = {}  # by module: recorded once, never retried
        #: What the last worker said of its set-up when it started (its syscall filter).
        self.worker_status: dict = {}
        #: While a launched worker's answer to ping is not yet read: when waiting for it ends.
        self._start_deadline: float | None = None
        self._known_children = {p for p, _, ppid, _, _ in users.processes() if ppid == os.getpid()}
        self.preflight()

    # set-up ---------------------------------------------------------------------------------
    def _student_dir(self) -> Path:
        folder = self.base / f"student-{self.generation}"
        folder.mkdir(mode=0o700)
        for name, data in self.settings.student_files.items():
            (folder / name).write_bytes(data)
            (folder / name).chmod(0o600)
        if self.user:
            for path in [folder, *folder.iterdir()]:
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        return folder

    def _env(self, student_dir: Path) -> dict[str, str]:
        threads = str(self.settings.threads)
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(student_dir), "LANG": "C.UTF-8",
                "TMPDIR": str(student_dir), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
                "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
                "MPLBACKEND": "Agg", "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")}

    def _limits(self) -> dict[str, int]:
        limits = {"cpu_seconds": self.settings.cpu_seconds,
                  "data_bytes": self.settings.memory_mb * 1024 * 1024,
                  "file_bytes": 64 * 1024 * 1024, "open_files": 256, "core_bytes": 0}
        if self.user:  # per-user count: meaningful only for the dedicated user
            limits["processes"] = 256
        return limits

    def _launch(self, command: list[str], writable: list[Path], readable: list[Path]) -> tuple[list[str], dict]:
        """The command and Popen options that run ``command`` isolated as this run allows."""
        if self.isolation == isolation.NAMESPACES:
            hidden = [*self.settings.secret_paths, *self.settings.hidden_paths]
            files = {f"{m}.py" for m in self.settings.modules}
            blocked = [api for api, rule_files, _, kind, *_ in self.settings.forbidden
                       if kind == "module" and "." not in api and files <= set(rule_files)]
            return isolation.wrap(command, uid=self.user.pw_uid, gid=self.user.pw_gid, writable=writable,
                                  readable=readable, hidden=hidden,
                                  blocked=isolation.package_folders(blocked)), {}
        if not self.user:
            return command, {}
        return command, {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def preflight(self) -> None:
        """Check up front that the worker can start, install its syscall filter, import numpy, and
        cannot read what is secret: the grader's files, and (without namespaces, which hide them
        whole) the secret parts of the folders it must not see (``isolation.secret_parts``)."""
        if not self.root_mode:
            return
        check = (
            "import json, os, sys\n"
            f"sys.path.insert(0, {str(self.runtime)!r})\n"
            "from coursekit.worker.main import install_filter\n"
            "out = install_filter()\n"
            "out.update({'numpy': True, 'readable': []})\n"
            "try:\n    import numpy\nexcept Exception as e:\n    out['numpy'] = repr(e)\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n        open(p, 'rb').close()\n"
            "        out['readable'].append(p)\n"
            "    except OSError:\n        pass\n"
            "print(json.dumps(out))\n")
        secret = [*self.settings.secret_paths,
                  *(self.settings.hidden_paths if self.isolation == isolation.NAMESPACES else
                    [part for folder in self.settings.hidden_paths for part in isolation.secret_parts(folder)])]
        paths = [p for folder in secret for p in isolation.probe_files(Path(folder))]
        command, options = self._launch([self.settings.python, "-I", "-c", check, *map(str, paths)],
                                        writable=[], readable=[self.base])
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd="/",
                                  env=self._env(self.base), **options)
        except (OSError, subprocess.SubprocessError) as e:
            raise SandboxError(self._cannot_start(str(e))) from None
        if done.returncode != 0:
            raise SandboxError(self._cannot_start(done.stderr.strip()[-500:]))
        result = json.loads(done.stdout)
        if result["syscall_filter"] is None:
            raise SandboxError(f"the worker cannot install its syscall filter ({result['syscall_filter_error']}). "
                               "Install libseccomp (apt-get install libseccomp2) and the Python "
                               "environment's requirements (pyseccomp), then grade again.")
        if result["numpy"] is not True:
            raise SandboxError(f"the worker user {self.user.pw_name!r} cannot import numpy with "
                               f"{self.settings.python}: {result['numpy']}. Make the Python "
                               "environment world-readable (a virtual environment built from the "
                               "system python3, outside any private home folder).")
        if result["readable"]:
            raise SandboxError(f"the worker user {self.user.pw_name!r} can read what it must not: "
                               f"{', '.join(result['readable'])}. Make the folders that hold them "
                               "private (chmod 700) or install bubblewrap (apt-get install bubblewrap), "
                               "which hides them, before grading as root.")

    def _cannot_start(self, detail: str) -> str:
        return (f"the worker user {self.user.pw_name!r} cannot start {self.settings.python}: {detail}. "
                "Every folder above the interpreter and its virtual environment must be world-"
                "readable and searchable (chmod o+rx); a folder in root's home is not. Build the "
                "environment from the system python3 somewhere readable, e.g. "
                "`make VENV=/opt/course-venv ...`.")

    @property
    def awaiting_start(self) -> bool:
        """Whether a worker was launched and its answer to ping is not yet read."""
        return self._start_deadline is not None

    def launch(self) -> None:
        """Start a worker's process without waiting for it, so that several workers (one per
        group of files, see ``grading.connect``) start at once, on other cores, while the grader
        goes on; the first request waits for it (``start``). Does nothing when a worker is running
        or starting, or when starting one has failed (the next request says so)."""
        if self.proc is None and self.failed_starts == 0:
            self._spawn()

    def start(self) -> None:
        """Start a worker and import the student's modules in it, each within the import limit.
        A module whose import fails (an exception, a timeout, a crash) is recorded once in
        ``import_failures`` and never imported again: every later request that needs it fails at
        once with that reason, and a fresh worker is started for the other modules."""
        while True:
            if self.proc is None:
                self._spawn()
            self._await_start()
            if self._import_modules():
                return

    def _spawn(self) -> None:
        """Start the worker process and send it ``ping``; ``_await_start`` reads the answer."""
        self.generation += 1
        student_dir = self._student_dir()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        settings = {"in_fd": req_r, "out_fd": rep_w, "student_dir": str(student_dir),
                    "modules": self.settings.modules, "limits": self._limits(),
                    "forbidden": self.settings.forbidden, "operators": self.settings.operators,
                    "preload": self.settings.preload,
                    "broken": {m: f.summary() for m, f in self.import_failures.items()},
                    "syscall_filter": "required" if self.root_mode else "optional",
                    "drivers_file": (str(self.runtime / WEEK_DRIVERS_NAME)
                                     if self.settings.drivers is not None else None)}
        try:
            # The worker's output goes nowhere: no student print can reach feedback, fill a disk,
            # or block on a full pipe.
            command, options = self._launch(
                [self.settings.python, "-I", "-c", _BOOT.format(rt=str(self.runtime)), json.dumps(settings)],
                writable=[student_dir], readable=[self.runtime])
            self.proc = subprocess.Popen(
                command, pass_fds=(req_r, rep_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd=student_dir, env=self._env(student_dir),
                start_new_session=True, close_fds=True, **options)
        finally:
            os.close(req_r)
            os.close(rep_w)
        self.req_w, self.rep_r = req_w, rep_r
        WorkerChannel.live.add(self.proc.pid)
        self.reader = protocol.FrameReader(rep_r)
        self._start_deadline = time.monotonic() + STARTUP_SECONDS
        try:  # a frame this small fits the pipe's buffer: the write never waits for the worker
            protocol.write_frame(self.req_w, protocol.pack_frame({"op": "ping", "id": 0}, []),
                                 self._start_deadline)
        except protocol.ProtocolError:
            pass  # it died at once: _await_start says so

    def _await_start(self) -> None:
        """Wait for the answer to ``ping``. Start-up (an interpreter, numpy, the week's packages)
        is the grader's time, not the student's: it is waited for generously, so that the first
        call's deadline measures the student's code alone."""
        deadline, self._start_deadline = self._start_deadline, None
        if deadline is None:
            return
        try:
            header, buffers = self.reader.read(deadline)
            self.worker_status = _status(header, buffers)
        except protocol.ProtocolError as e:
            self._fail(f"did not start: {e}")
            self.failed_starts += 1
            raise WorkerFailure("startup", "the worker process could not start") from None
        self.failed_starts = 0
        self.measure_next = False
        self.worker_pid = self._find_worker()

    def _find_worker(self) -> int:
        """The worker interpreter's own process (under bubblewrap, a descendant of ``proc``), whose
        scheduler statistics the call limits are charged by."""
        if self.isolation != isolation.NAMESPACES:
            return self.proc.pid
        table = list(users.processes())
        ours = [pid for pid in users.with_descendants({self.proc.pid}, table)
                if any(p == pid and uid == self.user.pw_uid for p, uid, _, _, _ in table)]
        return min(ours) if ours else self.proc.pid

    # requests -------------------------------------------------------------------------------
    def _import_modules(self) -> bool:
        """Import each student module not known to fail; record a failure. False when the worker
        was lost doing so (a timeout, a crash, a broken channel): the caller starts another."""
        limit = self.settings.import_seconds
        for module in self.settings.modules:
            if module in self.import_failures:
                continue
            file = f"{module}.py"
            try:
                header, _ = self._exchange({"op": "import", "id": 0, "module": module}, [], limit)
            except WorkerFailure as e:
                if e.kind in ("overload", "startup"):
                    raise  # the machine's fault, not the student's: nothing is recorded
                detail = (f"importing it did not finish within {limit:g} seconds (an endless loop or a "
                          "very slow computation at module level, outside any function)"
                          if e.kind == "timeout" else f"{e.detail}, while it was being imported")
                self.import_failures[module] = ImportFailure(file, e.kind, detail)
                return False
            if header.get("id") != 0 or (header.get("ok") is not True and not isinstance(header.get("error"), dict)):
                self._fail("protocol error: a malformed reply to an import")
                self.import_failures[module] = ImportFailure(
                    file, "protocol", "the worker process sent a malformed reply while it was being imported")
                return False
            if header.get("ok") is not True:
                self.import_failures[module] = ImportFailure(file, "exception", "", StudentError(header["error"]))
        return True

    def request(self, message: dict, buffers: list[bytes], timeout: float | None) -> tuple[dict, list[bytes]]:
        """Send one request and return the reply. Raises :class:`WorkerFailure` when the worker
        crashes, hangs or breaks the protocol, and :class:`ImportFailure` at once for a request to a
        module whose import failed."""
        if self.proc is not None and not self.awaiting_start and self.proc.poll() is not None:
            self._fail(f"found dead before a request ({self._stop()})")  # died after its last reply
        self._refuse_if_broken(message)
        if self.proc is None or self.awaiting_start:  # not started, or launched and not yet waited for
            if self.failed_starts >= 2:  # it will not start: say so at once instead of waiting again
                raise WorkerFailure("startup", "the worker process could not start")
            self.start()
            self._refuse_if_broken(message)
        return self._exchange(message, buffers, timeout)

    def _refuse_if_broken(self, message: dict) -> None:
        """Raise the recorded failure when ``message`` needs a module that could not be imported:
        the module it names, or (a driver) a module named among its arguments."""
        if not self.import_failures:
            return
        names = [message.get("module")]
        args = message.get("args")
        if message.get("op") == "driver" and isinstance(args, dict) and isinstance(args.get("v"), list):
            names += args["v"]  # a driver is handed the module it runs by name (Submission._route)
        for name in names:
            if isinstance(name, str) and name in self.import_failures:
                raise self.import_failures[name].again()

    def _exchange(self, message: dict, buffers: list[bytes], timeout: float | None) -> tuple[dict, list[bytes]]:
        """One request and its reply, within ``timeout`` seconds charged to the student."""
        limit = timeout if timeout is not None else 3600.0
        # A timed call (Submission.timed) counts the CPU of every process of the worker user from
        # its start; any other call, only once it lasts (scanning them costs a little).
        measure, self.measure_next = self.measure_next, False
        clock = ChargedClock(self.worker_pid or self.proc.pid,
                             self.user.pw_uid if self.user is not None else None, measure)
        self.last_charged = None
        try:
            protocol.write_frame(self.req_w, protocol.pack_frame(message, buffers), time.monotonic() + limit)
            self._await_reply(clock, limit)
            # The reply has begun: the worker is writing it, so finishing it takes no student time.
            reply = self.reader.read(time.monotonic() + max(limit, REPLY_SECONDS))
            self.last_charged = clock.spent()
            return reply
        except protocol.Timeout:
            self.last_charged = clock.charged()
            self._fail(f"timed out after {timeout:.0f} s")
            raise WorkerFailure("timeout", f"the call did not finish within {timeout:.0f} seconds "
                                           "(an infinite loop, or far too slow)") from None
        except Overloaded as e:
            self._fail(str(e))
            raise WorkerFailure("overload", str(e)) from None
        except protocol.PeerClosed:
            code = self._fail("exited")
            raise WorkerFailure("crash", f"the student's code ended the worker process ({code})") from None
        except protocol.ProtocolError as e:
            self._fail(f"protocol error: {e}")
            raise WorkerFailure("protocol", "the worker process sent a malformed reply") from None

    def _await_reply(self, clock: ChargedClock, limit: float) -> None:
        """Wait until the reply starts, charging the student only for time the worker was not kept
        waiting for a CPU: other work on a busy machine does not use up the student's limit."""
        hard = time.monotonic() + limit * OVERLOAD_FACTOR + 30.0
        while True:
            left = limit - clock.charged()
            if left <= 0:
                raise protocol.Timeout("no reply within the limit")
            now = time.monotonic()
            if now >= hard:
                raise Overloaded(f"the grading machine was too busy: the call had only "
                                 f"{clock.charged():.0f} s of its {limit:.0f} s in {now - clock.start:.0f} s")
            ready, _, _ = select.select([self.rep_r], [], [], min(left, hard - now, 1.0))
            if ready:
                return

    def _fail(self, what: str) -> str:
        code = self._stop()
        self.failures.append(what)
        return code

    def _stop(self) -> str:
        """End the current worker and everything it started; describe how it ended."""
        if self.proc is None:
            return "not running"
        for fd in (self.req_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        proc = self.proc
        self._start_deadline = None
        users.send(proc.pid, signal.SIGKILL)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        users.end_processes(lambda: self._worker_processes(whole_user=False))  # what it started
        WorkerChannel.live.discard(proc.pid)
        self.proc = None
        if code is None:
            return "could not be stopped"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def kill_all(self) -> None:
        """Stop, kill and reap every process the worker left; loop until none is left."""
        users.end_processes(self._worker_processes)

    def _worker_processes(self, whole_user: bool = True) -> list[int]:
        """Every live process the worker may have left behind.

        As root, at the end: every process of this run's worker user (never another run's).
        Otherwise, and when one worker of several is restarted: the worker's session, orphans that
        were re-parented to us (we are a subreaper), and all their descendants (under namespaces,
        its whole PID namespace goes with it).
        """
        if self.user is not None and whole_user:
            return users.processes_of(self.user.pw_uid)
        me = os.getpid()
        table = [p for p in users.processes() if p[0] != me and p[4] != "Z"]
        worker = self.proc.pid if self.proc is not None else None
        others = WorkerChannel.live - {worker}  # the other workers of this run are not ours to end
        return users.with_descendants({pid for pid, _, ppid, sid, _ in table
                                       if pid == worker or (worker is not None and sid == worker)
                                       or (ppid == me and pid not in self._known_children
                                           and pid not in others)}, table)

    # fresh workers ------------------------------------------------------------------------
    @property
    def workers_private(self) -> bool:
        """Whether a worker can leave nothing for another worker of this run to find while both
        live: under namespaces each has its own /tmp, IPC, network and PIDs, and sees no other's
        scratch folder. Otherwise they share the worker user's (or the grader's) world."""
        return self.isolation == isolation.NAMESPACES

    def stop(self) -> None:
        """End the current worker and what it started (not a failure); the next request starts
        another. Objects held in it are lost."""
        self._stop()

    def fresh(self) -> WorkerChannel:
        """A new channel with the same settings (the same student files, limits and user), whose
        workers start with nothing this channel's workers left behind.

        Without namespaces a worker could hand a later one what it was sent through the user's
        files, IPC objects or a live process, so (as root) every process of the worker user is
        ended and every file it owns in the shared folders and in the scratch folders of this
        machine's sandboxes (its earlier workers' copies, and whatever they wrote there) and its IPC
        objects are removed first: every channel of that user must be stopped before
        (``Submission.fresh`` does so), or its worker is found dead at its next request. Not root,
        the workers are the grader's own user: nothing can be cleared, and the grader says so in
        the results (``isolation``)."""
        if not self.workers_private:
            self._stop()
            if self.user is not None:
                users.clear_user(self.user.pw_uid)
        return WorkerChannel(self.settings)

    def close(self) -> None:
        """End the worker for good, remove the scratch folders, and free the worker user."""
        self._stop()
        self.kill_all()
        shutil.rmtree(self.base, ignore_errors=True)
        if self._held is not None:
            self._held.release()  # only now may another run take this user

    def discard(self, why: str) -> None:
        """Drop the current worker (it broke the protocol); the next request starts a fresh one."""
        self._fail(why)
