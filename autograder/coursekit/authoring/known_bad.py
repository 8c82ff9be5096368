"""Known-bad submissions: typical student mistakes, each a small change to the reference.

``autograder/<week>/known_bad/<name>/expected.toml`` says what the mistake is, how to make it from
the reference, and exactly what it must score::

    description = "np.sign gives sign(0) = 0, so points on the boundary get label 0"
    lost = 5.0          # points the mistake costs in all (a check on the scores below)

    [[change]]
    file = "perceptron.py"
    old = '''
        return np.where(scores >= 0, 1, -1)
    '''
    new = '''
        return np.sign(scores).astype(np.int64)
    '''

    [scores]            # per-test score by test id; tests not listed must get full marks
    "test_predict_sign_of_zero" = 0.0
    "test_hidden_perceptron_predict.py::test_predict_ties" = 0.0

A score's key is a test's stable id (``file.py::test_name``, parameters included) or, when that
name is unique in the week, the test's name alone; adding or reordering tests never invalidates a
key, and a key that names no test (or several) fails ``make verify`` before anything is graded.

Keeping the mistake as a change (rather than a full copy) shows what it is at a glance and keeps it
in step with the reference: a change whose ``old`` text no longer occurs exactly once fails loudly.
The submission is the reference with its solution markers removed and the changes applied.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..config import WeekConfig
from .markers import without_markers  # noqa: F401 (also used as known_bad.without_markers)


class KnownBadError(ValueError):
    """A known-bad spec that cannot be applied; the message names the file and the change."""


@dataclass(frozen=True)
class KnownBad:
    name: str
    spec_path: Path
    description: str
    changes: tuple[tuple[str, str, str], ...]  # (file, old, new)
    scores: dict[str, float] = field(default_factory=dict)
    lost: float | None = None

    def expected_score(self, test_id: str, max_score: float) -> float:
        """What test ``test_id`` must score: the listed score, or full marks."""
        name = test_id.partition("::")[2]
        if test_id in self.scores:
            return self.scores[test_id]
        return self.scores.get(name, max_score)

    def key_problems(self, test_ids: list[str]) -> list[str]:
        """Keys that name no test of the week, or several (then the ``file::name`` form is needed)."""
        problems = []
        for key in self.scores:
            matches = [t for t in test_ids if t == key or t.partition("::")[2] == key]
            if not matches:
                problems.append(f"{self.spec_path}: [scores] names {key!r}, which is no test of this "
                                "week (keys are test ids: test_name or file.py::test_name)")
            elif len(matches) > 1:
                problems.append(f"{self.spec_path}: [scores] key {key!r} names {len(matches)} tests; "
                                f"use one of {', '.join(matches)}")
        return problems


def load(spec_path: Path) -> KnownBad:
    data = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    changes = []
    for i, change in enumerate(data.get("change", [])):
        try:
            changes.append((change["file"], change["old"], change["new"]))
        except KeyError as e:
            raise KnownBadError(f"{spec_path}: change[{i}] lacks {e.args[0]!r}") from None
    if not changes:
        raise KnownBadError(f"{spec_path}: no [[change]]: a known-bad submission must differ from the reference")
    if "total" in data:
        raise KnownBadError(f"{spec_path}: `total` is replaced by `lost` (the points the mistake costs "
                            "in all), which stays right when tests are added")
    return KnownBad(spec_path.parent.name, spec_path, data.get("description", ""), tuple(changes),
                    {str(k): float(v) for k, v in data.get("scores", {}).items()},
                    float(data["lost"]) if "lost" in data else None)


def discover(folder: Path) -> list[KnownBad]:
    """Every known-bad submission of a week, by folder name."""
    if not folder.is_dir():
        return []
    return [load(spec) for spec in sorted(folder.glob("*/expected.toml"))]


def materialize(bad: KnownBad, solution_dir: Path, week: WeekConfig, dest: Path) -> Path:
    """Write the known-bad submission's student files into ``dest``; return ``dest``.

    Raises :class:`KnownBadError` when a change does not apply, and
    :class:`~coursekit.authoring.markers.MarkerError` at a misspelt marker in the reference."""
    files = {name: without_markers((solution_dir / name).read_text(encoding="utf-8"), str(solution_dir / name))
             for name in week.student_files}
    for i, (file, old, new) in enumerate(bad.changes):
        if file not in files:
            raise KnownBadError(f"{bad.spec_path}: change[{i}] names {file!r}, not a student file")
        count = files[file].count(old)
        if count != 1:
            raise KnownBadError(f"{bad.spec_path}: change[{i}]: its old text occurs {count} times in "
                                f"{file} (reference, markers removed); it must occur exactly once: "
                                "update the change to the current reference")
        files[file] = files[file].replace(old, new)
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (dest / name).write_text(text, encoding="utf-8")
    return dest


_STUB = re.compile(r'^([ \t]*)raise NotImplementedError\("[a-z0-9_]+ task \d+ \([^"]*\) is not implemented yet"\)[ \t]*$', re.M)


def do_nothing(stencil_dir: Path, week: WeekConfig, dest: Path) -> Path:
    """The submission that does nothing: the stencil with every task's stub returning ``None``
    (classes keep the stencil's given code). It must score 0 with no grader error: points for
    code that does nothing would be points for nothing. Writes into ``dest``; returns it."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in week.student_files:
        text = (stencil_dir / name).read_text(encoding="utf-8")
        stubbed, count = _STUB.subn(r"\1return None", text)
        if count == 0:
            raise KnownBadError(f"{stencil_dir / name}: no task stub found to make the do-nothing submission")
        (dest / name).write_text(stubbed, encoding="utf-8")
    return dest
