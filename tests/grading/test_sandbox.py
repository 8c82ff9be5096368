"""``WorkerChannel``: workers launched ahead of their first request (every group's at once, while
the grader collects its tests) behave as workers started on demand, and what they preload."""

from __future__ import annotations

import time
from pathlib import Path
from textwrap import dedent

import pytest

from coursekit.config import load_week
from coursekit.grading.client import Connection, Submission, WorkerFailure
from coursekit.grading.connect import preload_for
from coursekit.grading.sandbox import SandboxSettings, WorkerChannel
from coursekit.paths import Repo, find_repo_root

REPO = Repo(find_repo_root(Path(__file__)))

LOADED = dedent("""
    import sys

    def loaded(name):
        return name in sys.modules
""")


def _channel(files: dict[str, str], **settings) -> WorkerChannel:
    return WorkerChannel(SandboxSettings(student_files={n: t.encode() for n, t in files.items()}, **settings))


def test_workers_launched_at_once_answer_as_workers_started_on_demand(isolation_mode):
    channels = [_channel({"a.py": LOADED}), _channel({"b.py": "def two():\n    return 2\n"})]
    try:
        for channel in channels:
            channel.launch()
            assert channel.proc is not None and channel.awaiting_start  # started, not waited for
        channels[0].launch()  # launching again while it starts does nothing
        submission = Submission({"a": Connection(channels[0], 30.0), "b": Connection(channels[1], 30.0)})
        assert submission.b.two() == 2 and submission.a.loaded("numpy") in (True, False)
        assert not any(c.failures for c in channels) and all(c.generation == 1 for c in channels)
    finally:
        for channel in channels:
            channel.close()


def test_a_launched_worker_that_cannot_start_says_so_at_its_first_request(isolation_mode):
    # The week's drivers load while the worker starts, before it answers: a broken one kills it.
    channel = _channel({"a.py": LOADED}, drivers=b"raise SystemExit(3)\n")
    try:
        channel.launch()
        submission = Submission({"a": Connection(channel, 30.0)})
        with pytest.raises(WorkerFailure) as first:
            submission.a.loaded("os")
        assert first.value.kind == "startup"
        with pytest.raises(WorkerFailure):
            submission.a.loaded("os")  # tried once more, then refused at once
        start = time.monotonic()
        channel.launch()  # after failed starts, launching does nothing either
        with pytest.raises(WorkerFailure):
            submission.a.loaded("os")
        assert time.monotonic() - start < 1.0
    finally:
        channel.close()


def test_packages_are_preloaded_only_where_a_file_imports_them_and_no_rule_forbids_them(isolation_mode):
    cnn = load_week(REPO, "cnn")
    files = {"conv.py": b"import numpy as np\nimport torch\n", "cnn.py": b"import torch.nn as nn\n"}
    assert preload_for(cnn, ["conv.py"], files) == ["numpy"]  # torch is forbidden in conv.py
    assert preload_for(cnn, ["cnn.py"], files) == ["torch"]
    assert preload_for(cnn, ["cnn.py"], {"cnn.py": b"def f(:\n"}) == []  # unparsable: nothing
    channel = _channel({"a.py": LOADED}, preload=["torch"])
    try:
        submission = Submission({"a": Connection(channel, 30.0)})
        assert submission.a.loaded("torch") is True  # imported while the worker started
    finally:
        channel.close()
