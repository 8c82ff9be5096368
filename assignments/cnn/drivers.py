"""Week 3's drivers: timing the student's convolution against PyTorch's, and running a student CNN.

They run in the worker beside the student's code and return data only; the grader compares. See
:mod:`coursekit.worker.drivers` for what a driver is. Nothing here is secret.
"""

from __future__ import annotations

import time
from typing import Any, Callable

#: A timing round repeats a fast call until the round has lasted this long, so that the clock's
#: resolution and the cost of one Python call do not dominate sub-millisecond operations.
MIN_ROUND_SECONDS = 0.02
MAX_CALLS_PER_ROUND = 1000


def _round(function: Callable[[], Any]) -> tuple[float, float]:
    """One timing round: ``(seconds per call, seconds the round took)``."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_ROUND_SECONDS or calls >= MAX_CALLS_PER_ROUND:
            return elapsed / calls, elapsed
        calls = min(calls * 4, MAX_CALLS_PER_ROUND)


def conv2d_speed(server: Any, module: str, x: Any, w: Any, b: Any, stride: Any = 1, pad: Any = 0,
                 rounds: int = 5, student_budget_seconds: float = 3.0) -> dict:
    """Time ``module.conv2d_forward(x, w, b, stride=stride, pad=pad)`` against
    ``torch.nn.functional.conv2d`` on the same float64 arrays, here, in the same process.

    Both run on one thread (torch's thread count is set to 1 for the measurement and restored), in
    alternating rounds, so that whatever else the machine is doing affects both alike; each time
    is the best (smallest) per-call time over the rounds. The student's rounds stop early once they
    have used ``student_budget_seconds`` in all, so a very slow convolution is measured once or
    twice instead of holding up the grader. The results are not checked here.

    Returns ``{"student_seconds", "torch_seconds", "student_rounds", "torch_rounds"}``.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F

    function = getattr(server.module(module), "conv2d_forward")
    xt, wt, bt = (torch.as_tensor(np.asarray(a)) for a in (x, w, b))
    pair = lambda v: tuple(int(k) for k in v) if isinstance(v, (list, tuple)) else int(v)  # noqa: E731
    t_stride, t_pad = pair(stride), pair(pad)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    student: list[float] = []
    reference: list[float] = []
    spent = 0.0
    try:
        with torch.no_grad():
            F.conv2d(xt, wt, bt, t_stride, t_pad)  # warm-up: first calls allocate and dispatch
            for _ in range(rounds):
                reference.append(_round(lambda: F.conv2d(xt, wt, bt, t_stride, t_pad))[0])
                if spent < student_budget_seconds:
                    per_call, elapsed = _round(lambda: function(x, w, b, stride=stride, pad=pad))
                    student.append(per_call)
                    spent += elapsed
    finally:
        torch.set_num_threads(threads)
    return {"student_seconds": min(student), "torch_seconds": min(reference),
            "student_rounds": len(student), "torch_rounds": len(reference)}


def model_logits(server: Any, model: Any, X: Any) -> Any:
    """``model(X)`` in evaluation mode without gradients, for a batch of images ``X``.

    ``X`` (a tensor or an array) is turned into a float32 tensor first. Returns the output as a
    detached tensor when it is one, otherwise as it came (the grader says what is wrong with it).
    """
    import torch

    images = torch.as_tensor(X, dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        out = model(images)
    return out.detach() if isinstance(out, torch.Tensor) else out


def parameter_shapes(server: Any, module: Any) -> list:
    """The shapes of a torch module's trainable parameters, in ``parameters()`` order."""
    return [list(p.shape) for p in module.parameters() if p.requires_grad]


REGISTRY: dict[str, Callable[..., Any]] = {
    "conv2d_speed": conv2d_speed,
    "model_logits": model_logits,
    "parameter_shapes": parameter_shapes,
}
