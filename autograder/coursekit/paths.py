"""Where the course repository keeps each kind of file.

The layout is fixed by the product (see README): ``assignments/<week>/`` holds the public definition
of a week, ``solutions/<week>/`` the private reference, ``stencils/<week>/`` the generated starter
code, ``autograder/<week>/`` the hidden graders, goldens and known-bad submissions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

WEEK_CONFIG_NAME = "week.toml"


class LayoutError(RuntimeError):
    """The repository is not laid out as the tooling expects."""


def find_repo_root(start: Path | None = None) -> Path:
    """The course repository's root: ``$COURSEKIT_ROOT`` or the first ancestor with ``assignments/``."""
    env = os.environ.get("COURSEKIT_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path(__file__)).resolve()
    for folder in [here, *here.parents]:
        if (folder / "assignments").is_dir() and (folder / "autograder").is_dir():
            return folder
    raise LayoutError(
        f"cannot find the course repository above {here}: no folder with both assignments/ and "
        "autograder/. Run the command inside the repository or set COURSEKIT_ROOT."
    )


@dataclass(frozen=True)
class Repo:
    """Paths of one course repository."""

    root: Path

    @classmethod
    def here(cls) -> "Repo":
        return cls(find_repo_root())

    @property
    def assignments(self) -> Path:
        return self.root / "assignments"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def stencils(self) -> Path:
        return self.root / "stencils"

    @property
    def autograder(self) -> Path:
        return self.root / "autograder"

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    def week_names(self) -> list[str]:
        """Short names of the weeks that have a config, in course order (by their ``week``
        number; a config whose number cannot be read sorts last, by name)."""
        import tomllib

        def order(path: Path) -> tuple[float, str]:
            try:
                number = tomllib.loads(path.read_text(encoding="utf-8")).get("week")
            except (OSError, ValueError):
                number = None
            return (number if type(number) is int else float("inf"), path.parent.name)

        return [p.parent.name for p in sorted(self.assignments.glob(f"*/{WEEK_CONFIG_NAME}"), key=order)]

    def config_path(self, week: str) -> Path:
        return self.assignments / week / WEEK_CONFIG_NAME

    def public_tests(self, week: str) -> Path:
        return self.assignments / week / "tests"

    def handout(self, week: str) -> Path:
        return self.assignments / week / "handout.md"

    def hidden_tests(self, week: str) -> Path:
        return self.autograder / week / "tests"

    def drivers(self, week: str) -> Path:
        return self.assignments / week / "drivers.py"

    def known_bad(self, week: str) -> Path:
        return self.autograder / week / "known_bad"

    def solution(self, week: str) -> Path:
        return self.solutions / week

    def stencil(self, week: str) -> Path:
        return self.stencils / week
