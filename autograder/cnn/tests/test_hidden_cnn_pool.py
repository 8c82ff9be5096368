"""Hidden graders of tasks 3 and 4: max-pooling forward and backward against ``F.max_pool2d``.

Inputs are random normal, so no window has a tie (the grader checks this before using a case);
the maximum is then unique and its gradient well defined. Overlapping windows (stride smaller
than the kernel) send the gradients of several windows to the same element.
"""

from __future__ import annotations

import pytest
from cnn_cases import (POOL_DEFAULT, POOL_OTHER, POOL_PAIRS, POOL_REMAINDER, check_pool_backward,
                       check_pool_forward, pool_data, rng)
from coursekit.checks import expect_unchanged, run_cases, unpack

# --- Task 3: maxpool2d_forward --------------------------------------------------------------


def _forward_cases(submission, credit, cases):
    run_cases(credit, cases, lambda k, case: check_pool_forward(submission.conv, case, f"case {k}"))


@pytest.mark.task(3)
@pytest.mark.points(2)
def test_pool_forward_default(submission, credit):
    """maxpool2d_forward matches max_pool2d with the default 2x2 kernel and stride 2"""
    _forward_cases(submission, credit, POOL_DEFAULT)


@pytest.mark.task(3)
@pytest.mark.points(2)
def test_pool_forward_other_kernels(submission, credit):
    """maxpool2d_forward matches max_pool2d with other kernels and strides, overlapping windows included"""
    _forward_cases(submission, credit, POOL_OTHER)


@pytest.mark.task(3)
@pytest.mark.points(2)
def test_pool_forward_pairs(submission, credit):
    """maxpool2d_forward matches max_pool2d with (height, width) kernels and strides"""
    _forward_cases(submission, credit, POOL_PAIRS)


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_pool_forward_remainder(submission, credit):
    """maxpool2d_forward leaves out the rows and columns that no whole window covers"""
    _forward_cases(submission, credit, POOL_REMAINDER)


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_pool_forward_leaves_its_arguments(submission):
    """maxpool2d_forward does not change x"""
    x, kernel, stride = pool_data(POOL_OTHER[1])
    report = submission.driver("call_checking_arguments", "conv", "maxpool2d_forward", x,
                               kernel=kernel, stride=stride)
    expect_unchanged(report, "maxpool2d_forward")


# --- Task 4: maxpool2d_backward -------------------------------------------------------------


def _backward_cases(submission, credit, cases):
    run_cases(credit, cases, lambda k, case: check_pool_backward(submission.conv, case, f"case {k}"))


@pytest.mark.task(4)
@pytest.mark.builds_on(3)
@pytest.mark.points(2)
def test_pool_backward_default(submission, credit):
    """maxpool2d_backward matches autograd of max_pool2d with the default 2x2 kernel and stride 2"""
    _backward_cases(submission, credit, POOL_DEFAULT)


@pytest.mark.task(4)
@pytest.mark.builds_on(3)
@pytest.mark.points(2)
def test_pool_backward_overlapping_windows(submission, credit):
    """maxpool2d_backward adds up the gradients of overlapping windows, as autograd does"""
    _backward_cases(submission, credit, POOL_OTHER)


@pytest.mark.task(4)
@pytest.mark.builds_on(3)
@pytest.mark.points(2)
def test_pool_backward_pairs(submission, credit):
    """maxpool2d_backward matches autograd with (height, width) kernels and strides"""
    _backward_cases(submission, credit, POOL_PAIRS)


@pytest.mark.task(4)
@pytest.mark.builds_on(3)
@pytest.mark.points(1)
def test_pool_backward_remainder(submission, credit):
    """maxpool2d_backward gives zero gradient to rows and columns that no window covers"""
    _backward_cases(submission, credit, POOL_REMAINDER)


@pytest.mark.task(4)
@pytest.mark.builds_on(3)
@pytest.mark.points(1)
def test_pool_backward_leaves_its_arguments(submission):
    """maxpool2d_backward does not change dout or the cache"""
    x, kernel, stride = pool_data(POOL_DEFAULT[0])
    out, cache = unpack(submission.conv.maxpool2d_forward(x, kernel=kernel, stride=stride), 2,
                        "maxpool2d_forward")
    dout = rng(401).standard_normal((2, 3, 4, 4))
    report = submission.driver("call_checking_arguments", "conv", "maxpool2d_backward", dout, cache)
    expect_unchanged(report, "maxpool2d_backward")
