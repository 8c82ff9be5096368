"""Who is blamed, and in whose words: an exception the student's code raises, also inside a driver
or a student method a driver calls, is the student's and names the method (a public test also
shows its message); a reply the student's process forges is the student's; grader errors are the
grader's own faults only. Hidden feedback names methods from the grader's own parse of the
submitted file and driver lines from the grader's own copy of the drivers, never from the worker."""

from __future__ import annotations


import pytest

from coursekit.checks import GradeFailure, failing, upstream
from coursekit.config import load_week_config
from coursekit.grading.client import Connection, StudentError, Submission, WorkerFailure
from coursekit.grading.feedback import describe_failure
from coursekit.local import InProcessChannel

CONFIG = """\
name = "layers"
week = 98
title = "Layers"
student_files = ["layers.py"]

[[tasks]]
number = 1
title = "A layer"
file = "layers.py"
functions = ["Layer"]
points = 2

[[tasks]]
number = 2
title = "A stack"
file = "layers.py"
functions = ["stack"]
points = 2

[[forbidden]]
api = "numpy.linalg"
files = ["layers.py"]
reason = "the norms are yours to write."
"""

#: The student's file: a Layer whose ``grads`` method was deleted and whose ``backward`` raises,
#: called through a helper that no task covers.
STUDENT = '''\
def _check(x):
    raise ValueError("shapes do not match for SECRET-INPUT")


class Layer:
    def forward(self, x):
        return x

    def backward(self, dout):
        return _check(dout)


def stack(layers):
    return layers
'''

DRIVERS = '''\
"""The week's drivers."""


def step(server, layer, x):
    out = layer.forward(x)
    pairs = layer.grads()
    return out, pairs


def back(server, layer, dout):
    return layer.backward(dout)


REGISTRY = {"step": step, "back": back}
'''


@pytest.fixture
def week(tmp_path):
    (tmp_path / "week").mkdir()
    (tmp_path / "week" / "week.toml").write_text(CONFIG)
    (tmp_path / "week" / "drivers.py").write_text(DRIVERS)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "layers.py").write_text(STUDENT)
    config = load_week_config(tmp_path / "week" / "week.toml")
    channel = InProcessChannel(tmp_path / "sub", ["layers"], drivers_file=config.drivers_path)
    submission = Submission({"layers": Connection(channel, 10.0)})
    return config, submission, {"layers.py": STUDENT.encode()}


def _describe(call, week, sources, public):
    with pytest.raises(Exception) as excinfo:
        call()
    return describe_failure(excinfo, public, week, sources)


def test_a_method_missing_under_a_driver_is_the_students_and_named(week):
    config, submission, sources = week
    layer = submission.layers.Layer()
    call = lambda: submission.driver("step", layer, 1.0)  # noqa: E731
    hidden, hidden_error = _describe(call, config, sources, public=False)
    public, public_error = _describe(call, config, sources, public=True)
    assert not hidden_error and not public_error
    # the driver's step, quoted from the grader's own copy, and the attribute that line asks for
    assert "the course's driver step (drivers.py line 6: `pairs = layer.grads()`)" in hidden
    assert "no attribute `grads`" in hidden and "internal error" not in hidden
    assert "'Layer' object has no attribute 'grads'" in public  # the message: public tests only
    assert "'Layer'" not in hidden


def test_a_student_method_raising_under_a_driver_is_the_students_and_named(week):
    config, submission, sources = week
    layer = submission.layers.Layer()
    call = lambda: submission.driver("back", layer, 1.0)  # noqa: E731
    hidden, hidden_error = _describe(call, config, sources, public=False)
    public, public_error = _describe(call, config, sources, public=True)
    assert not hidden_error and not public_error
    assert "Your code raised ValueError at layers.py line 2 (in Layer.backward)" in hidden
    assert "called by the course's driver back (drivers.py line 11" in hidden
    assert "SECRET-INPUT" not in hidden and "_check" not in hidden
    assert "Your code raised ValueError: shapes do not match for SECRET-INPUT\nIn Layer.backward, called by" in public


