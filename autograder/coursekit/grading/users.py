"""Worker users: taking one for a grading run, and ending every process it left.

As root, student code runs as a dedicated unprivileged user. Ending "every process of the worker
user" must never reach another grading run's worker, so each run takes a user of its own
(``coursekit-worker``, then ``coursekit-worker-1``, …, created on demand) and holds a lock on it
for the whole run; only the run holding the lock ends that user's processes. The locks live in a
root-only folder, so no student process can take one.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import pwd
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BASE_USER = os.environ.get("COURSEKIT_WORKER_USER", "coursekit-worker")
MAX_CONCURRENT_RUNS = 32
PR_SET_CHILD_SUBREAPER = 36


class SandboxError(RuntimeError):
    """The sandbox cannot be set up as required; the message says what to fix."""


def is_root() -> bool:
    return os.geteuid() == 0


def become_subreaper() -> None:
    """Orphaned descendants (a student's ``setsid`` child) get re-parented to us, so we can end them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def ensure_user(name: str) -> pwd.struct_passwd:
    """The user ``name``, created (system account, no home, no login shell) if it is missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    cmd = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
           "--user-group", name]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        try:  # a concurrent run may have created it meanwhile
            return pwd.getpwnam(name)
        except KeyError:
            pass
        raise SandboxError(f"cannot create the worker user {name!r} ({' '.join(cmd)}): "
                           f"{str(detail).strip()}. Create it yourself or set COURSEKIT_WORKER_USER "
                           "to an existing unprivileged user.") from None
    return pwd.getpwnam(name)


@dataclass
class WorkerUser:
    """A worker user this run holds; :meth:`release` lets another run take it."""

    account: pwd.struct_passwd
    lock_fd: int | None

    @property
    def name(self) -> str:
        return self.account.pw_name

    @property
    def uid(self) -> int:
        return self.account.pw_uid

    def release(self) -> None:
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def _lock_folder() -> Path:
    lockdir = Path(tempfile.gettempdir()) / "coursekit-worker-locks"
    lockdir.mkdir(mode=0o700, exist_ok=True)
    info = lockdir.lstat()
    if info.st_uid != 0 or info.st_mode & 0o077 or not os.path.isdir(lockdir) or os.path.islink(lockdir):
        raise SandboxError(f"{lockdir} must be a folder owned by root with mode 700; remove it and retry")
    return lockdir


def acquire(base: str = BASE_USER) -> WorkerUser:
    """A worker user no other grading run on this machine holds, locked for this run. Root only."""
    lockdir = _lock_folder()
    for index in range(MAX_CONCURRENT_RUNS):
        name = base if index == 0 else f"{base}-{index}"
        fd = os.open(lockdir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            return WorkerUser(ensure_user(name), fd)
        except BaseException:
            os.close(fd)
            raise
    raise SandboxError(f"{MAX_CONCURRENT_RUNS} grading runs are already running on this machine")


def held(name: str) -> WorkerUser:
    """The user ``name``, which the calling run's supervisor already holds the lock for."""
    try:
        return WorkerUser(pwd.getpwnam(name), None)
    except KeyError:
        raise SandboxError(f"the worker user {name!r} does not exist") from None


# --- processes --------------------------------------------------------------------------------

def processes():
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


def send(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def reap() -> None:
    """Collect every exited child (zombies still count toward the worker user's process limit)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_processes(find) -> int:
    """Freeze, then kill, every process ``find()`` lists, until it lists none; return how many."""
    ended: set[int] = set()
    for _ in range(100):
        targets = find()
        if not targets:
            break
        for pid in targets:  # freeze first, so nothing forks while we kill
            send(pid, signal.SIGSTOP)
        for pid in targets:
            send(pid, signal.SIGKILL)
        ended.update(targets)
        time.sleep(0.02)
        reap()
    reap()
    return len(ended)


def processes_of(uid: int) -> list[int]:
    """Live processes whose real or effective owner is ``uid`` (``/proc/<pid>`` is owned by the
    effective uid; a setuid helper the worker started is found through its real uid)."""
    me = os.getpid()
    found = []
    for pid, owner, _, _, state in processes():
        if pid == me or state == "Z":
            continue
        if owner == uid or _real_uid(pid) == uid:
            found.append(pid)
    return found


def _real_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def with_descendants(seeds: set[int], table: list | None = None) -> list[int]:
    """``seeds`` and every live descendant of theirs (from ``table``, a :func:`processes` list)."""
    table = [p for p in (table if table is not None else processes()) if p[4] != "Z"]
    found = set(seeds)
    grew = True
    while grew:
        more = {p for p, _, ppid, _, _ in table if ppid in found and p not in found}
        found |= more
        grew = bool(more)
    return sorted(found)


def descendants_of(pid: int) -> list[int]:
    """Live descendants of ``pid`` (orphans re-parented to a subreaper ``pid`` included)."""
    table = [p for p in processes() if p[4] != "Z"]
    return with_descendants({p for p, _, ppid, _, _ in table if ppid == pid}, table)


# --- files and IPC objects --------------------------------------------------------------------

#: The prefix of each worker channel's scratch folder in the temporary folder.
SANDBOX_PREFIX = "coursekit-sandbox-"

#: World-writable places a worker can leave files in for a later run to find.
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")


def remove_files_of(uid: int, roots: tuple[str, ...] = SHARED_FOLDERS) -> int:
    """Delete every file and folder under ``roots`` that ``uid`` owns (never following a link);
    return how many. Run after the user's processes are gone, so nothing can race it.

    The user can only have created entries in folders it may write to: its own, or world-writable
    ones (it has no supplementary groups). So only those are searched, which keeps the sweep fast
    beside large trees of other users (a virtual environment in /tmp)."""
    import shutil
    import stat

    removed = 0
    pending = [root for root in roots if os.path.isdir(root)]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    try:
                        os.unlink(entry.path)
                    except OSError:
                        continue
                removed += 1
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & 0o002:
                pending.append(entry.path)
    return removed


def remove_ipc_of(uid: int) -> int:
    """Remove the System V shared-memory segments, message queues and semaphore sets ``uid`` owns
    or created (``/proc/sysvipc``, ``ipcrm``); return how many."""
    removed = 0
    for kind, flag in (("shm", "-m"), ("msg", "-q"), ("sem", "-s")):
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii", errors="replace") as f:
                header, *rows = f.read().splitlines()
        except OSError:
            continue
        columns = header.split()
        for row in rows:
            fields = dict(zip(columns, row.split()))
            owners = {fields.get("uid"), fields.get("cuid")}
            ident = fields.get("shmid") or fields.get("msqid") or fields.get("semid")
            if str(uid) in owners and ident is not None:
                done = subprocess.run(["ipcrm", flag, ident], capture_output=True)
                removed += done.returncode == 0
    return removed


def keys_of(uid: int) -> int:
    """How many kernel keys ``uid`` holds (``/proc/key-users``; 0 where it is unreadable). A user
    that never touched a keyring has no line."""
    try:
        with open("/proc/key-users", encoding="ascii", errors="replace") as f:
            for line in f:
                owner, _, rest = line.partition(":")
                if owner.strip() == str(uid):
                    return int(rest.split()[1].split("/")[0])
    except (OSError, ValueError, IndexError):
        pass
    return 0


#: Run as the worker user (keys can only be reached through their owner's keyrings): invalidate
#: every key linked in its user and user-session keyrings, then empty them (``keyctl(2)``:
#: KEYCTL_READ 11, KEYCTL_INVALIDATE 21, KEYCTL_CLEAR 7; KEY_SPEC_USER_KEYRING -4,
#: KEY_SPEC_USER_SESSION_KEYRING -5). Invalidated keys are gone at once for everyone.
_CLEAR_KEYS = """
import ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_KEYCTL = 250
for ring in (-4, -5):
    buf = ctypes.create_string_buffer(4 * 4096)
    n = libc.syscall(SYS_KEYCTL, 11, ring, buf, len(buf))
    for key in struct.unpack(f"{max(min(n, len(buf)), 0) // 4}i", buf.raw[:max(min(n, len(buf)), 0) // 4 * 4]):
        libc.syscall(SYS_KEYCTL, 21, key)
    libc.syscall(SYS_KEYCTL, 7, ring)
"""


def remove_keys_of(uid: int) -> int:
    """Invalidate the kernel keys ``uid`` holds (a worker that ran without the syscall filter, on an
    earlier version or another tool, could have left one open to everyone). Returns how many keys
    it held before, keyrings included (0 when it never touched a keyring). Root only."""
    held = keys_of(uid)
    if held and is_root():
        import sys

        try:
            subprocess.run([sys.executable, "-I", "-S", "-c", _CLEAR_KEYS], user=uid, group=pwd.getpwuid(uid).pw_gid,
                           extra_groups=[], capture_output=True, timeout=30, cwd="/")
        except (OSError, KeyError, subprocess.SubprocessError):
            pass
    return held


def sandbox_folders() -> tuple[str, ...]:
    """The scratch folders of every worker channel on this machine (``coursekit-sandbox-*``)."""
    return tuple(str(p) for p in Path(tempfile.gettempdir()).glob(f"{SANDBOX_PREFIX}*") if p.is_dir())


def clear_user(uid: int) -> dict[str, int]:
    """End every process of the worker user ``uid`` and remove what it can leave behind: its files
    in the shared folders and in every sandbox's scratch folders, and its IPC objects. Returns how
    many of each; for kernel keys, which its syscall filter never lets it make, how many it held
    (a count above 0 means a worker ran without the filter), all invalidated."""
    return {"processes": end_processes(lambda: processes_of(uid)),
            "files": remove_files_of(uid, SHARED_FOLDERS + sandbox_folders()),
            "ipc": remove_ipc_of(uid),
            "keys": remove_keys_of(uid)}
