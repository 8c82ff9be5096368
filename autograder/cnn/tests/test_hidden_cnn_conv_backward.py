"""Hidden graders of task 2: conv2d_backward against autograd of ``conv2d`` in float64.

Each case runs the student's conv2d_forward for its ``cache`` and then conv2d_backward with a
random upstream gradient ``dout``; the reference is autograd of ``Σ conv2d(x, w, b) · dout``.
``dx``, ``dw`` and ``db`` are judged in separate tests, so one wrong gradient costs only its own
points.
"""

from __future__ import annotations

import cnn_oracle as oracle
import pytest
from cnn_cases import (CONV_FULL_KERNEL, CONV_ONE_IMAGE, CONV_PAIRS, CONV_PLAIN, CONV_STRIDE_PAD,
                       CONV_WIDE_STRIDE, check_conv_backward, conv_data, conv_forward, rng)
from coursekit.checks import expect_unchanged, run_cases

pytestmark = [pytest.mark.task(2), pytest.mark.builds_on(1)]

#: The main cases of the gradient tests: stride 1 without padding, then strides and paddings.
MAIN_CASES = [CONV_PLAIN[0], CONV_PLAIN[1], CONV_STRIDE_PAD[0], CONV_STRIDE_PAD[1], CONV_STRIDE_PAD[2],
              CONV_STRIDE_PAD[3]]


def _cases(submission, credit, cases, which):
    run_cases(credit, cases,
              lambda k, case: check_conv_backward(submission.conv, case, f"case {k}", which))


@pytest.mark.points(5)
def test_conv_backward_dx(submission, credit):
    """conv2d_backward's dx matches autograd, with and without strides and padding"""
    _cases(submission, credit, MAIN_CASES, "dx")


@pytest.mark.points(5)
def test_conv_backward_dw(submission, credit):
    """conv2d_backward's dw matches autograd, with and without strides and padding"""
    _cases(submission, credit, MAIN_CASES, "dw")


@pytest.mark.points(2)
def test_conv_backward_db(submission, credit):
    """conv2d_backward's db matches autograd"""
    _cases(submission, credit, MAIN_CASES[::2] + CONV_PAIRS[:1], "db")


@pytest.mark.points(5)
def test_conv_backward_pairs(submission, credit):
    """conv2d_backward's dx, dw and db match autograd with (height, width) strides and paddings"""
    _cases(submission, credit, CONV_PAIRS, "dx dw db")


@pytest.mark.points(1)
def test_conv_backward_kernel_covers_the_input(submission, credit):
    """conv2d_backward matches autograd when the kernel is as large as the padded input"""
    _cases(submission, credit, CONV_FULL_KERNEL, "dx dw db")


@pytest.mark.points(2)
def test_conv_backward_stride_wider_than_the_kernel(submission, credit):
    """conv2d_backward matches autograd when the stride skips pixels (their dx is zero)"""
    _cases(submission, credit, CONV_WIDE_STRIDE, "dx dw db")


@pytest.mark.points(1)
def test_conv_backward_one_image(submission, credit):
    """conv2d_backward matches autograd on a batch of one image"""
    _cases(submission, credit, CONV_ONE_IMAGE, "dx dw db")


@pytest.mark.points(1)
def test_conv_backward_leaves_its_arguments(submission):
    """conv2d_backward does not change dout or the cache"""
    x, w, b, stride, pad = conv_data(CONV_STRIDE_PAD[1])
    _, cache = conv_forward(submission.conv, x, w, b, stride, pad, "conv2d_forward")
    dout = rng(202).standard_normal(oracle.conv2d(x, w, b, stride, pad).shape)
    report = submission.driver("call_checking_arguments", "conv", "conv2d_backward", dout, cache)
    expect_unchanged(report, "conv2d_backward")
