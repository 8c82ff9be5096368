"""Week 3's hidden inputs and the judging steps the hidden tests share.

The seeds of every multi-case test are defined here; a single-case test names its seed inline.
Seeds follow one scheme, so none is reused by accident: 1xx for task 1, 2xx for task 2, and so on.
Failure messages name the check and what differed, never an expected value or an input: the
checks in :mod:`coursekit.checks` keep values in their ``detail``, which hidden tests do not show.

Backward tests get their ``cache`` from the student's own forward pass (its content is the
student's design), with ``dout`` of the true output's shape. A forward pass that computes wrong
values but keeps what the backward pass needs therefore costs points in its own task only.
"""

from __future__ import annotations

from typing import Any

import cnn_oracle as oracle
import numpy as np

from coursekit import tolerances
from coursekit.checks import expect_array, expect_close, unpack

# --- seeds and shapes -----------------------------------------------------------------------

#: A convolution case: (N, C, H, W, F, KH, KW, stride, pad, seed); stride and pad an int or a pair.
ConvCase = tuple

#: Stride 1, no padding: multi-channel, non-square inputs and kernels.
CONV_PLAIN = [(2, 3, 7, 7, 4, 3, 3, 1, 0, 101), (3, 2, 6, 9, 5, 2, 4, 1, 0, 102),
              (4, 1, 8, 6, 3, 3, 2, 1, 0, 103), (2, 4, 5, 8, 2, 1, 1, 1, 0, 104)]
#: Integer strides and paddings.
CONV_STRIDE_PAD = [(2, 3, 9, 9, 4, 3, 3, 2, 1, 111), (2, 2, 8, 10, 3, 3, 3, 1, 2, 112),
                   (3, 3, 11, 7, 2, 4, 2, 3, 0, 113), (2, 4, 10, 10, 3, 5, 5, 2, 2, 114)]
#: (height, width) pairs of strides and paddings that differ between the two axes.
CONV_PAIRS = [(2, 3, 9, 7, 4, 3, 2, (2, 1), (1, 0), 121), (2, 2, 6, 11, 3, 2, 3, (1, 3), (0, 2), 122),
              (3, 2, 10, 8, 2, 4, 3, (3, 2), (2, 1), 123)]
#: The kernel covers the whole (padded) input: a 1x1 output.
CONV_FULL_KERNEL = [(2, 3, 5, 4, 4, 5, 4, 1, 0, 131), (3, 2, 3, 6, 3, 5, 8, 1, 1, 132)]
#: Strides larger than the kernel: some input pixels are never read.
CONV_WIDE_STRIDE = [(2, 3, 11, 12, 3, 2, 2, 3, 0, 141), (2, 2, 10, 9, 2, 1, 2, (4, 3), 1, 142)]
#: One image (and one channel or one filter).
CONV_ONE_IMAGE = [(1, 1, 6, 6, 1, 3, 3, 1, 1, 151), (1, 3, 7, 5, 2, 3, 3, 2, 1, 152)]
#: The graded speed check: 16 images of 8 channels, 24x24, 16 filters of 3x3, "same" padding. Large
#: enough (torch takes about a millisecond) that the fixed cost of a call to the worker is small
#: beside it, even on a busy machine.
SPEED_CASE = (16, 8, 24, 24, 16, 3, 3, 1, 1, 161)

#: A pooling case: (N, C, H, W, kernel, stride, seed).
POOL_DEFAULT = [(2, 3, 8, 8, 2, 2, 301), (3, 2, 6, 10, 2, 2, 302), (1, 4, 4, 4, 2, 2, 303)]
#: Other kernels and strides, overlapping windows (stride < kernel) included.
POOL_OTHER = [(2, 3, 9, 9, 3, 3, 311), (2, 2, 7, 8, 3, 2, 312), (3, 1, 6, 6, 2, 1, 313),
              (2, 2, 10, 7, 1, 2, 314)]
#: (height, width) pairs of kernels and strides.
POOL_PAIRS = [(2, 3, 8, 9, (2, 3), (2, 3), 321), (2, 2, 9, 7, (3, 1), (2, 2), 322),
              (1, 3, 6, 10, (2, 4), (1, 3), 323)]
#: Sizes that no whole number of windows covers: the last rows or columns are left out.
POOL_REMAINDER = [(2, 2, 7, 9, 2, 2, 331), (2, 3, 11, 8, 3, 3, 332)]

#: Part B: the configured training run of the handout.
TRAIN_RUN = {"epochs": 20, "seed": 0}
#: torch's global seed set in the worker before build_model(), so initialization is reproducible.
MODEL_SEED = 0


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def conv_data(case: ConvCase) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any, Any]:
    """``(x, w, b, stride, pad)`` of a convolution case, standard normal float64."""
    N, C, H, W, F, KH, KW, stride, pad, seed = case
    g = rng(seed)
    return (g.standard_normal((N, C, H, W)), g.standard_normal((F, C, KH, KW)), g.standard_normal(F),
            stride, pad)


def pool_data(case: tuple) -> tuple[np.ndarray, Any, Any]:
    """``(x, kernel, stride)`` of a pooling case; the grader checks that no window has a tie."""
    N, C, H, W, kernel, stride, seed = case
    x = rng(seed).standard_normal((N, C, H, W))
    assert not oracle.pooling_has_ties(x, kernel, stride), "grader self-check: a pooling window has a tie"
    return x, kernel, stride


# --- judging helpers ------------------------------------------------------------------------


