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


def worker_groups(week: Any, files: dict[str, bytes]) -> list[list[str]]:
    """The student files grouped by the APIs forbidden to them: each group runs in a worker of its
    own, where those APIs are refused whoever reaches them (packages cannot be loaded, operators
    refuse to run, functions and classes refuse student calls): a numpy-only ``conv.py`` apart from
    a torch ``cnn.py``, so ``conv.py`` cannot reach torch through ``cnn``; week 4's ``rnn.py``, whose
    worker refuses ``aten::lstm``, apart from ``char_lm.py``, which may use ``nn.LSTM``."""
    groups: dict[frozenset, list[str]] = {}
    for name in files:
        # Every rule: in a worker, each forbidden API is refused for all of its files alike.
        groups.setdefault(frozenset(f.api for f in week.forbidden_for(name)), []).append(name)
    return list(groups.values())


#: Packages a worker may import while it starts, before any student code, when its files import
#: them and they are not forbidden there: their import (a second or so for torch) is then start-up,
#: the grader's time, and overlaps with the other workers' and the grader's own work.
PRELOADABLE = ("numpy", "torch")


def preload_for(week: Any, group: list[str], files: dict[str, bytes]) -> list[str]:
    """The packages of ``PRELOADABLE`` that a file of ``group`` imports (at any depth) and that no
    rule forbids to a file of the group."""
    from .imports import top_level_imports

    forbidden = {f.api for name in group for f in week.forbidden_for(name)}  # a whole package
    used = {top for name in group for top in top_level_imports(files[name], name)}
    return [p for p in PRELOADABLE if p in used and p not in forbidden]


def operators_for(week: Any, file: str) -> dict[str, str]:
    """The dispatcher operators forbidden in ``file``, each with the message its use raises (the
    first API that lists it names it): what :func:`coursekit.worker.operators.refuse` takes."""
    found: dict[str, str] = {}
    for f in week.forbidden_for(file):
        for op in f.operators:
            text = (f"{file} reached PyTorch's operator {op}, the computation of {f.api}, which is "
                    "forbidden in this file, under any name")
            found.setdefault(op, f"{text}: {f.reason}" if f.reason else text)
    return found


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
    forbidden = [[f.api, list(f.files), f.reason, kinds[f.api], f.everywhere] for f in week.forbidden]
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
        groups = worker_groups(week, files)
        for group in groups:
            try:
                channel = WorkerChannel(SandboxSettings(
                    # Every file, so that char_lm.py may import rnn.py's cells; a file another group
                    # serves runs here under this group's rules (refused whoever calls), so conv.py
                    # cannot reach torch through cnn.py, whose import of torch fails in its worker.
                    student_files=dict(files), served_files=list(group), forbidden=forbidden,
                    operators=operators_for(week, group[0]),  # the same for every file of the group
                    memory_mb=week.budget.memory_mb, cpu_seconds=int(max(week.budget.grade_seconds * 4, 120)),
                    secret_paths=env_paths(SECRET_PATHS_ENV), hidden_paths=env_paths(HIDE_PATHS_ENV),
                    worker_user=state.worker_user, drivers=drivers.read_bytes() if drivers is not None else None,
                    # Importing a file may take as long as one call; its failure is recorded once.
                    import_seconds=week.budget.call_timeout_seconds,
                    preload=preload_for(week, group, files)))
            except SandboxError as e:
                state.setup_error = str(e)
                state.notes.insert(0, f"The autograder could not start, so nothing was graded (not your "
                                      f"fault; your course staff has been notified): {e}")
                raise
            state.channels.append(channel)
            conn = Connection(channel, week.budget.call_timeout_seconds,
                              [m for n in group for m in missing[n]])
            connections.update({Path(n).stem: conn for n in group})
        for channel in state.channels:  # every group's worker starts at once; requests wait for theirs
            channel.launch()
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
