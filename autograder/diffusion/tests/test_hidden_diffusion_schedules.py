"""Hidden graders of task 1: the linear and cosine schedules and ᾱ against their closed forms.

Closed forms from :mod:`diffusion_oracle` in float64: Ho et al.'s linear schedule, Nichol &
Dhariwal's cosine schedule with β clipped at 0.999, and ᾱ_t = ∏_{s ≤ t} (1 − β_s) with 0-based t.
"""

from __future__ import annotations

import diffusion_oracle as oracle
import numpy as np
import pytest
from diffusion_cases import result_array, rng, tensor

from coursekit.checks import expect_close, expect_true, run_cases

pytestmark = pytest.mark.task(1)

#: (T, beta_start, beta_end); None means the default arguments.
LINEAR = [(1000, None, None), (100, None, None), (10, 1e-3, 0.2), (2, 0.05, 0.5)]
#: (T, s); None means the default offset.
COSINE = [(1000, None), (100, None), (40, 0.02), (7, 0.1)]


@pytest.mark.points(2)
def test_linear_schedule(submission, credit):
    """linear_beta_schedule matches β_t = beta_start + (beta_end − beta_start) t / (T − 1)"""
    def check(k, case):
        T, start, end = case
        kwargs = {} if start is None else {"beta_start": start, "beta_end": end}
        want = oracle.linear_betas(T, start or 1e-4, end or 0.02)
        got = submission.diffusion.linear_beta_schedule(T, **kwargs)
        expect_close(result_array(got, f"case {k}: betas", want.shape), want, f"case {k}: betas")

    run_cases(credit, LINEAR, check)


@pytest.mark.points(3)
def test_cosine_schedule(submission, credit):
    """cosine_beta_schedule matches Nichol & Dhariwal's closed form, clipped at 0.999"""
    def check(k, case):
        T, s = case
        want = oracle.cosine_betas(T, 0.008 if s is None else s)
        got = submission.diffusion.cosine_beta_schedule(T) if s is None else \
            submission.diffusion.cosine_beta_schedule(T, s=s)
        expect_close(result_array(got, f"case {k}: betas", want.shape), want, f"case {k}: betas")

    run_cases(credit, COSINE, check)


@pytest.mark.points(1)
def test_cosine_schedule_is_clipped(submission):
    """cosine_beta_schedule clips β at 0.999: the last step's β is 0.999, none is larger"""
    got = result_array(submission.diffusion.cosine_beta_schedule(100), "betas", (100,))
    expect_true(bool(np.all(got <= 0.999)), "a β of the cosine schedule exceeds 0.999: clip it")
    expect_close(got[-1:], np.array([0.999]), "the last β of the cosine schedule")


@pytest.mark.points(2)
def test_alpha_bars(submission, credit):
    """alpha_bars gives ᾱ_t = ∏ (1 − β_s) over s = 0 … t (0-based: ᾱ_0 = 1 − β_0)"""
    cases = [rng(101).uniform(1e-4, 0.3, 50), rng(102).uniform(0.0, 0.999, 7), oracle.cosine_betas(100, 0.008),
             np.array([0.25])]

    def check(k, betas):
        want = oracle.cumulative_alphas(betas)
        got = result_array(submission.diffusion.alpha_bars(tensor(betas)), f"case {k}: alpha_bar", want.shape)
        expect_close(got[:1], want[:1], f"case {k}: ᾱ_0")
        expect_close(got, want, f"case {k}: alpha_bar")

    run_cases(credit, cases, check)
