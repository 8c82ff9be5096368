"""The pytest plugin every course test runs under: fixtures, markers, scoring, Gradescope results.

Test authors write plain pytest::

    pytestmark = pytest.mark.task(1)

    @pytest.mark.points(2)
    def test_sign_of_zero(submission):
        \"\"\"predict maps a score of exactly 0 to +1\"\"\"
        got = submission.perceptron.predict(np.zeros(2), 0.0, np.ones((3, 2)))
        expect_equal(got, np.ones(3, dtype=np.int64), "predict with zero weights")

Markers: ``task(n)`` (the config's task), ``points(x)``, ``visibility("after_published")``,
``number("1.3")``, ``tags("a", "b")``, ``name("…")``, ``timeout(seconds)``. Fixtures:
``submission`` (the student's modules), ``week`` (the config), ``credit`` (partial credit:
``credit.set(0.5)``), ``leaderboard`` (``leaderboard("accuracy", 0.97)``), ``device``.

Options: ``--week-config``, ``--submission DIR``, ``--grading-mode inprocess|worker``,
``--public-dir DIR`` (tests there show detailed feedback; all others are hidden tests),
``--results FILE`` (write Gradescope's results.json), ``--task N`` (run one task's tests).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DEFAULT_TEST_TIMEOUT = 60.0


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
}


def pytest_configure(config: pytest.Config) -> None:
    for marker, text in _MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: {text}")
    config.stash[_STATE] = GradingState.from_config(config)
    if config.getoption("results"):
        # A grading run scores every test it can load; a broken test file must not stop the others.
        config.option.continue_on_collection_errors = True


_STATE = pytest.StashKey["GradingState"]()


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
    outcome: str = "not run"
    score: float = 0.0
    output: str = ""
    grader_error: bool = False
    credit: float | None = None
    duration: float = 0.0


@dataclass
class GradingState:
    week: Any = None
    submission_dir: Path | None = None
    mode: str = "inprocess"
    public_dirs: list[Path] = field(default_factory=list)
    results_path: Path | None = None
    task_filter: int | None = None
    records: dict[str, TestRecord] = field(default_factory=dict)
    collection_errors: list[tuple[str, str]] = field(default_factory=list)
    leaderboard: list[dict] = field(default_factory=list)
    connection: Any = None
    channel: Any = None
    violations: list = field(default_factory=list)
    device: str = "cpu"
    started: float = field(default_factory=time.monotonic)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_config(cls, config: pytest.Config) -> "GradingState":
        root = Path(config.rootpath)

        def opt(name: str, ini: str):
            value = config.getoption(name)
            if value is None and config.getini(ini):
                return str(root / config.getini(ini))
            return value

        state = cls()
        week_path = opt("week_config", "week_config")
        if week_path:
            from .config import load_week_config
            state.week = load_week_config(Path(week_path))
        sub = opt("submission", "submission")
        state.submission_dir = Path(sub).resolve() if sub else None
        state.mode = config.getoption("grading_mode")
        state.public_dirs = [Path(p).resolve() for p in config.getoption("public_dir")] + \
            [Path(p).resolve() for p in config.getini("public_dirs")]
        res = config.getoption("results")
        state.results_path = Path(res) if res else None
        state.task_filter = config.getoption("task")
        return state

    def is_public(self, path: Path) -> bool:
        path = path.resolve()
        return any(path.is_relative_to(d) for d in self.public_dirs)


def _state(config: pytest.Config) -> GradingState:
    return config.stash[_STATE]


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
        state.records[item.nodeid] = TestRecord(
            nodeid=item.nodeid, name=f"{label}{title}", task=task,
            points=float(_marker_arg(item, "points", 0.0)),
            visibility=_marker_arg(item, "visibility", "visible"),
            number=_marker_arg(item, "number") or (f"{task}.{counters[task]}" if task is not None else None),
            tags=list(tags_mark.args) if tags_mark else [],
            public=state.is_public(Path(str(item.fspath))))


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
    state = _state(request.config)
    if state.connection is None:
        state.connection = _connect(state, week)
    return state.submission_proxy


def _connect(state: GradingState, week):
    from .grading.client import Connection, InProcessChannel, Submission
    from .grading.locate import read_student_files
    from .grading.static_check import check_source

    from .grading.locate import SubmissionError

    if state.submission_dir is None:
        pytest.fail("no submission: pass --submission <folder with the student's files>", pytrace=False)
    try:
        files = read_student_files(state.submission_dir, week.student_files)
    except SubmissionError as e:
        pytest.fail(f"Your submission could not be graded: {e}", pytrace=False)
    forbidden = [[f.api, list(f.files), f.reason] for f in week.forbidden]
    for name, data in files.items():
        state.violations += check_source(data.decode("utf-8", "replace"), name, week.forbidden_for(name))
    if state.mode == "worker":
        from .grading.sandbox import SandboxSettings, WorkerChannel
        state.channel = WorkerChannel(SandboxSettings(
            student_files=files, forbidden=forbidden, memory_mb=week.budget.memory_mb,
            cpu_seconds=int(max(week.budget.grade_seconds * 4, 120)),
            secret_paths=_secret_paths()))
    else:
        state.channel = InProcessChannel(state.submission_dir, [Path(f).stem for f in files], forbidden)
    conn = Connection(state.channel, week.budget.call_timeout_seconds)
    state.submission_proxy = Submission(conn, [Path(f).stem for f in files])
    return conn


def _secret_paths() -> list[Path]:
    raw = os.environ.get("COURSEKIT_SECRET_PATHS", "")
    return [Path(p) for p in raw.split(os.pathsep) if p]


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
    Deadline.test_deadline = time.monotonic() + timeout
    record = state.records.get(item.nodeid)
    if record is not None and record.task is not None and state.week is not None and \
            "submission" in getattr(item, "fixturenames", ()):
        _fail_if_forbidden(item, state, record)


def _fail_if_forbidden(item: pytest.Item, state: GradingState, record: TestRecord) -> None:
    from .grading.static_check import violations_for_task

    if state.connection is None:  # fixtures are not set up yet; connect now to scan the files
        state.connection = _connect(state, state.week)
    try:
        task = state.week.task(record.task)
    except KeyError:
        return
    bad = violations_for_task(state.violations, task.file, task.functions)
    if bad:
        pytest.fail(f"Task {task.number} {bad[0].message()}", pytrace=False)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    from .grading.client import Deadline
    Deadline.test_deadline = None


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
        from .feedback import describe_failure
        record.output, record.grader_error = describe_failure(call.excinfo, record.public, state.week)
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

def build_results(state: GradingState) -> dict:
    from .grading.results import clip

    tests = []
    for rec in state.records.values():
        if rec.outcome == "passed":
            fraction = 1.0 if rec.credit is None else rec.credit
        elif rec.outcome == "failed":
            fraction = rec.credit or 0.0
        else:
            fraction = 0.0
        score = round(rec.points * fraction, 6)
        rec.score = score
        output = rec.output
        if rec.outcome == "not run":
            output = "not run (the grading run ended before this test)"
        if rec.credit is not None and rec.outcome in ("passed", "failed"):
            output = (f"partial credit: {rec.credit:.0%} of the points. " + output).strip()
        entry = {"name": rec.name, "score": score, "max_score": rec.points,
                 "status": "passed" if score >= rec.points and rec.outcome == "passed" else "failed",
                 "output": clip(output), "visibility": rec.visibility,
                 "extra_data": {"outcome": rec.outcome, "public": rec.public,
                                "grader_error": rec.grader_error, "seconds": round(rec.duration, 3)}}
        if rec.number:
            entry["number"] = str(rec.number)
        if rec.tags:
            entry["tags"] = [str(t) for t in rec.tags]
        tests.append(entry)
    for nodeid, text in state.collection_errors:
        tests.append({"name": f"Could not load the grader's tests in {nodeid}", "score": 0.0,
                      "max_score": 0.0, "status": "failed", "visibility": "visible",
                      "output": "The grader's own tests failed to load; this is not your fault. "
                                "Your course staff has been notified.",
                      "extra_data": {"outcome": "collection error", "grader_error": True}})
    missing = _missing_points(state)
    if missing > 1e-9:
        tests.append({"name": "Tests that could not run", "score": 0.0, "max_score": missing,
                      "status": "failed", "visibility": "visible",
                      "output": "Some of the grader's tests could not be loaded, so their points "
                                "could not be awarded. Your course staff has been notified.",
                      "extra_data": {"outcome": "missing", "grader_error": True}})
    total = round(sum(t["score"] for t in tests), 6)
    results = {"score": total, "tests": tests, "execution_time": round(time.monotonic() - state.started, 3),
               "output": "\n".join(state.notes), "extra_data": _extra_data(state)}
    if state.leaderboard:
        results["leaderboard"] = state.leaderboard
    return results


def _missing_points(state: GradingState) -> float:
    """Points the config promises that no collected test carries (only for a full, unfiltered run)."""
    if state.week is None or state.task_filter is not None or not state.collection_errors:
        return 0.0
    collected = sum(r.points for r in state.records.values())
    return max(state.week.total_points - collected, 0.0)


def _extra_data(state: GradingState) -> dict:
    import platform
    import sys
    data = {"week": getattr(state.week, "name", None), "mode": state.mode, "device": state.device,
            "python": platform.python_version(),
            "seconds": round(time.monotonic() - state.started, 3)}
    import resource
    torch = sys.modules.get("torch")
    if torch is not None:
        data["torch"] = torch.__version__
    # Peak resident memory in MB (Linux reports KiB): this process, and the largest reaped worker.
    data["peak_rss_mb"] = {"grader": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                           "worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
    if state.channel is not None and getattr(state.channel, "failures", None):
        data["worker_failures"] = list(state.channel.failures)
    return data


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    state.collection_errors.extend(_pending_collection_errors)
    _pending_collection_errors.clear()
    if state.channel is not None:
        state.channel.close()  # kills and reaps every worker process before results are written
    if state.violations:
        unused = [v for v in state.violations if v.import_only]
        for v in unused:
            state.notes.append(f"Warning: {v.file} line {v.line} imports {v.api}, which this week "
                               "forbids; remove the import.")
    if state.results_path is not None:
        from .grading.results import write_atomic
        write_atomic(build_results(state), state.results_path)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if state.week is None or not state.records:
        return
    results = build_results(state)
    from .grading.results import points_table
    terminalreporter.write_sep("=", f"{state.week.name}: points")
    terminalreporter.write_line(points_table(results))
