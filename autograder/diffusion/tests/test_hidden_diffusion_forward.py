"""Hidden graders of tasks 2 and 3: forward noising and the forward process's posterior.

Random float64 data and noise, random timesteps with t = 0 and t = T − 1 in every case, schedules
from the oracle (the student's own schedule is not used), against the closed forms.
"""

from __future__ import annotations

import diffusion_oracle as oracle
import numpy as np
import pytest
from diffusion_cases import (FORWARD_CASES, NEEDS_ALPHA_BARS, POSTERIOR_CASES, result_array, rng, schedule,
                             tensor, timesteps)

from coursekit.checks import expect_close, expect_unchanged, run_cases, unpack

# --- Task 2: q_sample -----------------------------------------------------------------------


def _forward_case(case):
    N, D, name, seed = case
    g = rng(seed)
    betas = schedule(name)
    return g.standard_normal((N, D)), timesteps(N, len(betas), g), g.standard_normal((N, D)), \
        oracle.cumulative_alphas(betas)


def _check_q_sample(submission, k, case, fixed_t=None):
    x0, t, noise, alpha_bar = _forward_case(case)
    if fixed_t is not None:
        t = np.full_like(t, fixed_t if fixed_t >= 0 else len(alpha_bar) + fixed_t)
    want = oracle.noised(x0, t, noise, alpha_bar)
    got = submission.diffusion.q_sample(tensor(x0), tensor(t), tensor(noise), tensor(alpha_bar))
    expect_close(result_array(got, f"case {k}: x_t", want.shape), want, f"case {k}: x_t")


@pytest.mark.task(2)
@pytest.mark.points(3)
def test_q_sample(submission, credit):
    """q_sample matches √ᾱ_t x0 + √(1 − ᾱ_t) ε row by row, with each row's own timestep"""
    run_cases(credit, FORWARD_CASES, lambda k, case: _check_q_sample(submission, k, case))


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_q_sample_first_and_last_step(submission, credit):
    """q_sample at t = 0 (ᾱ_0 = 1 − β_0) and at t = T − 1 for every row"""
    cases = [(case, t) for case in FORWARD_CASES[:2] for t in (0, -1)]
    run_cases(credit, cases, lambda k, c: _check_q_sample(submission, k, c[0], fixed_t=c[1]))


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_q_sample_leaves_its_arguments(submission):
    """q_sample returns x_t and does not change x0, t, noise or alpha_bar"""
    x0, t, noise, alpha_bar = _forward_case(FORWARD_CASES[0])
    report = submission.driver("call_checking_arguments", "diffusion", "q_sample", tensor(x0), tensor(t),
                               tensor(noise), tensor(alpha_bar))
    want = oracle.noised(x0, t, noise, alpha_bar)
    expect_close(result_array(report["value"], "x_t", want.shape), want, "x_t")
    expect_unchanged(report, "q_sample")


# --- Task 3: posterior_mean_variance --------------------------------------------------------


def _posterior(submission, case, what, fixed_t=None):
    N, D, name, seed = case
    g = rng(seed)
    betas = schedule(name)
    x0, xt, t = g.standard_normal((N, D)), g.standard_normal((N, D)), timesteps(N, len(betas), g)
    if fixed_t is not None:
        t = np.full_like(t, fixed_t if fixed_t >= 0 else len(betas) + fixed_t)
    got = unpack(submission.diffusion.posterior_mean_variance(tensor(x0), tensor(xt), tensor(t), tensor(betas)),
                 2, f"{what}: posterior_mean_variance")
    want = oracle.posterior(x0, xt, t, betas)
    return [result_array(g_, f"{what}: {name_}", w.shape) for g_, w, name_ in zip(got, want, ("mean", "var"))], want


def _check_posterior(submission, credit, cases, parts=("mean", "var"), fixed_t=None, at=""):
    """The named parts of the posterior against the closed form, case by case."""
    def check(k, case):
        got, want = _posterior(submission, case, f"case {k}", fixed_t=fixed_t)
        for name, g, w in zip(("mean", "var"), got, want):
            if name in parts:
                expect_close(g, w, f"case {k}: {name}{at}" + NEEDS_ALPHA_BARS)

    run_cases(credit, cases, check)


@pytest.mark.task(3)
@pytest.mark.builds_on(1)
@pytest.mark.points(3)
def test_posterior_mean(submission, credit):
    """posterior_mean_variance's mean matches the closed form of q(x_(t-1) | x_t, x_0)"""
    _check_posterior(submission, credit, POSTERIOR_CASES, parts=("mean",))


@pytest.mark.task(3)
@pytest.mark.builds_on(1)
@pytest.mark.points(2)
def test_posterior_variance(submission, credit):
    """posterior_mean_variance's variance is β̃_t = (1 − ᾱ_(t-1)) / (1 − ᾱ_t) · β_t"""
    _check_posterior(submission, credit, POSTERIOR_CASES, parts=("var",))


@pytest.mark.task(3)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_posterior_at_the_first_step(submission, credit):
    """at t = 0 (ᾱ_(-1) = 1) the posterior mean is x0 and the variance 0"""
    _check_posterior(submission, credit, POSTERIOR_CASES[:2], fixed_t=0, at=" at t = 0")


@pytest.mark.task(3)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_posterior_at_the_last_step(submission, credit):
    """posterior_mean_variance at t = T − 1 for every row"""
    _check_posterior(submission, credit, POSTERIOR_CASES[:2], fixed_t=-1, at=" at t = T - 1")
