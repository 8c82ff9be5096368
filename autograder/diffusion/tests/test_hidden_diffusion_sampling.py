"""Hidden graders of task 9: ancestral sampling from pure noise, with the stand-in denoiser.

With the linear stand-in ε̂(x, t) = x Wᵀ + b + (t/100) u every step is affine in x_t plus fresh
Gaussian noise, so the sampler's output is exactly Gaussian with a mean and a covariance the grader
computes in closed form (``diffusion_oracle.stand_in_sample_moments``). The student's sampler draws
many points; their mean and covariance must lie within the handout's number of standard errors.
A sampler that skips a step, forgets the noise, or starts from anything but N(0, I) is off by far more.
"""

from __future__ import annotations

import diffusion_oracle as oracle
import numpy as np
import pytest
from diffusion_cases import (MODULE, SAMPLE_CASES, SAMPLE_SIZE, USES_P_SAMPLE_STEP, expect_finite, result_array,
                             sampling_stand_in, schedule, tensor)

from coursekit.checks import GradeFailure, expect_true, run_cases

pytestmark = [pytest.mark.task(9), pytest.mark.builds_on(7)]


def _sample(submission, params, n, betas, seed, what):
    got = submission.driver("with_stand_in", MODULE, "sample", params, n, tensor(betas), seed=seed)
    points = result_array(got, f"{what}: the samples", (n, len(params["bias"])), float64=False)
    expect_finite(points, f"{what}: the samples" + USES_P_SAMPLE_STEP)
    return points.astype(np.float64)


@pytest.mark.points(3)
def test_sample_distribution(submission, credit, week):
    """sample's points have the mean and covariance that ancestral sampling gives (stand-in denoiser)"""
    bound = week.thresholds["sample_standard_errors"]

    def check(k, case):
        D, name, seed = case
        params, betas = sampling_stand_in(D, seed), schedule(name)
        mean, cov = oracle.stand_in_sample_moments(params, betas)
        points = _sample(submission, params, SAMPLE_SIZE, betas, seed, f"case {k}")
        mean_error = np.abs(points.mean(0) - mean) / np.sqrt(np.diag(cov) / SAMPLE_SIZE)
        cov_se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / SAMPLE_SIZE)
        cov_error = np.abs(np.cov(points, rowvar=False) - cov) / cov_se
        expect_true(bool(mean_error.max() <= bound), f"case {k}: the samples' mean is off by more than "
                    f"{bound:g} standard errors" + USES_P_SAMPLE_STEP)
        expect_true(bool(cov_error.max() <= bound), f"case {k}: the samples' covariance is off by more than "
                    f"{bound:g} standard errors" + USES_P_SAMPLE_STEP)

    run_cases(credit, SAMPLE_CASES, check)


@pytest.mark.points(1)
def test_sample_is_seeded(submission):
    """sample with the same seed gives the same points, with another seed other points"""
    D, name, seed = SAMPLE_CASES[0]
    params, betas = sampling_stand_in(D, seed), schedule(name)
    first, again, other = (_sample(submission, params, 50, betas, s, f"seed {s}") for s in (3, 3, 4))
    if not np.array_equal(first, again):
        raise GradeFailure("sample gave different points for the same seed: draw every random number "
                           "from torch.Generator().manual_seed(seed)")
    expect_true(not np.array_equal(first, other), "sample gave the same points for two different seeds")
