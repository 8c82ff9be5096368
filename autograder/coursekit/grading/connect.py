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


def worker_groups(week: Any, files: dict[str, bytes], kinds: dict[str, str]) -> list[list[str]]:
    """The student files grouped by the packages forbidden to them: each group runs in a worker of
    its own, where those packages cannot be loaded at all (a numpy-only ``conv.py`` apart from a
    torch ``cnn.py``, so ``conv.py`` cannot reach torch through ``cnn``)."""
    groups: dict[frozenset, list[str]] = {}
    for name in files:
        blocked = frozenset(f.api for f in week.forbidden_for(name)
                            if kinds[f.api] == "module" and "." not in f.api)
        groups.setdefault(blocked, []).append(name)
    return list(groups.values())


def connect(state: Any, week: Any):
    """Read the student's files, scan them, start the channels; return the first ``Connection``.

    Fails the requesting test (``pytest.fail``) with a message for the student when the submission
    cannot be read.
    """
    from .client import Connection, Submission
    from .imports import missing_imports
    from .locate import SubmissionError, locate
    from .static_check import Unreadable, api_kind, check_source

    if state.submission_dir is None:
        pytest.fail("no submission: pass --submission <folder with the student's files>", pytrace=False)
    if state.submission_error is not None:  # found once; every later test fails at once with it
        pytest.fail(state.submission_error, pytrace=False)
    if state.setup_error is not None:  # the sandbox cannot start here: said once, never retried
        from .users import SandboxError
        raise SandboxError(state.setup_error)
    try:
        found = locate(state.submission_dir, week.student_files)
    except SubmissionError as e:
        state.submission_error = f"Your submission could not be graded: {e}"
        state.notes.insert(0, state.submission_error)
        pytest.fail(state.submission_error, pytrace=False)
    files = found.files
    state.notes.extend(found.notes)
    missing = {name: missing_imports(data, name, week.student_files) for name, data in files.items()}
    state.notes.extend(f"Warning: {m.message()}" for found_in in missing.values() for m in found_in)
    state.student_sources = dict(files)
    kinds = {f.api: api_kind(f.api) for f in week.forbidden}
    forbidden = [[f.api, list(f.files), f.reason, kinds[f.api]] for f in week.forbidden]
    from . import integrity
    for name, data in files.items():
        state.integrity += integrity.scan(data, name)  # for staff only; never scored
        try:
            state.violations += check_source(data, name, week.forbidden_for(name))
        except Unreadable as e:
            state.notes.append(f"Note: {e}.")
    drivers = week.drivers_path
    connections: dict[str, Connection] = {}
    if state.mode == "worker":
        from .sandbox import SandboxSettings, WorkerChannel
        from .users import SandboxError
        groups = worker_groups(week, files, kinds)
        for group in groups:
            # The other groups' modules are not in this worker: importing one gives a stand-in whose
            # use fails the task, as the forbidden module it might re-export would.
            apart = [[Path(n).stem, list(group), f"{', '.join(group)} runs apart from {n}, which may use "
                      "what it may not", "module"] for other in groups if other is not group for n in other]
            try:
                channel = WorkerChannel(SandboxSettings(
                    student_files={n: files[n] for n in group}, forbidden=forbidden + apart,
                    memory_mb=week.budget.memory_mb, cpu_seconds=int(max(week.budget.grade_seconds * 4, 120)),
                    secret_paths=env_paths(SECRET_PATHS_ENV), hidden_paths=env_paths(HIDE_PATHS_ENV),
                    worker_user=state.worker_user, drivers=drivers.read_bytes() if drivers is not None else None,
                    # Importing a file may take as long as one call; its failure is recorded once.
                    import_seconds=week.budget.call_timeout_seconds))
            except SandboxError as e:
                state.setup_error = str(e)
                state.notes.insert(0, f"The autograder could not start, so nothing was graded (not your "
                                      f"fault; your course staff has been notified): {e}")
                raise
            state.channels.append(channel)
            conn = Connection(channel, week.budget.call_timeout_seconds,
                              [m for n in group for m in missing[n]])
            connections.update({Path(n).stem: conn for n in group})
    elif os.environ.get(GRADING_ENV):
        pytest.fail("a grading run must use the sandboxed worker (--grading-mode worker)", pytrace=False)
    else:
        from ..local import InProcessChannel
        channel = InProcessChannel(state.submission_dir, [Path(f).stem for f in files], forbidden, drivers)
        state.channels.append(channel)
        conn = Connection(channel, week.budget.call_timeout_seconds, [m for found_in in missing.values() for m in found_in])
        connections.update({Path(n).stem: conn for n in files})
    state.submission_proxy = Submission(connections, state.channels)
    return next(iter(connections.values()))


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
