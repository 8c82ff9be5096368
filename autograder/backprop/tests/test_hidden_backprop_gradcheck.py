"""Hidden graders of task 9: the gradient checker on known functions, and relative_error.

A Python function cannot travel to the worker, so the ``numerical_gradient_of`` driver hands the
student's checker one of a fixed set of known functions (``drivers_backprop.KNOWN_FUNCTIONS``); the
grader has each of them a second time in torch, with its exact gradient by autograd. At a large
eps, central differences are compared with the grader's own central differences (a one-sided
difference is off by about eps); at the default eps, with the exact gradient.
"""

from __future__ import annotations

import backprop_oracle as oracle
import numpy as np
import pytest
from backprop_cases import (CENTRAL_CASES, DEFAULT_EPS_CASES, FLAG_CASES,
                            GRADCHECK_PASSES, expect_float_array, known_input, rng)
from coursekit.checks import as_scalar, run_cases
from coursekit.tolerances import CENTRAL_DIFFERENCE, GRADCHECK

from coursekit.checks import expect_close, expect_equal, expect_true

pytestmark = pytest.mark.task(9)


def _numerical(submission, function, x, consts, eps=None, what=""):
    kwargs = {} if eps is None else {"eps": eps}
    report = submission.driver("numerical_gradient_of", function, x, consts, **kwargs)
    grad = expect_float_array(report["grad"], x.shape, f"{what}: numerical_gradient")
    return grad, report


@pytest.mark.points(2)
def test_central_differences_at_a_given_eps(submission, credit):
    """numerical_gradient computes central differences (f(x+eps) - f(x-eps)) / (2 eps) with the given eps"""
    def check(k, case):
        function, shape, eps, seed = case
        x, consts = known_input(function, shape, seed)
        grad, _ = _numerical(submission, function, x, consts, eps, f"case {k}")
        expect_close(grad, oracle.central_differences(function, x, consts, eps),
                     f"case {k}: numerical_gradient with a given eps", tolerance=CENTRAL_DIFFERENCE)

    run_cases(credit, CENTRAL_CASES, check)


@pytest.mark.points(1)
def test_default_eps_against_the_exact_gradient(submission, credit):
    """with its default eps, numerical_gradient agrees with the exact gradient to about 1e-6"""
    def check(k, case):
        function, shape, seed = case
        x, consts = known_input(function, shape, seed)
        grad, _ = _numerical(submission, function, x, consts, None, f"case {k}")
        expect_close(grad, oracle.known_gradient(function, x, consts), f"case {k}: numerical_gradient",
                     tolerance=GRADCHECK)

    run_cases(credit, DEFAULT_EPS_CASES, check)


@pytest.mark.points(1)
def test_input_is_restored(submission, credit):
    """numerical_gradient leaves x exactly as it was, for 1-D and 2-D x"""
    def check(k, case):
        function, shape, seed = case
        x, consts = known_input(function, shape, seed)
        _, report = _numerical(submission, function, x, consts, None, f"case {k}")
        expect_equal(np.asarray(report["x_after"]), x, f"case {k}: x after numerical_gradient")

    run_cases(credit, [("sin_cos", (3, 4), 931), ("cubic", (7,), 932)], check)


@pytest.mark.points(1)
def test_relative_error_formula(submission, credit):
    """relative_error is max |a - b| / max(|a| + |b|, 1e-8), zeros and 2-D arrays included"""
    g = rng(941)
    a = g.standard_normal((3, 4))
    cases = [
        (a, a + 1e-3 * g.standard_normal((3, 4))),
        (g.standard_normal(6), g.standard_normal(6)),
        (np.array([0.0, 1.0, -2.0]), np.array([0.0, 1.0, -2.0 + 1e-9])),
        (np.array([0.0, 2e-9, 5.0]), np.array([3e-9, 0.0, 5.0])),
        (np.zeros((2, 2)), np.zeros((2, 2))),
    ]

    def check(k, case):
        got = as_scalar(submission.backprop.relative_error(*case), f"case {k}: relative_error")
        expect_close(got, oracle.relative_error(*case), f"case {k}: relative_error")

    run_cases(credit, cases, check)


@pytest.mark.points(2)
def test_checker_flags_a_wrong_gradient(submission, credit):
    """numerical_gradient with relative_error accepts the right gradient and flags a planted wrong one"""
    def check(k, case):
        function, shape, seed = case
        x, consts = known_input(function, shape, seed)
        numerical, _ = _numerical(submission, function, x, consts, None, f"case {k}")
        right = oracle.known_gradient(function, x, consts)
        # wrong by 0.1 % in one entry, by a sign in one entry, or by a factor 2 everywhere
        wrongs = [right.copy(), -right.copy(), 2.0 * right]
        wrongs[0].flat[0] *= 1.001
        wrongs[1].flat[1:] *= -1.0
        relative = submission.backprop.relative_error
        error = as_scalar(relative(right, numerical), f"case {k}: relative_error")
        expect_true(error < GRADCHECK_PASSES,
                    f"case {k}: the relative error of the right gradient is not below {GRADCHECK_PASSES:g}")
        for wrong in wrongs:
            error = as_scalar(relative(wrong, numerical), f"case {k}: relative_error")
            expect_true(error > GRADCHECK_PASSES,
                        f"case {k}: a wrong gradient was not flagged (relative error not above "
                        f"{GRADCHECK_PASSES:g})")

    run_cases(credit, FLAG_CASES, check)
