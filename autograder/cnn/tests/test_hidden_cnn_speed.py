"""Hidden grader of task 1's speed: conv2d_forward against torch's conv2d, timed in the same run.

The ``conv2d_speed`` driver times both on the same float64 arrays inside the worker, one thread
each, in alternating rounds, and reports the best time of each; the grader compares their ratio
with the handout's bound (``conv_speed_ratio`` in the week's config). Ratios, not seconds, so the
check means the same on a fast laptop and on a slow grading machine. On this shape the
reference's ratio is about 3 and loops over output pixels give hundreds to thousands (see the
config), so the bound sits far from both.
"""

from __future__ import annotations

import cnn_oracle as oracle
import pytest
from cnn_cases import SPEED_CASE, conv_data, conv_forward

from coursekit.checks import expect_array, expect_close, expect_true

pytestmark = pytest.mark.task(1)


@pytest.mark.points(5)
def test_conv_forward_speed(submission, week):
    """conv2d_forward is vectorized: correct, and within the handout's time ratio to torch's conv2d"""
    bound = week.thresholds["conv_speed_ratio"]
    x, w, b, stride, pad = conv_data(SPEED_CASE)
    want = oracle.conv2d(x, w, b, stride, pad)
    out, _ = conv_forward(submission.conv, x, w, b, stride, pad, "the timed case")
    expect_array(out, "the timed case: output", shape=want.shape)
    expect_close(out, want, "the timed case: output (only a correct convolution is timed)")
    report = submission.driver("conv2d_speed", "conv", x, w, b, stride, pad)
    ratio = float(report["student_seconds"]) / float(report["torch_seconds"])
    expect_true(ratio <= bound,
                f"conv2d_forward took {ratio:.0f} times as long as torch's conv2d on the same arrays; "
                f"the bound is {bound:g} (is there a Python loop over images, filters or pixels?)")