def conv_forward(cv: Any, x, w, b, stride, pad, what: str) -> tuple[np.ndarray, Any]:
    """The student's ``conv2d_forward``: ``(out, cache)`` with ``out`` a float array."""
    out, cache = unpack(cv.conv2d_forward(x, w, b, stride=stride, pad=pad), 2, f"{what}: conv2d_forward")
    return expect_array(out, f"{what}: conv2d_forward's output", dtype_kind="f"), cache


def check_conv_forward(cv: Any, case: ConvCase, what: str) -> None:
    """conv2d_forward's output against ``F.conv2d`` (shape, then values)."""
    x, w, b, stride, pad = conv_data(case)
    want = oracle.conv2d(x, w, b, stride, pad)
    out, _ = conv_forward(cv, x, w, b, stride, pad, what)
    expect_array(out, f"{what}: output", shape=want.shape)
    expect_close(out, want, f"{what}: output")


def conv_gradients(cv: Any, case: ConvCase, what: str) -> tuple[tuple, tuple]:
    """The student's ``(dx, dw, db)`` for a case with a random ``dout``, and autograd's."""
    x, w, b, stride, pad = conv_data(case)
    want_out = oracle.conv2d(x, w, b, stride, pad)
    dout = rng(case[-1] + 1000).standard_normal(want_out.shape)
    _, cache = conv_forward(cv, x, w, b, stride, pad, what)
    got = unpack(cv.conv2d_backward(dout, cache), 3, f"{what}: conv2d_backward")
    return got, oracle.conv2d_grads(x, w, b, stride, pad, dout)


def expect_gradient(got: Any, want: np.ndarray, what: str) -> None:
    expect_array(got, what, shape=want.shape, dtype_kind="f")
    expect_close(got, want, what)


def check_conv_backward(cv: Any, case: ConvCase, what: str, which: str = "dx dw db") -> None:
    """The named gradients of conv2d_backward against autograd."""
    got, want = conv_gradients(cv, case, what)
    for name, g, t in zip(("dx", "dw", "db"), got, want):
        if name in which.split():
            expect_gradient(g, t, f"{what}: {name}")


def check_pool_forward(cv: Any, case: tuple, what: str) -> None:
    """maxpool2d_forward's output against ``F.max_pool2d`` (a maximum is exact: no tolerance)."""
    x, kernel, stride = pool_data(case)
    want = oracle.max_pool2d(x, kernel, stride)
    out, _ = unpack(cv.maxpool2d_forward(x, kernel=kernel, stride=stride), 2, f"{what}: maxpool2d_forward")
    expect_array(out, f"{what}: output", shape=want.shape, dtype_kind="f")
    expect_close(out, want, f"{what}: output", tolerance=tolerances.EXACT)


def check_pool_backward(cv: Any, case: tuple, what: str) -> None:
    """maxpool2d_backward's dx against autograd of ``F.max_pool2d``."""
    x, kernel, stride = pool_data(case)
    dout = rng(case[-1] + 1000).standard_normal(oracle.max_pool2d(x, kernel, stride).shape)
    _, cache = unpack(cv.maxpool2d_forward(x, kernel=kernel, stride=stride), 2, f"{what}: maxpool2d_forward")
    dx = cv.maxpool2d_backward(dout, cache)
    expect_gradient(dx, oracle.max_pool2d_grad(x, kernel, stride, dout), f"{what}: dx")


# --- timing ---------------------------------------------------------------------------------

#: Rounds of the speed check, and the student time after which no further round starts (a very
#: slow convolution is measured once or twice instead of holding up the grader).
SPEED_ROUNDS = 5
SPEED_STUDENT_BUDGET_SECONDS = 3.0
#: torch's conv2d on the speed shape takes well under a millisecond: repeat it for a stable best.
REFERENCE_REPEATS = 20


def time_reference(x, w, b, stride, pad) -> tuple[np.ndarray, float]:
    """``F.conv2d`` on the arrays, and its best time over a few runs in this thread (CPU seconds)."""
    import time

    best, out = float("inf"), None
    for _ in range(REFERENCE_REPEATS):
        start = time.thread_time()
        out = oracle.conv2d(x, w, b, stride, pad)
        best = min(best, time.thread_time() - start)
    return out, best


def timed_rounds(submission: Any, case: ConvCase, stride: Any, pad: Any) -> tuple[float, float]:
    """``(best student seconds, best torch seconds)`` over rounds on fresh arrays of ``case``'s
    shape; every round's output must be right (a wrong one fails the check: only a correct
    convolution is timed)."""
    import torch

    N, C, H, W, F, KH, KW, _, _, seed = case
    g = rng(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    student, reference, spent = [], [], 0.0
    try:
        for k in range(1, SPEED_ROUNDS + 1):
            x, w, b = g.standard_normal((N, C, H, W)), g.standard_normal((F, C, KH, KW)), g.standard_normal(F)
            want, t_ref = time_reference(x, w, b, stride, pad)
            got, seconds = submission.timed(submission.conv.conv2d_forward, x, w, b, stride=stride, pad=pad)
            out, _ = unpack(got, 2, f"timed round {k}: conv2d_forward")
            expect_array(out, f"timed round {k}: output", shape=want.shape, dtype_kind="f")
            expect_close(out, want, f"timed round {k}: output (only a correct convolution is timed)")
            student.append(seconds)
            reference.append(t_ref)
            spent += seconds
            if spent >= SPEED_STUDENT_BUDGET_SECONDS:
                break
    finally:
        torch.set_num_threads(threads)
    return min(student), min(reference)
