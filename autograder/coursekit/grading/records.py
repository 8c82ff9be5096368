"""What a grading run knows: its options, and one record per collected test.

A test's **id** is stable: its file's name and its name inside the file
(``test_hidden_cnn_pool.py::test_pool_forward``), so adding, removing or reordering other tests
never changes it. Known-bad submissions key their expected scores by it. The Gradescope
**number** (``task.k``) is only for display: k counts the task's tests in collection order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TEST_TIMEOUT = 60.0


def test_id(nodeid: str) -> str:
    """``tests/hidden/test_x.py::test_y[case]`` → ``test_x.py::test_y[case]``."""
    path, sep, rest = nodeid.partition("::")
    return f"{Path(path).name}{sep}{rest}"


@dataclass
class TestRecord:
    nodeid: str
    name: str
    task: int | None
    points: float
    visibility: str
    number: str | None
    tags: list[str]
    public: bool
    order: int = 0
    outcome: str = "not run"
    score: float = 0.0
    output: str = ""
    grader_error: bool = False
    credit: float | None = None
    duration: float = 0.0
    builds_on: tuple = ()  # other tasks whose code this test runs (marker builds_on)

    @property
    def test_id(self) -> str:
        return test_id(self.nodeid)


@dataclass
class GradingState:
    week: Any = None
    submission_dir: Path | None = None
    mode: str = "inprocess"
    public_dirs: list[Path] = field(default_factory=list)
    results_path: Path | None = None
    list_path: Path | None = None
    task_filter: int | None = None
    worker_user: str | None = None
    records: dict[str, TestRecord] = field(default_factory=dict)
    collection_errors: list[tuple[str, str]] = field(default_factory=list)
    leaderboard: list[dict] = field(default_factory=list)
    connection: Any = None
    channels: list = field(default_factory=list)  # one per worker (see grading.connect)
    submission_proxy: Any = None
    violations: list = field(default_factory=list)
    integrity: list = field(default_factory=list)  # grading.integrity flags: staff only, never scored
    student_sources: dict = field(default_factory=dict)  # the files as read, by name (feedback)
    device: str = "cpu"
    started: float = field(default_factory=time.monotonic)
    notes: list[str] = field(default_factory=list)  # the results' top-level output, one per line
    submission_error: str | None = None  # why the submission cannot be graded, once found
    setup_error: str | None = None  # why the sandbox cannot start here (the grading machine's fault)

    @classmethod
    def from_config(cls, config: Any) -> "GradingState":
        root = Path(config.rootpath)

        def opt(name: str, ini: str):
            value = config.getoption(name)
            if value is None and config.getini(ini):
                return str(root / config.getini(ini))
            return value

        state = cls()
        week_path = opt("week_config", "week_config")
        if week_path:
            from ..config import load_week_config
            state.week = load_week_config(Path(week_path))
        sub = opt("submission", "submission")
        state.submission_dir = Path(sub).resolve() if sub else None
        state.mode = config.getoption("grading_mode")
        state.public_dirs = [Path(p).resolve() for p in config.getoption("public_dir")] + \
            [Path(p).resolve() for p in config.getini("public_dirs")]
        res = config.getoption("results")
        state.results_path = Path(res) if res else None
        listing = config.getoption("list_tests")
        state.list_path = Path(listing) if listing else None
        state.task_filter = config.getoption("task")
        state.worker_user = config.getoption("worker_user")
        return state

    def is_public(self, path: Path) -> bool:
        path = path.resolve()
        return any(path.is_relative_to(d) for d in self.public_dirs)

    def ordered(self) -> list[TestRecord]:
        """Records in task order (1.1, 1.2, …, 10.5), tests without a task last, each task's tests
        in collection order."""
        return sorted(self.records.values(),
                      key=lambda r: (r.task is None, r.task if r.task is not None else 0, r.order))

    def listing(self) -> list[dict]:
        """What ``--list-tests`` writes: every collected test's id, task, points and visibility."""
        return [{"id": r.test_id, "number": r.number, "task": r.task, "points": r.points,
                 "public": r.public, "visibility": r.visibility, "name": r.name}
                for r in self.ordered()]
