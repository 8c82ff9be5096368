"""The pytest plugin every course test runs under: fixtures, markers, scoring, Gradescope results.

Test authors write plain pytest::

    pytestmark = pytest.mark.task(1)

    @pytest.mark.points(2)
    def test_sign_of_zero(submission):
        \"\"\"predict maps a score of exactly 0 to +1\"\"\"
        got = submission.perceptron.predict(np.zeros(2), 0.0, np.ones((3, 2)))
        expect_equal(got, np.ones(3, dtype=np.int64), "predict with zero weights")

Markers: ``task(n)`` (the config's task), ``points(x)``, ``visibility("after_published")``,
``number("1.3")``, ``tags("a", "b")``, ``name("…")``, ``timeout(seconds)``, ``builds_on(2, 5)`` (the
other tasks whose code the test runs: a failure names those of them that lost points). Fixtures:
``submission`` (the student's modules), ``week`` (the config), ``credit`` (partial credit:
``credit.set(0.5)``), ``leaderboard`` (``leaderboard("accuracy", 0.97)``), ``device``.

Options: ``--week-config``, ``--submission DIR``, ``--grading-mode inprocess|worker``,
``--public-dir DIR`` (tests there show detailed feedback; all others are hidden tests),
``--results FILE`` (write Gradescope's results.json), ``--task N`` (run one task's tests),
``--list-tests FILE`` (write every collected test's id, task and points as JSON).

This module does one job: markers, fixtures and hooks. What a run knows is in
``grading/records.py``, the results document is built in ``grading/results.py``, and the connection
to the student's code (and its sandbox policy) is in ``grading/connect.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .grading.records import DEFAULT_TEST_TIMEOUT, GradingState, TestRecord


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("coursekit", "course grading")
    group.addoption("--week-config", default=None, help="the week's week.toml")
    group.addoption("--submission", default=None, help="folder with the student's files")
    group.addoption("--grading-mode", default="inprocess", choices=["inprocess", "worker"],
                    help="run student code in this process (debugging) or in a sandboxed worker")
    group.addoption("--public-dir", action="append", default=[],
                    help="tests under this folder are public (detailed feedback); others are hidden")
    group.addoption("--results", default=None, help="write Gradescope's results.json here")
    group.addoption("--task", type=int, default=None, help="run only the tests of this task")
    group.addoption("--list-tests", default=None, help="write the collected tests (id, task, points) here as JSON")
    group.addoption("--worker-user", default=None,
                    help="(root) run student code as this user, whose lock the caller holds")
    parser.addini("week_config", "the week's week.toml", default=None)
    parser.addini("submission", "folder with the student's files", default=None)
    parser.addini("public_dirs", "folders of public tests", type="paths", default=[])


_MARKERS = {
    "task(n)": "the week config's task number this test belongs to",
    "points(x)": "the test's maximum score",
    "visibility(v)": "Gradescope visibility: visible, hidden, after_due_date, after_published",
    "number(s)": "Gradescope test number such as '1.3' (default: task.k)",
    "tags(*names)": "Gradescope tags",
    "name(s)": "display name (default: the docstring's first line)",
    "timeout(seconds)": "time allowed for the student's calls in this test",
    "cuda": "needs a CUDA GPU: skipped, with the reason, when grading on the CPU",
    "builds_on(*tasks)": "the other tasks whose code this test runs too: when it fails, its feedback "
                         "names those of them that lost points in this run",
}


def pytest_configure(config: pytest.Config) -> None:
    for marker, text in _MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {text}")
    config.stash[_STATE] = GradingState.from_config(config)
    if config.getoption("results"):
        # A grading run scores every test it can load; a broken test file must not stop the others.
        config.option.continue_on_collection_errors = True


_STATE = pytest.StashKey["GradingState"]()


def _state(config: pytest.Config) -> GradingState:
    return config.stash[_STATE]


def pytest_sessionstart(session: pytest.Session) -> None:
    """When grading, read the submission and launch its workers now, so that their start-up (an
    interpreter, torch) overlaps with the grader's own (collecting the tests imports torch too).
    What goes wrong here is recorded in the state, as ``connect`` does in a test, and said by the
    first test that needs the submission."""
    state = _state(session.config)
    if (state.mode != "worker" or state.week is None or state.submission_dir is None or state.connection
            or session.config.option.collectonly):
        return
    from .grading.connect import connect

    try:
        state.connection = connect(state, state.week)
    except (Exception, pytest.fail.Exception):
        pass  # connect recorded why (submission_error, setup_error); the first test reports it


# --- collection ----------------------------------------------------------------------------

def _marker_arg(item: pytest.Item, name: str, default: Any = None) -> Any:
    mark = item.get_closest_marker(name)
    if mark is None or not mark.args:
        return default
    return mark.args[0]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    state = _state(config)
    if state.task_filter is not None:
        keep = [i for i in items if _marker_arg(i, "task") == state.task_filter]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
    counters: dict[Any, int] = {}
    for item in items:
        task = _marker_arg(item, "task")
        counters[task] = counters.get(task, 0) + 1
        doc = (getattr(item.function, "__doc__", None) or "").strip().splitlines()
        title = _marker_arg(item, "name") or (doc[0] if doc else item.name)
        label = ""
        if task is not None and state.week is not None:
            try:
                label = f"Task {task} ({state.week.task(task).title}): "
            except KeyError:
                label = f"Task {task}: "
        elif task is not None:
            label = f"Task {task}: "
        tags_mark = item.get_closest_marker("tags")
        builds_on = tuple(a for m in item.iter_markers("builds_on") for a in m.args)
        state.records[item.nodeid] = TestRecord(
            nodeid=item.nodeid, name=f"{label}{title}", task=task,
            points=float(_marker_arg(item, "points", 0.0)),
            visibility=_marker_arg(item, "visibility", "visible"),
            number=_marker_arg(item, "number") or (f"{task}.{counters[task]}" if task is not None else None),
            tags=list(tags_mark.args) if tags_mark else [],
            public=state.is_public(Path(str(item.fspath))), order=len(state.records), builds_on=builds_on)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        # Recorded by the session's config in pytest_sessionfinish via this list.
        _pending_collection_errors.append((report.nodeid or "collection", str(report.longrepr)[-2000:]))


_pending_collection_errors: list[tuple[str, str]] = []


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def week(request: pytest.FixtureRequest):
    """The week's validated config (``--week-config`` or the ini's ``week_config``)."""
    state = _state(request.config)
    if state.week is None:
        pytest.fail("no week config: pass --week-config assignments/<week>/week.toml", pytrace=False)
    return state.week


@pytest.fixture(scope="session")
def submission(request: pytest.FixtureRequest, week):
    """The student's modules as ordinary Python (see ``coursekit.grading.client``)."""
    from .grading.connect import connect

    state = _state(request.config)
    if state.connection is None:
        state.connection = connect(state, week)
    return state.submission_proxy


