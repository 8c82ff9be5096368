"""The ``submission`` fixture's connection: reading the student's files, the static check of
forbidden APIs, and the channel that runs their code (the sandboxed worker when grading).

Policy lives here, not in the plugin: which files the worker gets, its memory and CPU limits
(from the week's budget), the paths it must not be able to read, and which channel a run may use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

#: Set by the grader entry: a grading run. The in-process channel is refused under it.
GRADING_ENV = "COURSEKIT_GRADING"
SECRET_PATHS_ENV = "COURSEKIT_SECRET_PATHS"
#: Folders to hide from the worker where namespaces allow (local grading: the course checkout).
HIDE_PATHS_ENV = "COURSEKIT_HIDE_PATHS"


def env_paths(name: str) -> list[Path]:
    raw = os.environ.get(name, "")
    return [Path(p) for p in raw.split(os.pathsep) if p]


def connect(state: Any, week: Any):
    """Read the student's files, scan them, start the channel; return the ``Connection``.

    Fails the requesting test (``pytest.fail``) with a message for the student when the submission
    cannot be read.
    """
    from .client import Connection, Submission
    from .locate import SubmissionError, read_student_files
    from .static_check import check_source

    if state.submission_dir is None:
        pytest.fail("no submission: pass --submission <folder with the student's files>", pytrace=False)
    try:
        files = read_student_files(state.submission_dir, week.student_files)
    except SubmissionError as e:
        pytest.fail(f"Your submission could not be graded: {e}", pytrace=False)
    forbidden = [[f.api, list(f.files), f.reason] for f in week.forbidden]
    for name, data in files.items():
        state.violations += check_source(data.decode("utf-8", "replace"), name, week.forbidden_for(name))
    drivers = week.drivers_path
    if state.mode == "worker":
        from .sandbox import SandboxSettings, WorkerChannel
        state.channel = WorkerChannel(SandboxSettings(
            student_files=files, forbidden=forbidden, memory_mb=week.budget.memory_mb,
            cpu_seconds=int(max(week.budget.grade_seconds * 4, 120)),
            secret_paths=env_paths(SECRET_PATHS_ENV), hidden_paths=env_paths(HIDE_PATHS_ENV),
            worker_user=state.worker_user,
            drivers=drivers.read_bytes() if drivers is not None else None))
    elif os.environ.get(GRADING_ENV):
        pytest.fail("a grading run must use the sandboxed worker (--grading-mode worker)", pytrace=False)
    else:
        from ..local import InProcessChannel
        state.channel = InProcessChannel(state.submission_dir, [Path(f).stem for f in files],
                                         forbidden, drivers)
    conn = Connection(state.channel, week.budget.call_timeout_seconds)
    state.submission_proxy = Submission(conn, [Path(f).stem for f in files])
    return conn


def fail_if_forbidden(state: Any, task_number: int) -> None:
    """Fail the current test when the static check found a forbidden API in its task's code."""
    from .static_check import violations_for_task

    try:
        task = state.week.task(task_number)
    except KeyError:
        return
    bad = violations_for_task(state.violations, task.file, task.functions)
    if bad:
        pytest.fail(f"Task {task.number} {bad[0].message()}", pytrace=False)
