"""Hidden graders of task 1: the initializers' distributions, their use of the generator, and the
Linear layer's initial weights.

Randomness makes exact values depend on how the numbers are drawn, so these tests check what must
be true of any correct draw (see the tolerances in ``backprop_cases``): shape, dtype, the support of
the uniform, the variance, the mean, and for the normal its share within one standard deviation.
"""

from __future__ import annotations

import numpy as np
import pytest
from backprop_cases import INIT_CASES, MEAN_ATOL_IN_STD, NORMAL_WITHIN_ONE_STD, VARIANCE_RTOL
from coursekit.checks import run_cases

from coursekit.checks import expect_array, expect_equal, expect_true

pytestmark = pytest.mark.task(1)


def _draw(submission, name, fan_in, fan_out, seed, what):
    W = expect_array(submission.driver("call_with_rng", name, seed, fan_in, fan_out), what,
                     shape=(fan_in, fan_out), dtype_kind="f")
    expect_true(W.dtype == np.float64, f"{what}: dtype {W.dtype} is not float64")
    expect_true(bool(np.all(np.isfinite(W))), f"{what}: contains NaN or infinity")
    return W


def _expect_moments(W, variance, what):
    expect_true(abs(float(W.mean())) <= MEAN_ATOL_IN_STD * np.sqrt(variance),
                f"{what}: the mean of the weights is not close to 0")
    expect_true(abs(float(W.var()) / variance - 1.0) <= VARIANCE_RTOL,
                f"{what}: the variance of the weights differs from the required one by more than "
                f"{VARIANCE_RTOL:.0%}")


@pytest.mark.points(2)
def test_xavier_uniform_distribution(submission, credit):
    """xavier_uniform draws uniformly from (-a, a) with a = sqrt(6 / (fan_in + fan_out))"""
    def check(k, case):
        fan_in, fan_out, seed = case
        what = f"case {k}: xavier_uniform"
        W = _draw(submission, "xavier_uniform", fan_in, fan_out, seed, what)
        bound = (6.0 / (fan_in + fan_out)) ** 0.5
        expect_true(float(np.abs(W).max()) <= bound * (1 + 1e-12),
                    f"{what}: some weights lie outside (-a, a)")
        expect_true(float(np.abs(W).max()) >= 0.99 * bound,
                    f"{what}: the weights do not fill (-a, a)")
        # a uniform on (-a, a) puts half its mass within a/2 of zero
        expect_true(abs(float(np.mean(np.abs(W) < bound / 2)) - 0.5) <= 0.01,
                    f"{what}: the weights are not uniformly spread over (-a, a)")
        _expect_moments(W, 2.0 / (fan_in + fan_out), what)

    run_cases(credit, INIT_CASES, check)


@pytest.mark.points(2)
def test_he_normal_distribution(submission, credit):
    """he_normal draws from a normal with mean 0 and variance 2 / fan_in"""
    def check(k, case):
        fan_in, fan_out, seed = case
        what = f"case {k}: he_normal"
        W = _draw(submission, "he_normal", fan_in, fan_out, seed, what)
        _expect_moments(W, 2.0 / fan_in, what)
        share, slack = NORMAL_WITHIN_ONE_STD
        within = float(np.mean(np.abs(W) < np.sqrt(2.0 / fan_in)))
        expect_true(abs(within - share) <= slack,
                    f"{what}: the weights are not normally distributed (share within one standard "
                    "deviation)")

    run_cases(credit, INIT_CASES, check)


@pytest.mark.points(1)
def test_initializers_draw_from_the_given_generator(submission, credit):
    """both initializers draw only from rng: same seed, same weights, whatever numpy's global seed"""
    def check(k, name):
        what = f"case {k}: {name}"
        submission.driver("set_seed", 1)
        first = _draw(submission, name, 20, 30, 111, what)
        submission.driver("set_seed", 2)
        again = _draw(submission, name, 20, 30, 111, what)
        other = _draw(submission, name, 20, 30, 112, what)
        expect_equal(again, first, f"{what}: weights from two generators with the same seed")
        expect_true(not np.array_equal(other, first),
                    f"{what}: generators with different seeds gave the same weights")

    run_cases(credit, ["xavier_uniform", "he_normal"], check)


@pytest.mark.points(1)
def test_linear_starts_from_he_normal_weights_and_zero_bias(submission):
    """Linear(in, out, rng) starts from He-normal weights (in, out) and a zero bias (out,)"""
    layer = submission.driver("call_with_rng", "Linear", 121, 300, 200)
    W = expect_array(layer.W, "Linear's initial W", shape=(300, 200), dtype_kind="f")
    _expect_moments(W, 2.0 / 300, "Linear's initial W")
    b = expect_array(layer.b, "Linear's initial b", shape=(200,), dtype_kind="f")
    expect_true(not np.any(b), "Linear's initial bias is not zero")
