"""Hidden graders of tasks 6, 7 and 8: the loss, the ancestral step and the DDIM step.

Each gets the public stand-in denoiser ε̂(x, t) = x Wᵀ + b + (t/100) u of ``drivers_diffusion``,
built in the worker from weights chosen here, so these tasks are graded apart from the student's
own network; the grader computes the same stand-in in closed form. Schedules come from the oracle.
"""

from __future__ import annotations

import diffusion_oracle as oracle
import numpy as np
import pytest
from diffusion_cases import (DDIM_CONSECUTIVE, DDIM_STRIDED, DDIM_TO_DATA, MODULE, NEEDS_ALPHA_BARS,
                             STEP_COSINE, STEP_FIRST, STEP_LINEAR, USES_Q_SAMPLE, check_ddim,
                             check_step, ddim_result, expect_finite, result_array, rng, schedule, stand_in,
                             step_case, tensor, timesteps)

from coursekit.checks import GradeFailure, as_scalar, expect_close, expect_equal, run_cases

# --- Task 6: diffusion_loss -----------------------------------------------------------------

#: (N, D, schedule, seed)
LOSS_CASES = [(16, 2, "linear", 601), (9, 3, "cosine", 602), (1, 2, "linear1000", 603)]


def _loss_case(case):
    N, D, name, seed = case
    g = rng(seed)
    alpha_bar = oracle.cumulative_alphas(schedule(name))
    x0, t, noise = g.standard_normal((N, D)), timesteps(N, len(alpha_bar), g), g.standard_normal((N, D))
    params = stand_in(D, seed)
    residual = oracle.stand_in_eps(params, oracle.noised(x0, t, noise, alpha_bar), t) - noise  # (N, D)
    return params, x0, t, noise, alpha_bar, residual


def _loss_report(submission, case):
    """The stand_in_loss driver's report, and the case's inputs and residual model(x_t, t) − ε."""
    params, x0, t, noise, alpha_bar, residual = _loss_case(case)
    report = submission.driver("stand_in_loss", MODULE, params, tensor(x0), tensor(t), tensor(noise),
                               tensor(alpha_bar))
    return report, params, x0, t, noise, alpha_bar, residual


@pytest.mark.task(6)
@pytest.mark.builds_on(2)
@pytest.mark.points(3)
def test_loss_value(submission, credit):
    """diffusion_loss is the mean of (model(x_t, t) − ε)² over all entries, x_t from q_sample"""
    def check(k, case):
        report, *_, residual = _loss_report(submission, case)
        loss = as_scalar(report["loss"], f"case {k}: the loss")
        expect_close(loss, np.float64(np.mean(residual ** 2)), f"case {k}: the loss" + USES_Q_SAMPLE)

    run_cases(credit, LOSS_CASES, check)


@pytest.mark.task(6)
@pytest.mark.builds_on(2)
@pytest.mark.points(2)
def test_loss_gradients(submission, credit):
    """diffusion_loss's gradients reach the model's parameters (against the closed form)"""
    def check(k, case):
        report, params, x0, t, noise, alpha_bar, residual = _loss_report(submission, case)
        grads = report["grads"]
        if any(grads[name] is None for name in ("weight", "bias", "time_weight")):
            raise GradeFailure(f"case {k}: no gradient reached the model's parameters: return a tensor "
                               "computed from the model's output (no .item(), .detach() or numpy)")
        xt = oracle.noised(x0, t, noise, alpha_bar)
        scale = 2.0 / residual.size
        want = {"weight": scale * residual.T @ xt, "bias": scale * residual.sum(0),
                "time_weight": scale * (residual * (t[:, None] / oracle.STAND_IN_TIME_SCALE)).sum(0)}
        for name, value in want.items():
            expect_close(result_array(grads[name], f"case {k}: gradient of {name}", value.shape), value,
                         f"case {k}: gradient of the loss" + USES_Q_SAMPLE)

    run_cases(credit, LOSS_CASES, check)


# --- Task 7: p_sample_step ------------------------------------------------------------------


def _steps(submission, credit, cases):
    run_cases(credit, cases, lambda k, case: check_step(submission, case, f"case {k}"))


@pytest.mark.task(7)
@pytest.mark.builds_on(1)
@pytest.mark.points(3)
def test_step_linear_schedule(submission, credit):
    """p_sample_step matches the ancestral step (mean plus √β̃_t · noise) with linear schedules"""
    _steps(submission, credit, STEP_LINEAR)


@pytest.mark.task(7)
@pytest.mark.builds_on(1)
@pytest.mark.points(2)
def test_step_cosine_schedule(submission, credit):
    """p_sample_step matches the ancestral step with cosine schedules, the first step t = T − 1 included"""
    _steps(submission, credit, STEP_COSINE)


@pytest.mark.task(7)
@pytest.mark.builds_on(1)
@pytest.mark.points(2)
def test_step_at_t0_adds_no_noise(submission, credit):
    """p_sample_step at t = 0 returns the mean: no noise"""
    _steps(submission, credit, STEP_FIRST)


@pytest.mark.task(7)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_step_float32(submission):
    """p_sample_step with float32 points and noise returns float32 x_(t-1)"""
    params, xt, t, betas, noise = step_case(STEP_LINEAR[0])
    xt32, noise32 = xt.astype(np.float32), noise.astype(np.float32)
    got = submission.driver("with_stand_in", MODULE, "p_sample_step", params, tensor(xt32), t, tensor(betas),
                            tensor(noise32))
    want = oracle.ancestral_step(oracle.stand_in_eps(params, xt32.astype(np.float64), t), xt32.astype(np.float64),
                                 t, betas, noise32.astype(np.float64))
    got = result_array(got, "x_(t-1)", want.shape, float64=False)
    expect_equal(str(got.dtype), "float32", "the dtype of x_(t-1)")
    expect_close(got, want.astype(np.float32), "x_(t-1) in float32" + NEEDS_ALPHA_BARS)


# --- Task 8: ddim_step ----------------------------------------------------------------------


def _ddim(submission, credit, cases):
    run_cases(credit, cases, lambda k, case: check_ddim(submission, case, f"case {k}"))


@pytest.mark.task(8)
@pytest.mark.points(2)
def test_ddim_consecutive_steps(submission, credit):
    """ddim_step from t to t_prev = t − 1 matches the DDIM update with η = 0"""
    _ddim(submission, credit, DDIM_CONSECUTIVE)


@pytest.mark.task(8)
@pytest.mark.points(3)
def test_ddim_strided_steps(submission, credit):
    """ddim_step that skips steps (t_prev < t − 1) uses ᾱ of t_prev"""
    _ddim(submission, credit, DDIM_STRIDED)


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_ddim_to_clean_data(submission, credit):
    """ddim_step to t_prev = −1 (ᾱ_(-1) = 1) returns the predicted clean data"""
    _ddim(submission, credit, DDIM_TO_DATA)


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_ddim_is_deterministic(submission):
    """ddim_step is deterministic: the same inputs give the same result whatever torch's seed"""
    results = []
    for seed in (1, 2):
        submission.driver("set_seed", seed)
        got = ddim_result(submission, DDIM_STRIDED[0], f"call {len(results) + 1}")
        expect_finite(got, f"call {len(results) + 1}: x_(t_prev)")
        results.append(got)
    if not np.array_equal(results[0], results[1]):
        raise GradeFailure("ddim_step gave two different results for the same inputs: DDIM with η = 0 "
                           "draws no noise")
