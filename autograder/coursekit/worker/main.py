"""Entry point of the worker process: limit itself, then serve requests until the channel closes.

Started by the grader (``coursekit.grading.sandbox``) as a fresh interpreter, as an unprivileged
user when the grader is root, with one JSON argument::

    python -I -c "<bootstrap>" '{"in_fd": 3, "out_fd": 4, "student_dir": ..., "modules": [...],
                                 "limits": {...}, "forbidden": [[api, [files], reason, kind, everywhere], ...],
                                 "operators": {"aten::layer_norm": message if used, ...},
                                 "preload": [packages imported before the answer to ping],
                                 "broken": {module: why its import failed in an earlier worker},
                                 "drivers_file": path of the week's drivers or null}'

The syscall filter (:mod:`coursekit.worker.syscalls`) and the limits are applied before any
student code is imported: the filter cannot be removed, and hard and soft limits are set equal, so
the student's code (not root) cannot raise them again. With ``"syscall_filter": "required"`` (the
grader runs as root) a worker that cannot install the filter exits at once, before it answers the
grader's first message; otherwise it goes on and says so in its answer to ``ping``.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import sys
from pathlib import Path

PR_SET_NO_NEW_PRIVS = 38

#: resource name → rlimit constant; values come from the grader.
LIMITS = {
    "cpu_seconds": resource.RLIMIT_CPU,
    "data_bytes": resource.RLIMIT_DATA,
    "file_bytes": resource.RLIMIT_FSIZE,
    "open_files": resource.RLIMIT_NOFILE,
    "processes": resource.RLIMIT_NPROC,
    "core_bytes": resource.RLIMIT_CORE,
}


def apply_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        which = LIMITS[name]
        soft, hard = resource.getrlimit(which)
        value = int(value)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
    # Writes past the file-size limit fail with EFBIG instead of killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:  # the kernel's OOM killer takes the worker before the grader
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
    # No new privileges, irrevocably: a setuid program the student starts (su, passwd) runs with
    # the worker's rights, not root's, so it can neither escalate nor outlive the user's clean-up.
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    # Files the student's code creates are private to this worker unless it says otherwise.
    os.umask(0o077)


#: Exit code of a worker that could not install a required syscall filter.
NO_FILTER_EXIT = 71


def install_filter() -> dict:
    """Install the syscall filter; what happened, for the grader's record."""
    from . import syscalls

    try:
        return {"syscall_filter": syscalls.install()}
    except Exception as e:  # a missing libseccomp or binding, or a kernel that refuses it
        return {"syscall_filter": None, "syscall_filter_error": f"{type(e).__name__}: {e}"[:300]}


def serve(settings: dict) -> int:
    status = install_filter()  # first: before anything else runs in this process
    if status["syscall_filter"] is None and settings.get("syscall_filter") == "required":
        return NO_FILTER_EXIT
    from .. import protocol
    from . import guard
    from .server import BrokenModules, Server

    in_fd, out_fd = int(settings["in_fd"]), int(settings["out_fd"])
    student_dir = Path(settings["student_dir"])
    apply_limits(settings.get("limits", {}))
    drivers_file = settings.get("drivers_file")
    guard.install([guard.Rule(*rule) for rule in settings.get("forbidden", [])], student_dir,
                  files=[f"{m}.py" for m in settings["modules"]],
                  worker={"anchor": sys._getframe(), "library_files": [drivers_file] if drivers_file else []})
    if settings.get("operators"):  # before student code: every spelling of them is refused
        from .operators import refuse
        refuse(settings["operators"])
    for package in settings.get("preload", []):  # the grader's start-up time, not the student's
        try:
            importlib.import_module(package)
        except Exception:
            pass  # the student's own import of it fails, and says why, in the student's time
    os.chdir(student_dir)
    server = Server(student_dir, settings["modules"], Path(drivers_file) if drivers_file else None,
                    broken=settings.get("broken"), status=status)
    sys.meta_path.insert(0, BrokenModules(server.broken))
    reader = protocol.FrameReader(in_fd)
    while True:
        try:
            header, buffers = reader.read()
        except protocol.ProtocolError:
            return 0  # the grader closed the channel or sent garbage: nothing more to do
        reply = server.handle_frame(header, buffers)
        try:
            protocol.write_frame(out_fd, reply)
        except protocol.ProtocolError:
            return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return serve(json.loads(argv[0]))


if __name__ == "__main__":
    sys.exit(main())
