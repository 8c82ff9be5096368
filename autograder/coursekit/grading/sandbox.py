"""Start, talk to, and end the worker: a fresh, limited, unprivileged process per grading run.

When the grader runs as root (as on Gradescope), the worker runs as a dedicated user with no
supplementary groups; its scratch folder holds only copies of the student's declared files; the
worker code it runs is a root-owned copy of ``coursekit.worker`` and ``coursekit.protocol`` alone,
so no grader file is on its path. At the end every process of that user is stopped and killed, and
every orphan reaped, before results are written.

Without root (a TA's or student's machine) the worker runs as the same user in its own session; it
is isolated as a process, but not as a user, and the grader says so.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import protocol
from .client import WorkerFailure

WORKER_USER = os.environ.get("COURSEKIT_WORKER_USER", "coursekit-worker")
PR_SET_CHILD_SUBREAPER = 36
MAX_CONCURRENT_RUNS = 32
STARTUP_SECONDS = 60.0

_BOOT = ("import sys; sys.path.insert(0, {rt!r}); "
         "from coursekit.worker.main import main; sys.exit(main())")


class SandboxError(RuntimeError):
    """The sandbox cannot be set up as required; the message says what to fix."""


def become_subreaper() -> None:
    """Orphaned descendants (a student's ``setsid`` child) get re-parented to us, so we can end them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_worker_user(name: str = WORKER_USER) -> pwd.struct_passwd:
    """The worker user, created (system account, no home, no login) if it is missing. Root only."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    cmd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
           "--user-group", name]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        raise SandboxError(f"cannot create the worker user {name!r} ({' '.join(cmd)}): {detail.strip()}. "
                           "Create it yourself or set COURSEKIT_WORKER_USER to an existing "
                           "unprivileged user.") from None
    return pwd.getpwnam(name)


def acquire_worker_user(base: str = WORKER_USER) -> tuple[pwd.struct_passwd, int]:
    """A worker user that no other grading run on this machine is using, and the lock that says so.

    Killing "every process of the worker user" must not reach another run's worker, so concurrent
    runs (a TA grading in parallel, a test suite) each take their own user: ``coursekit-worker``,
    then ``coursekit-worker-1``, … (created on demand). On Gradescope there is one run per container.
    The locks live in a root-only folder, so no student process can hold one.
    """
    lockdir = Path(tempfile.gettempdir()) / "coursekit-worker-locks"
    lockdir.mkdir(mode=0o700, exist_ok=True)
    info = lockdir.lstat()
    if info.st_uid != 0 or info.st_mode & 0o077 or not os.path.isdir(lockdir) or os.path.islink(lockdir):
        raise SandboxError(f"{lockdir} must be a folder owned by root with mode 700; remove it and retry")
    for index in range(MAX_CONCURRENT_RUNS):
        name = base if index == 0 else f"{base}-{index}"
        fd = os.open(lockdir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return ensure_worker_user(name), fd
    raise SandboxError(f"{MAX_CONCURRENT_RUNS} grading runs are already running on this machine")


def runtime_copy(dest: Path) -> Path:
    """Copy the worker's code (and nothing else of the grader) into ``dest``; return ``dest``."""
    package = Path(__file__).resolve().parents[1]
    (dest / "coursekit" / "worker").mkdir(parents=True)
    shutil.copyfile(package / "__init__.py", dest / "coursekit" / "__init__.py")
    shutil.copyfile(package / "protocol.py", dest / "coursekit" / "protocol.py")
    for src in sorted((package / "worker").glob("*.py")):
        shutil.copyfile(src, dest / "coursekit" / "worker" / src.name)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


@dataclass
class SandboxSettings:
    student_files: dict[str, bytes]          # declared module files, by name
    forbidden: list = field(default_factory=list)
    memory_mb: int = 1500
    cpu_seconds: int = 600
    threads: int = 1
    python: str = sys.executable
    secret_paths: list[Path] = field(default_factory=list)  # must be unreadable to the worker

    @property
    def modules(self) -> list[str]:
        return [Path(f).stem for f in self.student_files]


class WorkerChannel:
    """A channel to a sandboxed worker, restarted on demand after a failure."""

    def __init__(self, settings: SandboxSettings):
        self.settings = settings
        self.root_mode = is_root()
        self.user, self._user_lock = acquire_worker_user() if self.root_mode else (None, None)
        self.base = Path(tempfile.mkdtemp(prefix="coursekit-sandbox-"))
        self.base.chmod(0o755)
        self.runtime = runtime_copy(self.base / "runtime")
        self.proc: subprocess.Popen | None = None
        self.generation = 0
        self.failures: list[str] = []
        self._known_children = set(_children_of(os.getpid()))
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

    def _popen_user(self) -> dict:
        if not self.user:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def preflight(self) -> None:
        """Check up front that the worker can start, import numpy, and cannot read grader files."""
        if not self.root_mode:
            return
        check = (
            "import json, os, sys\n"
            "out = {'numpy': True, 'readable': []}\n"
            "try:\n    import numpy\nexcept Exception as e:\n    out['numpy'] = repr(e)\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n        os.listdir(p) if os.path.isdir(p) else open(p, 'rb').close()\n"
            "        out['readable'].append(p)\n"
            "    except OSError:\n        pass\n"
            "print(json.dumps(out))\n")
        try:
            done = subprocess.run([self.settings.python, "-I", "-c", check,
                                   *map(str, self.settings.secret_paths)],
                                  capture_output=True, text=True, timeout=60, cwd="/",
                                  env=self._env(self.base), **self._popen_user())
        except (OSError, subprocess.SubprocessError) as e:
            raise SandboxError(self._cannot_start(str(e))) from None
        if done.returncode != 0:
            raise SandboxError(self._cannot_start(done.stderr.strip()[-500:]))
        result = json.loads(done.stdout)
        if result["numpy"] is not True:
            raise SandboxError(f"the worker user {self.user.pw_name!r} cannot import numpy with "
                               f"{self.settings.python}: {result['numpy']}. Make the Python "
                               "environment world-readable (a virtual environment built from the "
                               "system python3, outside any private home folder).")
        if result["readable"]:
            raise SandboxError(f"the worker user {self.user.pw_name!r} can read grader files: "
                               f"{', '.join(result['readable'])}. Make them private "
                               "(chmod 700 on the folder) before grading as root.")

    def _cannot_start(self, detail: str) -> str:
        return (f"the worker user {self.user.pw_name!r} cannot start {self.settings.python}: {detail}. "
                "Every folder above the interpreter and its virtual environment must be world-"
                "readable and searchable (chmod o+rx); a folder in root's home is not. Build the "
                "environment from the system python3 somewhere readable, e.g. "
                "`make VENV=/opt/course-venv ...`.")

    def start(self) -> None:
        self.generation += 1
        student_dir = self._student_dir()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        settings = {"in_fd": req_r, "out_fd": rep_w, "student_dir": str(student_dir),
                    "modules": self.settings.modules, "limits": self._limits(),
                    "forbidden": self.settings.forbidden}
        try:
            # The worker's output goes nowhere: no student print can reach feedback, fill a disk,
            # or block on a full pipe.
            self.proc = subprocess.Popen(
                [self.settings.python, "-I", "-c", _BOOT.format(rt=str(self.runtime)), json.dumps(settings)],
                pass_fds=(req_r, rep_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd=student_dir, env=self._env(student_dir),
                start_new_session=True, close_fds=True, **self._popen_user())
        finally:
            os.close(req_r)
            os.close(rep_w)
        self.req_w, self.rep_r = req_w, rep_r
        self.reader = protocol.FrameReader(rep_r)
        # Start-up (an interpreter, numpy) is the grader's time, not the student's: wait for it
        # here, generously, so the first call's deadline measures the student's code alone.
        deadline = time.monotonic() + STARTUP_SECONDS
        try:
            protocol.write_frame(self.req_w, protocol.pack_frame({"op": "ping", "id": 0}, []), deadline)
            self.reader.read(deadline)
        except protocol.ProtocolError as e:
            self._fail(f"did not start: {e}")
            raise WorkerFailure("startup", "the worker process could not start") from None

    # requests -------------------------------------------------------------------------------
    def request(self, message: dict, buffers: list[bytes], timeout: float | None) -> tuple[dict, list[bytes]]:
        if self.proc is not None and self.proc.poll() is not None:
            self._fail(f"found dead before a request ({self._stop()})")  # died after its last reply
        if self.proc is None:
            self.start()
        deadline = time.monotonic() + (timeout if timeout is not None else 3600)
        try:
            protocol.write_frame(self.req_w, protocol.pack_frame(message, buffers), deadline)
            return self.reader.read(deadline)
        except protocol.Timeout:
            self._fail(f"timed out after {timeout:.0f} s")
            raise WorkerFailure("timeout", f"the call did not finish within {timeout:.0f} seconds "
                                           "(an infinite loop, or far too slow)") from None
        except protocol.PeerClosed:
            code = self._fail("exited")
            raise WorkerFailure("crash", f"the student's code ended the worker process ({code})") from None
        except protocol.ProtocolError as e:
            self._fail(f"protocol error: {e}")
            raise WorkerFailure("protocol", "the worker process sent a malformed reply") from None

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
        _signal(proc.pid, signal.SIGKILL)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        self.kill_all()  # whatever it started, in its session or not
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
        for _ in range(50):
            targets = self._worker_processes()
            if not targets:
                break
            for pid in targets:  # freeze first, so nothing forks while we kill
                _signal(pid, signal.SIGSTOP)
            for pid in targets:
                _signal(pid, signal.SIGKILL)
            time.sleep(0.02)
            _reap()
        _reap()

    def _worker_processes(self) -> list[int]:
        """Every live process the worker may have left behind.

        As root: every process of the worker user. Otherwise: the worker's session, orphans that
        were re-parented to us (we are a subreaper), and all their descendants.
        """
        me = os.getpid()
        table = [p for p in _processes() if p[0] != me and p[4] != "Z"]
        if self.user is not None:
            return [pid for pid, uid, _, _, _ in table if uid == self.user.pw_uid]
        worker = self.proc.pid if self.proc is not None else None
        found = {pid for pid, _, ppid, sid, _ in table
                 if pid == worker or (worker is not None and sid == worker)
                 or (ppid == me and pid not in self._known_children)}
        grew = True
        while grew:
            more = {pid for pid, _, ppid, _, _ in table if ppid in found and pid not in found}
            found |= more
            grew = bool(more)
        return sorted(found)

    def close(self) -> None:
        """End the worker for good, remove the scratch folders, and free the worker user."""
        self._stop()
        self.kill_all()
        shutil.rmtree(self.base, ignore_errors=True)
        if self._user_lock is not None:
            os.close(self._user_lock)  # only now may another run take this user
            self._user_lock = None

    def discard(self, why: str) -> None:
        """Drop the current worker (it broke the protocol); the next request starts a fresh one."""
        self._fail(why)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _processes():
    """(pid, uid, ppid, sid, state) of every process, from /proc."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            uid = os.stat(f"/proc/{entry}").st_uid
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        yield int(entry), uid, int(rest[1]), int(rest[3]), rest[0]


def _children_of(pid: int) -> list[int]:
    return [p for p, _, ppid, _, _ in _processes() if ppid == pid]