class Credit:
    """Partial credit for the current test: ``credit.set(fraction)`` with 0 ≤ fraction ≤ 1."""

    def __init__(self, record: TestRecord | None):
        self.record = record

    def set(self, fraction: float) -> None:
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"partial credit must be within [0, 1], got {fraction}")
        if self.record is not None:
            self.record.credit = fraction


@pytest.fixture
def credit(request: pytest.FixtureRequest) -> Credit:
    return Credit(_state(request.config).records.get(request.node.nodeid))


@pytest.fixture
def leaderboard(request: pytest.FixtureRequest):
    """``leaderboard(name, value, order="desc")`` adds an entry to Gradescope's leaderboard."""
    state = _state(request.config)

    def add(name: str, value: float | str, order: str = "desc") -> None:
        if order not in ("asc", "desc"):
            raise ValueError("order must be 'asc' or 'desc'")
        if not isinstance(value, str):
            value = float(value)
        state.leaderboard = [e for e in state.leaderboard if e["name"] != name]
        state.leaderboard.append({"name": str(name), "value": value, "order": order})

    return add


def choose_device(allow_cuda: bool) -> str:
    """``"cuda"`` when allowed and a GPU is present, else ``"cpu"``; ``COURSEKIT_DEVICE`` forces either."""
    forced = os.environ.get("COURSEKIT_DEVICE")
    if forced in ("cpu", "cuda"):
        return forced
    if not allow_cuda:
        return "cpu"
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest, week) -> str:
    """The device graders compute on (see :func:`choose_device`); tolerances follow it."""
    state = _state(request.config)
    state.device = choose_device(week.allow_cuda)
    return state.device


