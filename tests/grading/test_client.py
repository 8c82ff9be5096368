"""The grader-side proxies: student classes are constructed, and student objects called, like in Python."""

from __future__ import annotations

from textwrap import dedent

import pytest
import torch

from coursekit.grading.client import Connection, ObjectProxy, Submission
from coursekit.local import InProcessChannel
from coursekit.protocol import ProtocolError


def test_classes_construct_and_torch_modules_are_called_through_the_proxy(tmp_path):
    """A class whose instances define ``__call__`` (every ``nn.Module``) is constructed, not called unbound."""
    (tmp_path / "shapes.py").write_text(dedent("""
        import torch
        class Plain:
            def __init__(self, k):
                self.k = k
        class Scale(torch.nn.Module):
            def __init__(self, k):
                super().__init__()
                self.k = k
            def forward(self, x):
                return self.k * x
    """))
    submission = Submission({"shapes": Connection(InProcessChannel(tmp_path, ["shapes"]), 10.0)})
    plain, module = submission.shapes.Plain(3), submission.shapes.Scale(2.0)
    assert isinstance(plain, ObjectProxy) and plain.k == 3
    assert isinstance(module, ObjectProxy) and module.k == 2.0
    assert torch.equal(module(torch.ones(2)), torch.full((2,), 2.0))


def _two_workers(tmp_path):
    """A submission whose two files run behind two channels, as cnn.py and conv.py do."""
    (tmp_path / "model.py").write_text(dedent("""
        import numpy as np
        class Box:
            def __init__(self):
                self.v = 1
        def draw():
            return float(np.random.rand())
    """))
    (tmp_path / "other.py").write_text("def read(box):\n    return box.v\n")
    return Submission({"model": Connection(InProcessChannel(tmp_path, ["model"]), 10.0),
                       "other": Connection(InProcessChannel(tmp_path, ["other"]), 10.0)})


def test_an_object_never_reaches_another_workers_functions(tmp_path):
    """A handle indexes one worker's table: sent to another worker it would name whatever object sits
    there (week 4's stand-in model reached the student's own model that way), so it is refused."""
    submission = _two_workers(tmp_path)
    box = submission.model.Box()
    with pytest.raises(ProtocolError, match="one worker to another"):
        submission.other.read(box)
    with pytest.raises(TypeError, match="different workers"):
        submission.driver("state_dict", box, submission.other)


def test_a_driver_runs_in_the_worker_it_names_and_never_a_guessed_one(tmp_path):
    """With several workers, a driver that names none is the grader's mistake (``set_seed`` sent to
    conv.py's worker left cnn.py's network unseeded), so it raises; ``on=`` names the worker."""
    submission = _two_workers(tmp_path)
    with pytest.raises(TypeError, match="on=<module>"):
        submission.driver("set_seed", 3)
    with pytest.raises(TypeError, match="not a student module"):
        submission.driver("set_seed", 3, on="nothing")
    submission.driver("set_seed", 3, on="model")
    first = submission.model.draw()
    submission.driver("set_seed", 3, on="model")
    assert submission.model.draw() == first
