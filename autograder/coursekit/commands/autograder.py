"""``make autograder HW=x``: ``dist/gradescope/x.zip``, ready to upload to Gradescope.

The archive holds, at its root: ``setup.sh`` and ``run_autograder`` (from ``gradescope/``), the
pinned ``requirements.txt``, the grading engine as an installable ``engine/`` (the ``coursekit``
package without the TA's tooling), the week's ``week.toml``, its public and hidden tests under
``tests/``, and the bundled ``datasets/``. Nothing from ``solutions/`` and no known-bad submission.

Two builds from the same tree are byte-identical: entries are sorted, timestamps fixed, and
permissions normalized. Before writing, a leak scan refuses the build (naming the file and line)
when a file equals a reference file, holds a solution marker, or repeats a line of a solution region.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

from .. import leaks
from ..config import WeekConfig, load_week
from ..paths import Repo
from ..stencil import IGNORED_NAMES, IGNORED_SUFFIXES

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: Runtime dependencies the grader needs, pinned like pyproject.toml (checked by a test).
RUNTIME_REQUIREMENTS = ("torch", "numpy", "pytest", "fastjsonschema")
#: Parts of the package only the TA's machine needs (authoring, releasing); never shipped.
TA_ONLY = ("commands", "cli.py", "__main__.py", "stencil.py", "known_bad.py", "leaks.py",
           "data/build_digits.py", "data/build_text.py")

ENGINE_PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "coursekit"
version = "{version}"
description = "The course's grading engine (as shipped to Gradescope)"
requires-python = ">=3.11"

[tool.setuptools.packages.find]
include = ["coursekit*"]
"""


class LeakError(RuntimeError):
    """The archive would carry private material; the message names the file."""


def files_under(folder: Path, prefix: str) -> dict[str, bytes]:
    out = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(p in IGNORED_NAMES for p in rel.parts) and path.suffix not in IGNORED_SUFFIXES:
            out[f"{prefix}/{rel.as_posix()}"] = path.read_bytes()
    return out


def requirements(repo: Repo) -> str:
    """Pinned runtime requirements, read from pyproject.toml so the two cannot disagree."""
    import tomllib
    deps = tomllib.loads((repo.root / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {d.split("==")[0]: d for d in deps}
    return "".join(pins[name] + "\n" for name in RUNTIME_REQUIREMENTS)


def engine_files(prefix: str, week: str) -> dict[str, bytes]:
    """The ``coursekit`` package under ``prefix`` (``engine/coursekit``), without the TA's tooling
    and without other weeks' drivers."""
    package = Path(__file__).resolve().parents[1]
    files = {}
    for rel, data in files_under(package, prefix).items():
        inner = rel.removeprefix(prefix + "/")
        if any(inner == t or inner.startswith(t + "/") for t in TA_ONLY):
            continue
        if re.fullmatch(r"worker/drivers_\w+\.py", inner) and inner != f"worker/drivers_{week}.py":
            continue
        files[rel] = data
    return files


def contents(repo: Repo, week: WeekConfig) -> dict[str, bytes]:
    """Every file of the archive, by its path inside the archive."""
    import coursekit
    files: dict[str, bytes] = {}
    for name in ("setup.sh", "run_autograder"):
        files[name] = (repo.root / "gradescope" / name).read_bytes()
    files["requirements.txt"] = requirements(repo).encode()
    files["engine/pyproject.toml"] = ENGINE_PYPROJECT.format(version=coursekit.__version__).encode()
    files.update(engine_files("engine/coursekit", week.name))
    files["week.toml"] = repo.config_path(week.name).read_bytes()
    files.update(files_under(repo.public_tests(week.name), "tests/public"))
    files.update(files_under(repo.hidden_tests(week.name), "tests/hidden"))
    files.update(files_under(repo.datasets, "datasets"))
    return dict(sorted(files.items()))


def scan(files: dict[str, bytes], repo: Repo, week: WeekConfig) -> None:
    """Refuse (``LeakError``) if any file would carry the reference into the archive: a copy of a
    reference file, a solution marker, or a line of a solution region (hidden tests may ship)."""
    problems = leaks.scan(files, leaks.collect(repo, week, hidden_tests=False))
    if problems:
        raise LeakError("refusing to build: " + "; ".join(problems))


def write_zip(files: dict[str, bytes], path: Path) -> None:
    """A reproducible zip: sorted entries, fixed timestamps, normalized permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions above are honoured
            archive.writestr(info, data)
    tmp.replace(path)


def build(repo: Repo, week: WeekConfig, out: Path | None = None) -> Path:
    out = out or repo.dist / "gradescope" / f"{week.name}.zip"
    files = contents(repo, week)
    scan(files, repo, week)
    write_zip(files, out)
    return out


def main(*, week: str, repo: Repo | None = None) -> int:
    repo = repo or Repo.here()
    config = load_week(repo, week)
    try:
        path = build(repo, config)
    except LeakError as e:
        print(f"error: {e}")
        return 1
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        count = len(archive.infolist())
    print(f"wrote {path} ({len(data) / 1024:.0f} KiB, {count} files, sha256 {hashlib.sha256(data).hexdigest()[:16]})")
    print("upload it on Gradescope: Configure Autograder → Zip file upload; see the README's TA guide")
    return 0