# --- running -------------------------------------------------------------------------------

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from .grading.client import Deadline

    state = _state(item.config)
    if item.get_closest_marker("cuda") is not None:
        allow = state.week.allow_cuda if state.week is not None else True
        if choose_device(allow) != "cuda":
            pytest.skip("needs a CUDA GPU, and this run grades on the CPU")
    timeout = float(_marker_arg(item, "timeout", 0) or (
        state.week.budget.test_timeout_seconds if state.week else DEFAULT_TEST_TIMEOUT))
    Deadline.test_remaining = timeout
    record = state.records.get(item.nodeid)
    if record is not None and record.task is not None and state.week is not None and \
            "submission" in getattr(item, "fixturenames", ()):
        from .grading.connect import connect, fail_if_forbidden
        if state.connection is None:  # fixtures are not set up yet; connect now to scan the files
            state.connection = connect(state, state.week)
        fail_if_forbidden(state, record.task)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    from .grading.client import Deadline
    Deadline.test_remaining = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    state = _state(item.config)
    record = state.records.get(item.nodeid)
    if record is None:
        return report
    record.duration += report.duration
    if report.when == "setup" and report.skipped:
        record.outcome = "skipped"
        record.output = _skip_reason(report)
    elif report.failed and record.outcome not in ("failed",):
        record.outcome = "failed"
        from .grading.feedback import describe_failure
        record.output, record.grader_error = describe_failure(call.excinfo, record.public, state.week,
                                                                state.student_sources)
        if report.when == "teardown":
            record.output = "(after the test) " + record.output
    elif report.when == "call" and report.passed and record.outcome == "not run":
        record.outcome = "passed"
    elif report.when == "call" and report.skipped:
        record.outcome = "skipped"
        record.output = _skip_reason(report)
    if record.outcome == "failed" and not record.grader_error and state.week is not None:
        # The grader's own message: what failed and, for public tests, the student's traceback.
        # (Hidden details stay out of the terminal log too; the engine's frames are noise.)
        report.longrepr = f"{record.name}\n{record.output}"
    return report


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return f"skipped: {longrepr[2].removeprefix('Skipped: ')}"
    return "skipped"


# --- results -------------------------------------------------------------------------------

def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    state.collection_errors.extend(_pending_collection_errors)
    _pending_collection_errors.clear()
    for channel in state.channels:
        channel.close()  # kills and reaps every worker process before results are written
    from .grading.feedback import import_failure
    for channel in state.channels:  # a file that could not be imported is said once, at the top
        for failure in getattr(channel, "import_failures", {}).values():
            state.notes.append(import_failure(failure, False, state.week, "none of its tests could run"))
    if state.violations:
        unused = [v for v in state.violations if v.import_only]
        for v in unused:
            state.notes.append(f"Warning: {v.file} line {v.line} imports {v.api}, which this week "
                               "forbids; remove the import.")
    _name_upstream_tasks(state)
    if state.list_path is not None:
        import json
        state.list_path.write_text(json.dumps({"tests": state.listing(),
                                               "collection_errors": [n for n, _ in state.collection_errors]},
                                              indent=1), encoding="utf-8")
    if state.results_path is not None:
        from .grading.results import build, write_atomic
        write_atomic(build(state), state.results_path)


def _name_upstream_tasks(state: GradingState) -> None:
    """A failed test marked ``builds_on(tasks)`` runs those tasks' code too: its feedback names the
    ones that lost points in this run (their own tests say what is wrong), since its failure may
    come from them."""
    from .grading.feedback import upstream_note

    lost = {r.task for r in state.records.values()
            if r.task is not None and not r.grader_error
            and (r.outcome == "failed" or (r.outcome == "passed" and r.credit is not None and r.credit < 1))}
    for record in state.records.values():
        if record.outcome != "failed" or record.grader_error or not record.builds_on:
            continue
        causes = []
        for task in record.builds_on:
            if task in lost and task != record.task:
                try:
                    causes.append(f"Task {task} ({state.week.task(task).title})")
                except (AttributeError, KeyError):
                    causes.append(f"Task {task}")
        if causes:
            record.output = f"{record.output}\n{upstream_note(causes)}"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if state.week is None or not state.records:
        return
    from .grading.results import build, points_table
    results = build(state)
    terminalreporter.write_sep("=", f"{state.week.name}: points")
    terminalreporter.write_line(points_table(results))
