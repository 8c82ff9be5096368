"""How the worker is isolated, chosen once per grading run from what the machine allows.

- **namespaces** (root, and bubblewrap can create namespaces here: a development machine, a CI
  runner, a course's own GPU runner): the worker runs under ``bwrap`` in its own mount, PID, IPC,
  UTS and network namespaces, with a private ``/tmp``, ``/var/tmp`` and ``/dev``, the grader's
  files and the course checkout hidden behind empty folders, and only its scratch folder writable;
  then ``setpriv`` drops it to the worker user with no groups and no new privileges. bubblewrap is
  the sandbox Flatpak uses (Debian package ``bubblewrap``); ``setpriv`` is util-linux's.
- **worker user** (root without namespaces, as in Gradescope's Docker containers): the worker runs
  as the unprivileged worker user; the grader's files are mode 700 and the run's clean-up sweeps
  the user's processes, files and IPC objects.
- **process session** (not root: a TA's or student's own machine): the worker is a separate
  process in its own session, with no user separation.

The results record which one was used (``extra_data.isolation``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

NAMESPACES = "namespaces (bubblewrap) and the worker user"
WORKER_USER = "the worker user"
SESSION = "a separate process session (not root: no user separation)"
#: Set to 0 to grade without namespaces even where bubblewrap works.
ENV_SWITCH = "COURSEKIT_NAMESPACES"
#: What of a course checkout is secret (the one rule, used by ``make grade``'s refusal and the
#: worker's preflight alike): the reference solutions, the graders with their goldens and held-out
#: data, build outputs (zips, results), and the history, which holds all of them. The rest (the
#: handouts, public tests, stencils, public data, the Makefile) is what students get anyway.
CHECKOUT_SECRETS = ("solutions", "autograder", "dist", ".git")


def is_checkout(folder: Path) -> bool:
    """Whether ``folder`` is a course checkout (it has ``assignments/`` and ``autograder/``)."""
    return (Path(folder) / "assignments").is_dir() and (Path(folder) / "autograder").is_dir()


def secret_parts(path: Path) -> list[Path]:
    """What of ``path`` the worker must not read: a checkout's :data:`CHECKOUT_SECRETS` that exist,
    or anything else (an export, an archive, an output folder) whole."""
    path = Path(path)
    if path.is_dir() and is_checkout(path):
        return [path / name for name in CHECKOUT_SECRETS if (path / name).exists()]
    return [path]


def namespaces_available() -> bool:
    """Whether ``bwrap`` can make the namespaces here (tried once: containers often forbid it)."""
    return os.geteuid() == 0 and os.environ.get(ENV_SWITCH) != "0" and _bwrap_works()


@functools.lru_cache(maxsize=1)
def _bwrap_works() -> bool:
    bwrap, setpriv = shutil.which("bwrap"), shutil.which("setpriv")
    if bwrap is None or setpriv is None:
        return False
    probe = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
             "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts", "--", "/bin/true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def choose(root_mode: bool) -> str:
    if not root_mode:
        return SESSION
    return NAMESPACES if namespaces_available() else WORKER_USER


def _under(path: Path, folders: list[Path]) -> bool:
    return any(path == f or path.is_relative_to(f) for f in folders)


def wrap(command: list[str], *, uid: int, gid: int, writable: list[Path], readable: list[Path],
         hidden: list[Path], blocked: list[Path] = ()) -> list[str]:
    """``command`` run inside the namespaces as ``uid``/``gid``: everything read-only, ``hidden``
    folders replaced by empty ones, ``/tmp`` private, ``writable`` and ``readable`` folders (which
    may lie in /tmp or under a hidden folder: the scratch copy, the worker's runtime, the Python
    environment) bound back in, and last the ``blocked`` folders (packages this worker may not
    use, inside the environment) emptied."""
    args = [shutil.which("bwrap") or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]
    private = [Path("/tmp"), Path("/var/tmp")]
    for folder in sorted({Path(h).resolve() for h in hidden if Path(h).exists()}):
        if not folder.is_dir():  # a file (an archive): an empty one in its place
            if not _under(folder, private):  # (in /tmp it is gone already)
                args += ["--ro-bind", "/dev/null", str(folder)]
            continue
        args += ["--tmpfs", str(folder)]
        private.append(folder)
    made: set[Path] = set()

    def bind(option: str, folder: Path) -> None:
        # bubblewrap makes missing parents private (0700); the worker must be able to pass them.
        for parent in reversed(folder.parents):
            if _under(parent, private) and parent not in private and parent not in made:
                args.extend(["--perms", "0755", "--dir", str(parent)])
                made.add(parent)
        args.extend([option, str(folder), str(folder)])

    for folder in _python_folders():
        if _under(folder, private):
            bind("--ro-bind", folder)
    for folder in readable:
        bind("--ro-bind", Path(folder))
    for folder in writable:
        bind("--bind", Path(folder))
    for folder in blocked:
        args += ["--tmpfs", str(folder)]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts", "--die-with-parent",
             "--new-session", "--chdir", str(writable[0]) if writable else "/", "--"]
    args += [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
             "--no-new-privs", "--inh-caps=-all", "--"]
    return args + command


def _python_folders() -> list[Path]:
    """The interpreter's and the environment's folders, which the worker must still read."""
    folders = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
               Path(os.path.realpath(sys.executable)).parent}
    return sorted(folders)


def probe_files(folder: Path, limit: int = 3) -> list[Path]:
    """A few regular files in ``folder`` (outside the Python environment) that the worker must not
    be able to open: the preflight's proof that the folder is hidden or private."""
    if folder.is_file():
        return [folder]
    python = _python_folders()
    found: list[Path] = []
    for path, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _under(Path(path, d).resolve(), python))
        found += [Path(path, f) for f in sorted(files) if Path(path, f).is_file()][: limit - len(found)]
        if len(found) >= limit:
            break
    return found


def package_folders(modules: list[str]) -> list[Path]:
    """The installed folders of ``modules`` (``torch``, ``scipy.signal``), to empty in a worker
    that may not use them; modules that are not installed have none."""
    import importlib.util

    found = []
    for name in modules:
        if name.split(".")[0] == "coursekit":
            continue  # the worker runs its own copy of the course package
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            found += [Path(p).resolve() for p in spec.submodule_search_locations]
    return found
