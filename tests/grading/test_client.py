"""The grader-side proxies: student classes are constructed, and student objects called, like in Python."""

from __future__ import annotations

from textwrap import dedent

import torch

from coursekit.grading.client import Connection, ObjectProxy, Submission
from coursekit.local import InProcessChannel


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
