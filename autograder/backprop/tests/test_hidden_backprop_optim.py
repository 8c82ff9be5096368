"""Hidden graders of tasks 7 and 8: ten-step trajectories of SGD and Adam against torch.optim.

The ``optimizer_trajectory`` driver builds the student's optimizer in the worker over parameter
arrays of several shapes and gradient arrays it owns, writes the given gradients into those arrays
before every ``step()``, and returns the parameters after each step; ``torch.optim.SGD`` and
``torch.optim.Adam`` with the same hyperparameters step on the same gradients in the grader.
"""

from __future__ import annotations

import pytest
from backprop_cases import (ADAM_BETAS, ADAM_DECAY, ADAM_DEFAULT, PARAM_SHAPES, SGD_DECAY,
                            SGD_MOMENTUM, SGD_MOMENTUM_DECAY, SGD_PLAIN, check_trajectory,
                            optimizer_problem)
from coursekit.checks import run_cases


def _trajectories(submission, credit, optimizer, cases):
    def check(k, case):
        hyper, seed = case
        check_trajectory(submission, optimizer, hyper, *optimizer_problem(seed), f"case {k}")

    run_cases(credit, cases, check)


# --- Task 7: SGD ----------------------------------------------------------------------------


@pytest.mark.task(7)
@pytest.mark.points(2)
def test_sgd_plain(submission, credit):
    """SGD without momentum or weight decay follows torch.optim.SGD for ten steps"""
    _trajectories(submission, credit, "SGD", SGD_PLAIN)


@pytest.mark.task(7)
@pytest.mark.points(2)
def test_sgd_momentum(submission, credit):
    """SGD with momentum follows torch.optim.SGD for ten steps"""
    _trajectories(submission, credit, "SGD", SGD_MOMENTUM)


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_sgd_weight_decay(submission, credit):
    """SGD with weight decay (and no momentum) follows torch.optim.SGD for ten steps"""
    _trajectories(submission, credit, "SGD", SGD_DECAY)


@pytest.mark.task(7)
@pytest.mark.points(2)
def test_sgd_momentum_and_weight_decay(submission, credit):
    """SGD with momentum and weight decay together follows torch.optim.SGD (decay enters the velocity)"""
    _trajectories(submission, credit, "SGD", SGD_MOMENTUM_DECAY)


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_sgd_momentum_after_the_gradient_vanishes(submission):
    """with momentum, SGD keeps moving the parameters after the gradients drop to zero"""
    params, grads = optimizer_problem(711)
    grads = grads[:3] + [[0.0 * g for g in step] for step in grads[3:]]
    check_trajectory(submission, "SGD", {"lr": 0.1, "momentum": 0.8}, params, grads,
                     "zero gradients after step 3")


# --- Task 8: Adam ---------------------------------------------------------------------------


@pytest.mark.task(8)
@pytest.mark.points(3)
def test_adam_default_betas(submission, credit):
    """Adam with its default betas and eps follows torch.optim.Adam for ten steps"""
    _trajectories(submission, credit, "Adam", ADAM_DEFAULT)


@pytest.mark.task(8)
@pytest.mark.points(2)
def test_adam_other_betas_and_eps(submission, credit):
    """Adam with other betas and eps follows torch.optim.Adam for ten steps"""
    _trajectories(submission, credit, "Adam", ADAM_BETAS)


@pytest.mark.task(8)
@pytest.mark.points(2)
def test_adam_weight_decay(submission, credit):
    """Adam with L2 weight decay (added to the gradient) follows torch.optim.Adam for ten steps"""
    _trajectories(submission, credit, "Adam", ADAM_DECAY)


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_adam_gradients_of_very_different_scales(submission):
    """Adam keeps separate moments per parameter array: gradients from 1e-4 to 1e4 in scale"""
    scales = [1e-4, 1e4, 1.0, 1e2][:len(PARAM_SHAPES)]
    check_trajectory(submission, "Adam", {"lr": 0.01}, *optimizer_problem(811, scales=scales),
                     "gradients of different scales")