def test_hidden_feedback_names_methods_from_the_submitted_file_not_the_worker(week):
    """The worker's frames name the function ``leak_123``; the grader's own parse of the file it
    read says ``Layer.backward``, and only that reaches a hidden test."""
    config, _, sources = week
    forged = StudentError({"type": "ValueError", "message": "123",
                           "frames": [["layers.py", 10, "leak_123", "return leak_123()"]]})
    hidden, grader_error = describe_failure(_Info(forged), False, config, sources)
    assert not grader_error
    assert hidden == "Your code raised ValueError at layers.py line 10 (in Layer.backward)."
    untouched = {"layers.py": b"# the file the grader read has no function at line 10\n"}
    hidden, _ = describe_failure(_Info(forged), False, config, untouched)
    assert hidden == "Your code raised ValueError at layers.py line 10."


@pytest.mark.parametrize("error", [
    {"type": "ValueError", "frames": 5},
    {"type": "ValueError", "frames": "abcd", "driver": ["week", "x", 3]},
    {"type": ["not", "a", "name"], "message": {"t": 1}, "frames": [[1, 2, 3, 4, 5]], "in_driver": True,
     "driver": ["elsewhere", 1, "f"], "attribute": 7},
])
def test_a_forged_error_reply_is_still_the_students(week, error):
    config, _, sources = week
    message, grader_error = describe_failure(_Info(StudentError(error)), False, config, sources)
    assert not grader_error and "internal error" not in message


def test_a_reply_that_breaks_the_protocol_is_the_students(week):
    config, _, sources = week
    failure = WorkerFailure("protocol", "the worker sent malformed data: unknown tag 'LEAK-42'")
    hidden, hidden_error = describe_failure(_Info(failure), False, config, sources)
    assert not hidden_error and "LEAK-42" not in hidden and "protocol" in hidden


def test_a_forged_attribute_reply_breaks_the_protocol_not_the_grader(week):
    """A ``getattr`` answered with anything but ``{"callable": true}`` or ``{"value": ...}``."""
    config, submission, _ = week
    conn = submission._conn
    for reply in ([1, 2], {"other": 1}, "text"):
        with pytest.raises(WorkerFailure) as excinfo:
            conn.attribute(reply)
        assert excinfo.value.kind == "protocol"
    assert conn.attribute({"value": 3}) == {"value": 3}


def test_grader_errors_are_the_graders_own_faults_only(week):
    config, _, sources = week
    message, grader_error = describe_failure(_Info(KeyError("bug")), False, config, sources)
    assert grader_error and "internal error" in message
    for kind in ("startup", "overload"):
        assert describe_failure(_Info(WorkerFailure(kind, "x")), False, config, sources)[1]
    for kind in ("crash", "timeout", "lost", "protocol"):
        assert not describe_failure(_Info(WorkerFailure(kind, "x")), False, config, sources)[1]


def test_a_failed_test_names_the_upstream_tasks_that_fail_their_own_checks(week):
    config, submission, sources = week
    layer = submission.layers.Layer()

    def diagnose():
        return failing([("Task 1 (A layer): Layer.backward", lambda: layer.backward(1.0)),
                        ("Task 2 (A stack): stack", lambda: submission.layers.stack([1]))])

    def body():
        with upstream(diagnose):
            raise GradeFailure("the trained stack is wrong")

    message, grader_error = _describe(body, config, sources, public=False)
    assert not grader_error
    assert message.startswith("the trained stack is wrong\n")
    assert "Task 1 (A layer): Layer.backward" in message and "Task 2" not in message

    def passing():
        with upstream(lambda: ["Task 1 (A layer)"]):
            pass

    passing()  # nothing fails, nothing is diagnosed


class _Info:
    """The part of pytest's ExceptionInfo that feedback reads."""

    def __init__(self, value):
        self.value = value


def test_a_forbidden_call_names_the_api_and_the_task_whose_code_made_it(week):
    """A refusal names the week's own API (never the message's other text, which the student's
    process sent) and the task whose code made the call, since a later task's test that runs that
    code fails too (week 5: a LayerNorm on F.layer_norm fails the block's and the model's tests)."""
    config, _, sources = week
    forged = StudentError({"type": "ForbiddenAPIError",
                           "message": "layers.py uses numpy.linalg, which is forbidden: SECRET-INPUT torch.nn.LSTM",
                           "frames": [["layers.py", 10, "leak_123", "x"]]})
    hidden, grader_error = describe_failure(_Info(forged), False, config, sources)
    assert not grader_error
    assert hidden.startswith("Your code used an API this week forbids: numpy.linalg\n"
                             "The call is in Task 1 (A layer)'s code; every test that runs that code fails")
    assert "at layers.py line 10 (in Layer.backward)" in hidden
    assert "SECRET-INPUT" not in hidden and "LSTM" not in hidden and "leak_123" not in hidden
