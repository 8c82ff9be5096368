"""``make autograder HW=x``: ``dist/gradescope/x.zip``, ready to upload to Gradescope.

The archive's contents follow :mod:`coursekit.grading.layout` (the one description of Gradescope's
layout): ``setup.sh`` and ``run_autograder`` (from ``gradescope/``), the pinned ``requirements.txt``,
the prebuilt ``fallback.json``, the grading engine as an installable ``engine/`` (the ``coursekit``
package without ``coursekit/authoring/``, the TA's tooling), the week's ``week.toml`` and
``drivers.py``, its public and hidden tests under ``tests/``, and the bundled ``datasets/``. Nothing
from ``solutions/`` and no known-bad submission. :func:`contents` is also what ``make grade`` lays
out to grade in, so a local grade and Gradescope run the same tree.

Two builds from the same tree are byte-identical: entries are sorted, timestamps fixed, and
permissions normalized. Before writing, a leak scan refuses the build (naming the file and line)
when a file equals a reference file, holds a solution marker, or repeats a line of a solution region.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from ...config import WeekConfig, load_week
from ...grading import layout
from ...paths import Repo
from .. import leaks
from ..stencil import IGNORED_NAMES, IGNORED_SUFFIXES

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: Runtime dependencies the grader needs, pinned like pyproject.toml (checked by a test).
RUNTIME_REQUIREMENTS = ("torch", "numpy", "pytest", "fastjsonschema", "pyseccomp")
#: What a student's starter needs of them: its tests run in process, with no worker to filter.
STARTER_REQUIREMENTS = tuple(n for n in RUNTIME_REQUIREMENTS if n != "pyseccomp")
#: The subpackage only the TA's machine has (authoring, releasing): never shipped, as a folder.
TA_ONLY_FOLDER = "authoring"

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


def requirements(repo: Repo, names: tuple[str, ...] = RUNTIME_REQUIREMENTS) -> str:
    """Pinned requirements (by default the grader's runtime), read from pyproject.toml so the two
    cannot disagree."""
    import tomllib
    deps = tomllib.loads((repo.root / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {d.split("==")[0]: d for d in deps}
    return "".join(pins[name] + "\n" for name in names)


def engine_files(prefix: str) -> dict[str, bytes]:
    """The ``coursekit`` package under ``prefix`` (``engine/coursekit``), without ``authoring/``."""
    package = Path(__file__).resolve().parents[2]
    return {rel: data for rel, data in files_under(package, prefix).items()
            if rel.removeprefix(prefix + "/").split("/")[0] != TA_ONLY_FOLDER}


def fallback_results() -> bytes:
    """The results ``run_autograder`` puts in place before Python starts (see grading.run)."""
    from ...grading import results, run
    return (json.dumps(results.fallback(run.NOT_FINISHED), indent=2) + "\n").encode()


def contents(repo: Repo, week: WeekConfig) -> dict[str, bytes]:
    """Every file of the archive, by its path inside the archive (= inside ``source/``)."""
    import coursekit
    files: dict[str, bytes] = {}
    for name in (layout.SETUP, layout.RUN_AUTOGRADER):
        files[name] = (repo.root / "gradescope" / name).read_bytes()
    files[layout.REQUIREMENTS] = requirements(repo).encode()
    files[layout.FALLBACK] = fallback_results()
    files[f"{layout.ENGINE}/pyproject.toml"] = ENGINE_PYPROJECT.format(version=coursekit.__version__).encode()
    files.update(engine_files(f"{layout.ENGINE}/coursekit"))
    files[layout.CONFIG] = repo.config_path(week.name).read_bytes()
    if repo.drivers(week.name).is_file():
        files[layout.DRIVERS] = repo.drivers(week.name).read_bytes()
    files.update(files_under(repo.public_tests(week.name), layout.PUBLIC_TESTS))
    files.update(files_under(repo.hidden_tests(week.name), layout.HIDDEN_TESTS))
    files.update(files_under(repo.datasets, layout.DATASETS))
    return dict(sorted(files.items()))


def write_tree(files: dict[str, bytes], dest: Path) -> Path:
    """Lay ``files`` out under ``dest`` as Gradescope unpacks the zip (scripts executable)."""
    for name, data in files.items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755 if name in layout.EXECUTABLES else 0o644)
    return dest


def scan(files: dict[str, bytes], repo: Repo, week: WeekConfig) -> None:
    """Refuse (``LeakError``) if the reference's markers are misspelt or malformed, or if any file
    would carry the reference into the archive: a copy of a reference file, a solution marker or a
    look-alike, or a line of its solution code (hidden tests may ship; their oracles may share
    short lines with the reference)."""
    problems = leaks.scan(files, leaks.collect(repo, week, hidden_tests=False), graders=layout.HIDDEN_TESTS)
    if problems:
        raise LeakError("refusing to build: " + "; ".join(problems))


def write_zip(files: dict[str, bytes], path: Path) -> None:
    """A reproducible zip: sorted entries, fixed timestamps, normalized permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            executable = name in layout.EXECUTABLES
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
