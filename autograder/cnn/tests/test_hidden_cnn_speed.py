"""Hidden grader of task 1's speed: conv2d_forward against torch's conv2d, both timed by the grader.

Every round draws fresh float64 arrays (so a result cached from an earlier call is wrong, and only
a correct convolution is timed), times the student's call as the grader measures it (the time
charged to the worker: wall time minus its waits for a CPU, from the kernel; see
``coursekit.grading.clock``) and torch's ``conv2d`` on the same arrays in the grader's own thread
(``time.thread_time``, one torch thread), and keeps the best time of each. Nothing the student's
process reports enters the ratio. On this shape the reference's ratio is a few units and loops over
output pixels give hundreds to thousands (see the config), so the bound sits far from both.
"""

from __future__ import annotations

import pytest
from cnn_cases import SPEED_CASE, conv_data, timed_rounds

from coursekit.checks import expect_true

pytestmark = pytest.mark.task(1)


@pytest.mark.points(5)
def test_conv_forward_speed(submission, week):
    """conv2d_forward is vectorized: correct, and within the handout's time ratio to torch's conv2d"""
    bound = week.thresholds["conv_speed_ratio"]
    _, _, _, stride, pad = conv_data(SPEED_CASE)
    student, reference = timed_rounds(submission, SPEED_CASE, stride, pad)
    ratio = student / reference
    expect_true(ratio <= bound,
                f"conv2d_forward took {ratio:.0f} times as long as torch's conv2d on the same arrays; "
                f"the bound is {bound:g} (is there a Python loop over images, filters or pixels?)")
