"""A synthetic class: a Gradescope "Export Submissions" folder of a week's known submissions, each
with the score it must get, for the batch benchmark and the batch grading tests.

The mix cycles through the reference (``solutions/<week>``, full marks), the untouched stencil
(zero) and every known-bad submission (exactly its expected scores, see
:mod:`coursekit.authoring.known_bad`). Every ``zip_every``-th submission is uploaded as a zip
instead of loose files. The folder holds ``submission_metadata.yml`` (as Gradescope writes it:
Ruby symbols for keys) and one ``submission_<n>`` folder per submission.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..config import WeekConfig
from ..paths import Repo
from . import known_bad
from .submissions import METADATA, Submitter


@dataclass(frozen=True)
class Planted:
    """One synthetic submission: its id, what it is, and ``check(results)`` → problems (empty
    when its results are exactly what it must score)."""

    id: str
    kind: str
    check: Callable[[dict], list[str]]
    submitters: tuple[Submitter, ...]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.suffix == ".py"}


def place(files: dict[str, bytes], dest: Path, as_zip: bool) -> Path:
    """Write a submission's files into the folder ``dest``, loose or as ``submission.zip``."""
    dest.mkdir(parents=True, exist_ok=True)
    if as_zip:
        with zipfile.ZipFile(dest / "submission.zip", "w") as z:
            for name, data in files.items():
                z.writestr(name, data)
    else:
        for name, data in files.items():
            (dest / name).write_bytes(data)
    return dest


def kinds(repo: Repo, week: WeekConfig, scratch: Path) -> list[tuple[str, dict[str, bytes], Callable]]:
    """(kind, files, check) for the reference, the stencil and each known-bad submission."""
    from .commands.verify import check_known_bad, check_reference, check_zero

    out = [("reference", _files(repo.solution(week.name)), lambda r: check_reference(week, r)),
           ("stencil", _files(repo.stencil(week.name)), lambda r: check_zero("the stencil", r))]
    for bad in known_bad.discover(repo.known_bad(week.name)):
        folder = known_bad.materialize(bad, repo.solution(week.name), week, scratch / bad.name)
        out.append((f"known-bad {bad.name}", _files(folder), lambda r, b=bad: check_known_bad(b, r)))
    return out


def student(n: int) -> Submitter:
    return Submitter(f"Student {n:03d}", f"student{n:03d}@example.edu", f"{100000 + n}")


def write_metadata(dest: Path, planted: list[Planted]) -> Path:
    """``submission_metadata.yml`` for ``planted``, in Gradescope's shape (a value with a Ruby tag
    included, as Ruby's YAML writes some)."""
    lines = []
    for p in planted:
        lines += [f"{p.id}:", "  :submitters:"]
        for s in p.submitters:
            lines += [f"  - :name: {s.name}", f"    :sid: '{s.sid}'", f"    :email: {s.email}"]
        lines += ["  :created_at: 2026-01-15 23:59:00.000000000 -08:00", "  :score: !ruby/object:BigDecimal 18:0.0",
                  "  :status: processed"]
    path = Path(dest) / METADATA
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def synthetic_export(repo: Repo, week: WeekConfig, dest: Path, count: int, zip_every: int = 5) -> list[Planted]:
    """Write ``count`` submissions into ``dest`` (a Gradescope export folder); return them."""
    import tempfile

    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="coursekit-class-") as scratch:
        mix = kinds(repo, week, Path(scratch))
    planted = []
    for i in range(count):
        kind, files, check = mix[i % len(mix)]
        sub_id = f"submission_{i + 1:06d}"
        place(files, dest / sub_id, as_zip=zip_every > 0 and i % zip_every == zip_every - 1)
        planted.append(Planted(sub_id, kind, check, (student(i + 1),)))
    write_metadata(dest, planted)
    return planted
