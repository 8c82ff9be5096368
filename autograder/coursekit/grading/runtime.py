"""The worker's runtime: the only engine code a worker process may load, copied for each run.

A root-owned, world-readable copy of ``coursekit/__init__.py``, ``coursekit/protocol.py`` and
``coursekit/worker/``, plus the week's ``drivers.py`` as ``week_drivers.py``: no grader module is on
the worker's path, and no other week's drivers.
"""

from __future__ import annotations

import shutil
from pathlib import Path


#: Where the week's drivers land in the worker's runtime copy.
WEEK_DRIVERS_NAME = "week_drivers.py"


def runtime_copy(dest: Path, drivers: bytes | None = None) -> Path:
    """Copy the worker's code (and nothing else of the grader) into ``dest``, with the week's
    drivers (``drivers``, the bytes of its ``drivers.py``) as ``dest/week_drivers.py``."""
    package = Path(__file__).resolve().parents[1]
    (dest / "coursekit" / "worker").mkdir(parents=True)
    shutil.copyfile(package / "__init__.py", dest / "coursekit" / "__init__.py")
    shutil.copyfile(package / "protocol.py", dest / "coursekit" / "protocol.py")
    for src in sorted((package / "worker").glob("*.py")):
        shutil.copyfile(src, dest / "coursekit" / "worker" / src.name)
    if drivers is not None:
        (dest / WEEK_DRIVERS_NAME).write_bytes(drivers)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest
