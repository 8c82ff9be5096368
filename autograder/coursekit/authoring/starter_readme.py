"""The starter's ``README.md``: the week's handout with a generated *Getting started* section.

The section goes before the handout's first ``##`` heading (after its title and introduction) and
says what the starter's own files offer, from the same values they are built from: what to install
(Python 3.11+, make, git; the pinned packages of ``requirements.txt``), the ``make`` targets of the
student ``Makefile`` (install, test, ``TASK=n``, submit, help) and ``pytest --task n``, how to work,
what ``datasets/`` holds, how to submit, and what the GitHub Classroom workflow does: the points it
gives per task are the public tests' points, which it states with their total.
"""

from __future__ import annotations

import re

from ..config import WeekConfig
from . import starter_data

#: The ``make`` targets the preamble mentions; the student Makefile must define each (a test checks).
TARGETS = ("install", "test", "submit", "help")


def _points(value: float) -> str:
    return f"{value:g}"


def _files(week: WeekConfig) -> str:
    names = [f"`{f}`" for f in week.student_files]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _pins(requirements: str) -> str:
    pins = [line.split("==") for line in requirements.splitlines() if "==" in line]
    return ", ".join(f"{name} {version}" + (" (CPU build)" if name == "torch" else "") for name, version in pins)


def workflow_summary(week: WeekConfig, public_points: dict[int, float]) -> str:
    """What the Classroom workflow gives: each task's public points, their total, and what is left."""
    public = sum(public_points.get(t.number, 0.0) for t in week.tasks)
    per_task = ", ".join(f"task {t.number}: {_points(public_points.get(t.number, 0.0))}" for t in week.tasks)
    untested = [str(t.number) for t in week.tasks if not public_points.get(t.number)]
    note = (f" Task{'s' if len(untested) > 1 else ''} {', '.join(untested)} "
            f"{'have' if len(untested) > 1 else 'has'} no public tests, so no step." if untested else "")
    return (f"A task scores its public tests' points when all of them pass, nothing otherwise: "
            f"{_points(public)} of the {_points(week.total_points)} points in all ({per_task}).{note} "
            f"The score it reports is feedback, not your grade: the hidden graders, which hold the "
            f"other {_points(week.total_points - public)} points, run only on Gradescope.")


def preamble(week: WeekConfig, public_points: dict[int, float], requirements: str) -> str:
    """The *Getting started* section (Markdown, ending with a blank line)."""
    files = _files(week)
    return f"""\
## Getting started

This repository is your starter for week {week.week}: {files} (the code you complete), the public
tests in `tests/`, the course's test engine in `coursekit/`, the data in `datasets/` and, in this
README, the handout.

**You need** Python 3.11 or newer (with `venv`), `make` and `git`. `make install` downloads, once,
the graders' exact package versions: {_pins(requirements)}.

```sh
make install        # once: the environment .venv with the graders' package versions
make test           # all public tests (runs make install first when needed)
make test TASK=3    # only the public tests of task 3
make submit         # checks your files and builds submission.zip
make help           # lists these commands
```

`make install PYTHON=python3.12` builds the environment with another Python. To run pytest yourself,
activate the environment first (`source .venv/bin/activate`), then `pytest` or `pytest --task 3`; a
Python that lacks a package the tests need stops at once and says what to run.

**How to work.** Each task is a `raise NotImplementedError` stub in {files}, and its docstring is the
specification. Take the tasks in order: complete one, run `make test TASK=n`, commit, and push. A
failing test names its task and says what differed.

**Data.** `datasets/` holds {starter_data.DESCRIPTION}. Every load checks the files against
`datasets/checksums.json`.

**Submitting.** `make submit` checks your files and builds `submission.zip`; upload it to this
assignment on Gradescope, or submit this repository through Gradescope's GitHub option. Only
{files} {'is' if len(week.student_files) == 1 else 'are'} graded. Gradescope runs the public tests and
the hidden graders; its score, out of {_points(week.total_points)}, is your grade.

**GitHub Actions.** On every push, `.github/workflows/classroom.yml` installs the same packages and
runs each task's public tests (`python -m pytest -q --task N`, one step per task).
{workflow_summary(week, public_points)}

"""


def readme(handout: str, week: WeekConfig, public_points: dict[int, float], requirements: str) -> str:
    """The handout with :func:`preamble` inserted before its first ``##`` heading outside code
    blocks (at the end when it has none)."""
    lines = handout.splitlines(keepends=True)
    fenced = False
    for i, line in enumerate(lines):
        if re.match(r"^\s*(```|~~~)", line):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            return "".join(lines[:i]) + preamble(week, public_points, requirements) + "".join(lines[i:])
    return handout.rstrip("\n") + "\n\n" + preamble(week, public_points, requirements).rstrip("\n") + "\n"
