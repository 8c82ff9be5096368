"""Hidden graders of task 1: conv2d_forward against ``torch.nn.functional.conv2d`` in float64.

Random inputs from fixed seeds (see ``cnn_cases``): multi-channel, non-square inputs and kernels,
integer strides and paddings, (height, width) pairs that differ between the axes, a kernel as
large as the padded input, strides larger than the kernel, and a batch of one image. The speed
check of task 1 is in ``test_hidden_cnn_speed.py``.
"""

from __future__ import annotations

import pytest
from cnn_cases import (CONV_FULL_KERNEL, CONV_ONE_IMAGE, CONV_PAIRS, CONV_PLAIN, CONV_STRIDE_PAD,
                       CONV_WIDE_STRIDE, check_conv_forward, conv_data)
from coursekit.checks import expect_unchanged, run_cases

pytestmark = pytest.mark.task(1)


def _cases(submission, credit, cases):
    run_cases(credit, cases, lambda k, case: check_conv_forward(submission.conv, case, f"case {k}"))


@pytest.mark.points(3)
def test_conv_forward_plain(submission, credit):
    """conv2d_forward matches conv2d with stride 1 and no padding on random multi-channel inputs"""
    _cases(submission, credit, CONV_PLAIN)


@pytest.mark.points(4)
def test_conv_forward_stride_and_padding(submission, credit):
    """conv2d_forward matches conv2d with integer strides and zero paddings"""
    _cases(submission, credit, CONV_STRIDE_PAD)


@pytest.mark.points(3)
def test_conv_forward_pairs(submission, credit):
    """conv2d_forward matches conv2d with (height, width) strides and paddings that differ per axis"""
    _cases(submission, credit, CONV_PAIRS)


@pytest.mark.points(1)
def test_conv_forward_kernel_covers_the_input(submission, credit):
    """conv2d_forward matches conv2d when the kernel is as large as the padded input (a 1x1 output)"""
    _cases(submission, credit, CONV_FULL_KERNEL)


@pytest.mark.points(2)
def test_conv_forward_stride_wider_than_the_kernel(submission, credit):
    """conv2d_forward matches conv2d when the stride is larger than the kernel"""
    _cases(submission, credit, CONV_WIDE_STRIDE)


@pytest.mark.points(1)
def test_conv_forward_one_image(submission, credit):
    """conv2d_forward matches conv2d on a batch of one image"""
    _cases(submission, credit, CONV_ONE_IMAGE)


@pytest.mark.points(1)
def test_conv_forward_leaves_its_arguments(submission):
    """conv2d_forward does not change x, w or b"""
    x, w, b, stride, pad = conv_data(CONV_STRIDE_PAD[0])
    report = submission.driver("call_checking_arguments", "conv", "conv2d_forward", x, w, b,
                               stride=stride, pad=pad)
    expect_unchanged(report, "conv2d_forward")
