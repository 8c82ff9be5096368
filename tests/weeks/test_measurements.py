"""The grader measures what it scores: a week's numbers that decide points cannot be faked from the
student's process. Each case is the reference with one cheat, graded through the one grading path,
and must score exactly what the honest mistake underneath it scores."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coursekit.authoring import known_bad
from coursekit.authoring.commands.grade import grade
from coursekit.config import load_week
from coursekit.paths import Repo

REPO = Repo.here()
pytestmark = pytest.mark.slow

FOUR_LOOPS = known_bad.load(REPO.known_bad("cnn") / "conv_four_loops" / "expected.toml")

#: A four-loop convolution that remembers its results by the arrays' bytes.
CACHED = '''
_CACHE = {}
_slow_conv2d_forward = conv2d_forward


def conv2d_forward(x, w, b, stride=1, pad=0):
    key = (x.tobytes(), w.tobytes(), b.tobytes(), str(stride), str(pad))
    if key not in _CACHE:
        _CACHE[key] = _slow_conv2d_forward(x, w, b, stride, pad)
    return _CACHE[key]
'''

#: A four-loop convolution whose process stops every clock it can reach, and hands its work to a
#: thread so that its main thread seems idle.
CLOCKS = '''
import threading as _threading
import time as _time

for _name in ("perf_counter", "perf_counter_ns", "process_time", "thread_time", "monotonic", "time"):
    setattr(_time, _name, lambda *a: 0)
_loops_conv2d_forward = conv2d_forward


def conv2d_forward(x, w, b, stride=1, pad=0):
    box = {}
    worker = _threading.Thread(target=lambda: box.update(out=_loops_conv2d_forward(x, w, b, stride, pad)))
    worker.start()
    worker.join()
    return box["out"]
'''

#: A four-loop convolution done by a helper process beside spinning processes, while the worker's own
#: thread, at the lowest priority, polls for the answer: it waits on a run queue the whole time.
NICE_HELPERS = '''
import os as _os, pickle as _pickle, signal as _signal
_loops = conv2d_forward
_channel = []


def _read(fd, n):
    data = b""
    while len(data) < n:
        try:
            chunk = _os.read(fd, n - len(data))
        except BlockingIOError:
            continue  # busy-poll: runnable, never blocked
        if not chunk:
            _os._exit(0)
        data += chunk
    return data


def _serve(rfd, wfd):
    while True:
        x, w, b, stride, pad = _pickle.loads(_read(rfd, int.from_bytes(_read(rfd, 8), "little")))
        spinners = []
        for _ in range(len(_os.sched_getaffinity(0))):
            pid = _os.fork()
            if pid == 0:
                while True:
                    pass
            spinners.append(pid)
        out = _loops(x, w, b, stride, pad)
        for pid in spinners:
            _os.kill(pid, _signal.SIGKILL)
            _os.waitpid(pid, 0)
        data = _pickle.dumps(out)
        _os.write(wfd, len(data).to_bytes(8, "little") + data)


def conv2d_forward(x, w, b, stride=1, pad=0):
    if not _channel:
        a_r, a_w = _os.pipe()
        b_r, b_w = _os.pipe()
        if _os.fork() == 0:
            _serve(a_r, b_w)
        _os.set_blocking(b_r, False)
        _os.nice(19)
        _channel.extend([a_w, b_r])
    data = _pickle.dumps((x, w, b, stride, pad))
    _os.write(_channel[0], len(data).to_bytes(8, "little") + data)
    return _pickle.loads(_read(_channel[1], int.from_bytes(_read(_channel[1], 8), "little")))
'''

#: A network with a 535,642-parameter layer that ``parameters()`` leaves out of the count.
HIDDEN_PARAMETERS = '''

class _Hidden(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.extra = nn.Linear(1000, 535)  # 535,535 scalars the network never uses

    def forward(self, x):
        return self.inner(x)

    def parameters(self, recurse=True):
        return self.inner.parameters(recurse)


_honest_build_model = build_model


def build_model():
    return _Hidden(_honest_build_model())
'''


def _submission(tmp_path: Path, week: str, edits: dict[str, str], bad: known_bad.KnownBad | None = None) -> Path:
    config = load_week(REPO, week)
    folder = tmp_path / "submission"
    if bad is not None:
        known_bad.materialize(bad, REPO.solution(week), config, folder)
    else:
        folder.mkdir()
        for name in config.student_files:
            (folder / name).write_text(known_bad.without_markers((REPO.solution(week) / name).read_text()))
    for name, appended in edits.items():
        path = folder / name
        path.write_text(path.read_text() + appended)
    return folder


def _score(tmp_path: Path, week: str, folder: Path) -> dict:
    return grade(REPO, load_week(REPO, week), folder, tmp_path / "results.json", quiet=True)


def _failed(results: dict) -> set[str]:
    return {t["extra_data"]["id"] for t in results["tests"] if t["score"] < t["max_score"]}


@pytest.mark.parametrize("cheat", [CACHED, CLOCKS, NICE_HELPERS],
                         ids=["results cached by input", "clocks stopped", "helpers and a low priority"])
def test_a_slow_convolution_cannot_fake_its_speed(tmp_path, cheat):
    results = _score(tmp_path, "cnn", _submission(tmp_path, "cnn", {"conv.py": cheat}, FOUR_LOOPS))
    assert _failed(results) == {"test_cnn.py::test_conv_forward_speed",
                                "test_hidden_cnn_speed.py::test_conv_forward_speed"}
    assert results["score"] == pytest.approx(load_week(REPO, "cnn").total_points - FOUR_LOOPS.lost)


def test_parameters_left_out_of_the_count_still_count(tmp_path):
    results = _score(tmp_path, "cnn", _submission(tmp_path, "cnn", {"cnn.py": HIDDEN_PARAMETERS}))
    assert _failed(results) == {"test_cnn.py::test_model_parameter_budget",
                                "test_hidden_cnn_model.py::test_model_parameter_budget"}
    budget = [t for t in results["tests"] if t["extra_data"]["id"] == "test_hidden_cnn_model.py::test_model_parameter_budget"][0]
    found = re.search(r"has (\d+) parameters", budget["output"])
    assert found, budget
    count = int(found.group(1))
    assert count > 535_535
