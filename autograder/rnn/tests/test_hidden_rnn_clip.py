"""Hidden graders of task 7: clip_grad_norm against ``torch.nn.utils.clip_grad_norm_``.

Gradients of several shapes, in float64 and float32, with a bound below their global norm (they
are scaled down together) and above it (they keep their values); the total norm before clipping;
and that the inputs are left unchanged (``clip_grad_norm_`` works in place, ``clip_grad_norm``
must not).
"""

from __future__ import annotations

import pytest
from rnn_cases import CLIP_ABOVE, CLIP_BELOW, check_clip, clip_data

from coursekit.checks import expect_unchanged, run_cases

pytestmark = pytest.mark.task(7)


@pytest.mark.points(1)
def test_clip_total_norm(submission, credit):
    """clip_grad_norm's total norm, over all tensors together, matches clip_grad_norm_'s"""
    run_cases(credit, CLIP_ABOVE + CLIP_BELOW,
              lambda k, case: check_clip(submission.rnn, case, f"case {k}", "norm"))


@pytest.mark.points(2)
def test_clip_above_the_bound(submission, credit):
    """clip_grad_norm scales gradients whose global norm exceeds max_norm as clip_grad_norm_ does"""
    run_cases(credit, CLIP_ABOVE,
              lambda k, case: check_clip(submission.rnn, case, f"case {k}", "values"))


@pytest.mark.points(1)
def test_clip_below_the_bound(submission, credit):
    """clip_grad_norm leaves gradients within max_norm unchanged"""
    run_cases(credit, CLIP_BELOW,
              lambda k, case: check_clip(submission.rnn, case, f"case {k}", "values"))


@pytest.mark.points(1)
def test_clip_leaves_its_arguments(submission):
    """clip_grad_norm is right and does not change the gradients it is given"""
    grads, max_norm = clip_data(CLIP_ABOVE[0])
    report = submission.driver("call_checking_arguments", "rnn", "clip_grad_norm", grads, max_norm)
    check_clip(submission.rnn, CLIP_ABOVE[0], "clip_grad_norm", "values", value=report["value"])
    expect_unchanged(report, "clip_grad_norm")
