"""Hidden graders of tasks 4 and 5: the losses and their gradients against torch autograd.

``F.mse_loss`` and ``F.cross_entropy`` in float64 are the references. Cross-entropy must stay finite
and exact at logits of ±1e4 and for rows shifted by a large constant, and raise no overflow warning
(the ``call_with_warnings`` driver watches numpy's warnings in the worker).
"""

from __future__ import annotations

import math

import backprop_oracle as oracle
import numpy as np
import pytest
from backprop_cases import CE_CASES, MSE_CASES, MSE_EDGE_CASES, expect_float_array, rng
from coursekit.checks import as_scalar, expect_no_warnings, run_cases

from coursekit.checks import expect_close, expect_true

# --- Task 4: MSELoss ------------------------------------------------------------------------


def _mse_case(case):
    shape, seed = case
    g = rng(seed)
    return g.standard_normal(shape), g.standard_normal(shape)


def _check_mse(submission, pred, target, what):
    loss = submission.backprop.MSELoss()
    value = as_scalar(loss.forward(pred, target), f"{what}: MSELoss.forward")
    dpred = loss.backward()
    value_want, dpred_want = oracle.mse(pred, target)
    expect_close(value, value_want, f"{what}: MSELoss.forward")
    expect_float_array(dpred, pred.shape, f"{what}: MSELoss.backward")
    expect_close(dpred, dpred_want, f"{what}: MSELoss.backward")


@pytest.mark.task(4)
@pytest.mark.points(2)
def test_mse_against_autograd(submission, credit):
    """MSELoss and its gradient match torch's mse_loss with autograd on random batches"""
    run_cases(credit, MSE_CASES, lambda k, case: _check_mse(submission, *_mse_case(case), f"case {k}"))


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_mse_other_shapes(submission, credit):
    """MSELoss works for 1-D arrays and a batch of one"""
    run_cases(credit, MSE_EDGE_CASES, lambda k, case: _check_mse(submission, *_mse_case(case), f"case {k}"))


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_mse_is_a_mean_over_all_elements(submission):
    """MSELoss does not change when the columns are repeated (a mean over all elements)"""
    pred, target = _mse_case(((5, 3), 411))
    bp = submission.backprop
    once, twice = bp.MSELoss(), bp.MSELoss()
    value = as_scalar(once.forward(pred, target), "MSELoss.forward")
    value_twice = as_scalar(twice.forward(np.hstack([pred, pred]), np.hstack([target, target])),
                            "MSELoss.forward")
    expect_close(value_twice, value, "the loss with every column repeated, against the loss without")


# --- Task 5: SoftmaxCrossEntropy ------------------------------------------------------------


def _ce_case(case, scale=3.0):
    N, C, seed = case
    g = rng(seed)
    return scale * g.standard_normal((N, C)), g.integers(0, C, size=N)


def _run_ce(submission, logits, labels, what):
    loss = submission.backprop.SoftmaxCrossEntropy()
    value = as_scalar(loss.forward(logits, labels), f"{what}: forward")
    return value, loss.backward()


def _check_ce(submission, logits, labels, what, parts=("forward", "backward")):
    value, dlogits = _run_ce(submission, logits, labels, what)
    value_want, dlogits_want = oracle.cross_entropy(logits, labels)
    if "forward" in parts:
        expect_true(math.isfinite(value), f"{what}: the loss is not finite")
        expect_close(value, value_want, f"{what}: the loss")
    if "backward" in parts:
        expect_float_array(dlogits, logits.shape, f"{what}: backward")
        expect_close(dlogits, dlogits_want, f"{what}: backward")


#: Logits of ±1e4: confident and right, confident and wrong, ties at the top.
EXTREME = [
    (np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4]]), np.array([0, 0])),
    (np.array([[1e4, 1e4, -1e4, 0.0], [-1e4, -1e4, -1e4, 1e4], [0.0, 1e4, 2.0, -3.0]]), np.array([1, 3, 0])),
    (np.array([[-1e4, -1e4]]), np.array([1])),
]


@pytest.mark.task(5)
@pytest.mark.points(2)
def test_cross_entropy_loss_against_torch(submission, credit):
    """SoftmaxCrossEntropy.forward matches torch's cross_entropy on random logits"""
    run_cases(credit, CE_CASES[:3], lambda k, case: _check_ce(
        submission, *_ce_case(case), f"case {k}", parts=("forward",)))


@pytest.mark.task(5)
@pytest.mark.points(2)
def test_cross_entropy_gradient_against_autograd(submission, credit):
    """SoftmaxCrossEntropy.backward matches torch autograd: (softmax - onehot) / N"""
    run_cases(credit, CE_CASES[:3], lambda k, case: _check_ce(
        submission, *_ce_case(case), f"case {k}", parts=("backward",)))


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_cross_entropy_batch_of_one(submission):
    """SoftmaxCrossEntropy's loss and gradient are right for a batch of a single sample"""
    _check_ce(submission, *_ce_case(CE_CASES[3]), "a batch of one")


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_cross_entropy_loss_at_logits_1e4(submission, credit):
    """the loss is finite and exact at logits of ±1e4 (log-sum-exp with the maximum subtracted)"""
    run_cases(credit, EXTREME, lambda k, case: _check_ce(submission, *case, f"case {k}", parts=("forward",)))


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_cross_entropy_gradient_at_logits_1e4(submission, credit):
    """the gradient is finite and exact at logits of ±1e4"""
    run_cases(credit, EXTREME, lambda k, case: _check_ce(submission, *case, f"case {k}", parts=("backward",)))


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_cross_entropy_no_overflow_warning(submission, credit):
    """forward and backward raise no overflow or invalid-value warning at logits of ±1e4"""
    def check(k, case):
        loss = submission.backprop.SoftmaxCrossEntropy()
        expect_no_warnings(submission.driver("call_with_warnings", loss, "forward", *case),
                           f"case {k}: forward")
        expect_no_warnings(submission.driver("call_with_warnings", loss, "backward"), f"case {k}: backward")

    run_cases(credit, EXTREME, check)


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_cross_entropy_ignores_a_shift_of_each_row(submission):
    """adding a large constant to a row of logits changes neither the loss nor the gradient"""
    logits, labels = _ce_case((5, 4, 511))
    shifted = logits + np.array([[800.0], [-900.0], [1000.0], [0.0], [750.0]])
    value, dlogits = _run_ce(submission, logits, labels, "unshifted logits")
    value_shifted, dlogits_shifted = _run_ce(submission, shifted, labels, "shifted logits")
    expect_true(math.isfinite(value_shifted), "the loss of shifted logits is not finite")
    expect_close(value_shifted, value, "the loss of shifted logits, against unshifted")
    expect_float_array(dlogits_shifted, logits.shape, "the gradient of shifted logits")
    expect_close(dlogits_shifted, np.asarray(dlogits), "the gradient of shifted logits, against unshifted")
