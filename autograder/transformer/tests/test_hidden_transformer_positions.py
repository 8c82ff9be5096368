"""Hidden graders of task 4: sinusoidal_positions against the closed form, for even and odd d.

PE[p, j] = sin(p / 10000^(2i/d)) for j = 2i and cos(p / 10000^(2i/d)) for j = 2i + 1, computed here
in float64 and compared at float32 tolerance (the function returns float32). With an odd d the last
column is a sine, as the handout says.
"""

from __future__ import annotations

import pytest
import torch
import transformer_oracle as oracle
from transformer_cases import POS_EVEN, POS_ODD, tensor

from coursekit.checks import expect_close, expect_true, run_cases

pytestmark = pytest.mark.task(4)


def _check(tf, size, what: str) -> None:
    T, d = size
    got = tensor(tf.sinusoidal_positions(T, d), f"{what}: sinusoidal_positions", shape=(T, d))
    expect_close(got, oracle.positions(T, d).float(), f"{what}: sinusoidal_positions")


@pytest.mark.points(2)
def test_positions_even_d(submission, credit):
    """sinusoidal_positions(T, d) matches the closed form for even d (T from 1 to 50, d from 2 to 64)"""
    run_cases(credit, POS_EVEN, lambda k, size: _check(submission.transformer, size, f"case {k}"))


@pytest.mark.points(2)
def test_positions_odd_d(submission, credit):
    """sinusoidal_positions(T, d) matches the closed form for odd d: the last column is a sine"""
    run_cases(credit, POS_ODD, lambda k, size: _check(submission.transformer, size, f"case {k}"))


@pytest.mark.points(1)
def test_positions_dtype(submission):
    """sinusoidal_positions returns a float32 tensor of shape (T, d)"""
    got = submission.transformer.sinusoidal_positions(6, 10)
    expect_true(isinstance(got, torch.Tensor) and got.dtype == torch.float32 and tuple(got.shape) == (6, 10),
                "sinusoidal_positions(6, 10) must be a float32 tensor of shape (6, 10)")
