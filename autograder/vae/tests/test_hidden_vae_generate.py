"""Hidden graders of task 8: sampling and latent interpolation, on a VAE the course wrote.

``sample`` and ``interpolate`` run on the ``vae_stand_in`` driver's model with the grader's random
weights, so their points depend on these two functions only. ``sample``'s codes are reproduced from
the docstring (``torch.randn((n, z_dim), generator=torch.Generator().manual_seed(seed))``); the
oracle decodes them (and the interpolated means) in float64 and applies the sigmoid.
"""

from __future__ import annotations

import numpy as np
import pytest
import vae_oracle as oracle
from vae_cases import (DEFAULT_SIZES, OTHER_SIZES, binary, expect_float32, expect_values, rng,
                       stand_in, stand_in_state, tensor)

from coursekit.checks import expect_true, run_cases

pytestmark = pytest.mark.task(8)


def _want_samples(state, sizes, n, seed):
    return oracle.sigmoid(oracle.decode(state, oracle.torch_noise((n, sizes[1]), seed)))


def _sample_check(submission, case, what):
    sizes, w_seed, n, seed = case
    state = stand_in_state(w_seed, sizes)
    got = submission.vae.sample(stand_in(submission, state, sizes), n, seed=seed)
    arr = expect_float32(got, f"{what}: sample", (n, sizes[0]))
    expect_true(bool(np.all((arr >= 0) & (arr <= 1))),
                f"{what}: sample's values are not probabilities in [0, 1]")
    expect_values(arr, _want_samples(state, sizes, n, seed), f"{what}: the pixel probabilities")
    return arr


def _interpolation_inputs(sizes, seed):
    g = rng(seed)
    return binary(g, (sizes[0],)), binary(g, (sizes[0],))


def _want_interpolation(state, x1, x2, steps):
    mu, _ = oracle.encode(state, np.stack([x1, x2]))
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return oracle.sigmoid(oracle.decode(state, (1 - t) * mu[0] + t * mu[1]))


def _interpolate_check(submission, case, what, rows=None):
    sizes, w_seed, steps, seed = case
    state = stand_in_state(w_seed, sizes)
    x1, x2 = _interpolation_inputs(sizes, seed)
    got = submission.vae.interpolate(stand_in(submission, state, sizes), tensor(x1), tensor(x2), steps)
    arr = expect_float32(got, f"{what}: interpolate", (steps, sizes[0]))
    expect_true(bool(np.all((arr >= 0) & (arr <= 1))),
                f"{what}: interpolate's values are not probabilities in [0, 1]")
    want = _want_interpolation(state, x1, x2, steps)
    if rows is None:
        expect_values(arr, want, f"{what}: the pixel probabilities along the line")
    else:
        for row, name in rows:
            expect_values(arr[row], want[row], f"{what}: the {name} row")


@pytest.mark.points(3)
def test_sample_values(submission, credit):
    """sample decodes the documented codes z ~ N(0, I) to pixel probabilities"""
    cases = [(DEFAULT_SIZES, 801, 50, 3), (DEFAULT_SIZES, 802, 1, 0)]
    run_cases(credit, cases, lambda k, case: _sample_check(submission, case, f"case {k}"))


@pytest.mark.points(1)
def test_sample_seeds(submission):
    """sample is reproducible for a seed and differs between seeds"""
    case = (DEFAULT_SIZES, 811, 20, 5)
    first = _sample_check(submission, case, "seed 5")
    again = _sample_check(submission, case, "seed 5 again")
    other = _sample_check(submission, (DEFAULT_SIZES, 811, 20, 6), "seed 6")
    expect_true(bool(np.array_equal(first, again)), "sample differs between two calls with the same seed")
    expect_true(not np.array_equal(first, other), "sample gives the same digits for different seeds")


@pytest.mark.points(1)
def test_sample_other_sizes(submission):
    """sample respects the model's sizes (x_dim = 20, z_dim = 3)"""
    _sample_check(submission, (OTHER_SIZES, 821, 12, 4), "VAE(20, 3, 16)")


@pytest.mark.points(3)
def test_interpolate_values(submission, credit):
    """interpolate decodes evenly spaced points on the line between the two encoder means"""
    cases = [(DEFAULT_SIZES, 831, 7, 832), (DEFAULT_SIZES, 833, 3, 834)]
    run_cases(credit, cases, lambda k, case: _interpolate_check(submission, case, f"case {k}"))


@pytest.mark.points(2)
def test_interpolate_endpoints(submission, credit):
    """interpolate's first and last rows decode the means of x1 and x2 (2 and 11 steps)"""
    cases = [(DEFAULT_SIZES, 841, 2, 842), (DEFAULT_SIZES, 843, 11, 844)]
    rows = [(0, "first"), (-1, "last")]
    run_cases(credit, cases, lambda k, case: _interpolate_check(submission, case, f"case {k}", rows))


@pytest.mark.points(1)
def test_interpolate_other_sizes(submission):
    """interpolate respects the model's sizes (x_dim = 20, z_dim = 3)"""
    _interpolate_check(submission, (OTHER_SIZES, 851, 5, 852), "VAE(20, 3, 16)")
