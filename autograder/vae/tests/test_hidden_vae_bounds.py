"""Hidden graders of tasks 5 and 6: the negative ELBO and the importance-weighted bound.

Both run on a VAE the course wrote (the ``vae_stand_in`` driver) holding the grader's random weights,
so a mistake in the student's own ``VAE`` costs nothing here. The oracle is an independent float64
computation on the same weights: ``binary_cross_entropy_with_logits`` and
``torch.distributions.kl_divergence`` for the ELBO (β included), ``torch.distributions.Normal``
log-densities for the importance weights. ``iwae_bound`` draws its own noise as the docstring says
(``torch.randn((k, N, z_dim), generator=torch.Generator().manual_seed(seed))``), which the grader
reproduces. The properties of the bound (at least the ELBO on average, growing with k, below
log p(x)) are judged against the grader's own Monte Carlo estimates with many more samples.
"""

from __future__ import annotations

import numpy as np
import pytest
import vae_oracle as oracle
from vae_cases import (DEFAULT_SIZES, USES_HELPERS, binary, driver_result, expect_float32,
                       expect_gradient, expect_scalar, expect_values, normal, rng, stand_in,
                       stand_in_state, tensor)

from coursekit import tolerances
from coursekit.checks import GradeFailure, expect_close, expect_true, run_cases

# --- Task 5: negative_elbo ------------------------------------------------------------------

#: (weights' seed, batch size, inputs' seed, beta)
ELBO_CASES = [(501, 32, 502, 1.0), (503, 7, 504, 1.0)]
BETA_CASES = [(511, 16, 512, 0.5), (513, 16, 514, 4.0), (515, 5, 516, 0.0)]
BATCH_CASES = [(521, 1, 522, 1.0), (523, 100, 524, 1.0)]


def _elbo_inputs(case):
    w_seed, n, seed, beta = case
    g = rng(seed)
    return stand_in_state(w_seed), binary(g, (n, 64)), normal(g, (n, 8)), beta


def _elbo_check(submission, case, what):
    state, x, eps, beta = _elbo_inputs(case)
    got = submission.vae.negative_elbo(stand_in(submission, state), tensor(x), tensor(eps), beta)
    value = expect_scalar(got, f"{what}: negative_elbo")
    expect_close(np.float32(value), np.float32(oracle.negative_elbo(state, x, eps, beta)),
                 f"{what}: the negative ELBO (batch mean of −log p(x|z) + β·KL; {USES_HELPERS})")


@pytest.mark.task(5)
@pytest.mark.builds_on(1, 2, 3)
@pytest.mark.points(3)
def test_negative_elbo_matches(submission, credit):
    """negative_elbo with fixed weights and noise equals an independent computation (β = 1)"""
    run_cases(credit, ELBO_CASES, lambda k, case: _elbo_check(submission, case, f"case {k}"))


@pytest.mark.task(5)
@pytest.mark.builds_on(1, 2, 3)
@pytest.mark.points(2)
def test_negative_elbo_beta(submission, credit):
    """negative_elbo weights the KL by β (β = 0.5, 4 and 0)"""
    run_cases(credit, BETA_CASES, lambda k, case: _elbo_check(submission, case, f"case {k}"))


@pytest.mark.task(5)
@pytest.mark.builds_on(1, 2, 3)
@pytest.mark.points(1)
def test_negative_elbo_batch_sizes(submission, credit):
    """negative_elbo averages over the batch: one example and a hundred"""
    run_cases(credit, BATCH_CASES, lambda k, case: _elbo_check(submission, case, f"case {k}"))


@pytest.mark.task(5)
@pytest.mark.builds_on(1, 2, 3)
@pytest.mark.points(2)
def test_negative_elbo_gradients(submission):
    """negative_elbo's gradients with respect to the model's parameters match autograd of the oracle"""
    state, x, eps, beta = _elbo_inputs((531, 16, 532, 1.5))
    report = driver_result(submission.driver("vae_parameter_gradients", stand_in(submission, state),
                                             "negative_elbo", [tensor(x), tensor(eps), beta],
                                             [np.float32(1.0)]), "negative_elbo")
    value = expect_scalar(report["value"], "negative_elbo")
    expect_close(np.float32(value), np.float32(oracle.negative_elbo(state, x, eps, beta)),
                 f"the negative ELBO ({USES_HELPERS})")
    for name, grad in oracle.negative_elbo_grads(state, x, eps, beta).items():
        expect_gradient(report["grads"].get(name), grad, f"the gradient of {name}")


# --- Task 6: iwae_bound ---------------------------------------------------------------------

#: The model and the inputs of the property tests (64 random binary images), and its noise seeds.
PROPERTY_MODEL, PROPERTY_INPUTS, PROPERTY_SEED = 601, 602, 3
#: The grader's own Monte Carlo: draws for the ELBO and for log p(x), from its own generator.
ELBO_DRAWS, LOG_PX_DRAWS, MC_SEED = 2000, 2000, 609


def _iwae(submission, model, x, k, seed, what):
    got = submission.vae.iwae_bound(model, tensor(x), k, seed=seed)
    arr = expect_float32(got, f"{what}: iwae_bound", (len(x),))
    expect_true(bool(np.all(np.isfinite(arr))), f"{what}: iwae_bound is NaN or infinite")
    return arr


def _iwae_check(submission, case, what):
    w_seed, n, x_seed, k, seed = case
    state = stand_in_state(w_seed)
    x = binary(rng(x_seed), (n, 64))
    got = _iwae(submission, stand_in(submission, state), x, k, seed, what)
    eps = oracle.torch_noise((k, n, DEFAULT_SIZES[1]), seed)
    expect_values(got, oracle.iwae(state, x, eps), f"{what}: the bound with k = {k} ({USES_HELPERS})")


@pytest.mark.task(6)
@pytest.mark.builds_on(1, 2, 3)
@pytest.mark.points(3)
def test_iwae_with_one_sample_is_the_elbo_estimate(submission, credit):
    """iwae_bound with k = 1 equals the single-sample ELBO estimate log p(x|z) + log p(z) − log q(z|x)"""
    cases = [(611, 16, 612, 1, 0), (613, 5, 614, 1, 7)]
    run_cases(credit, cases, lambda k, case: _iwae_check(submission, case, f"case {k}"))


@pytest.mark.task(6)
@pytest.mark.builds_on(1, 2, 3)
@pytest.mark.points(3)
def test_iwae_values(submission, credit):
    """iwae_bound with k = 5 and k = 50 equals the log-mean-exp of the importance weights"""
    cases = [(621, 16, 622, 5, 0), (623, 8, 624, 50, 11), (625, 1, 626, 20, 2)]
    run_cases(credit, cases, lambda k, case: _iwae_check(submission, case, f"case {k}"))


def _property_setup(submission):
    """The stand-in model, the inputs, and the grader's estimates of the mean ELBO and log p(x)."""
    state = stand_in_state(PROPERTY_MODEL)
    x = binary(rng(PROPERTY_INPUTS), (64, 64))
    g = rng(MC_SEED)
    elbo = float(oracle.log_weights(state, x, g.standard_normal((ELBO_DRAWS, 64, 8))).mean())
    log_px = float(oracle.iwae(state, x, g.standard_normal((LOG_PX_DRAWS, 64, 8))).mean())
    return stand_in(submission, state), state, x, elbo, log_px


def _grader_self_check(state, x, ks, elbo, log_px) -> None:
    """The documented noise must give a correct implementation these properties with a margin well
    beyond float32 round-off (ten times float32's tolerance on the values compared)."""
    means = [float(oracle.iwae(state, x, oracle.torch_noise((k, 64, 8), PROPERTY_SEED)).mean()) for k in ks]
    tol = tolerances.for_dtype(np.float32)
    margin = 10 * (tol.rtol * abs(elbo) + tol.atol)
    increasing = all(a + margin < b for a, b in zip(means, means[1:]))
    if not (elbo + margin < means[-1] < log_px - margin and increasing):
        raise RuntimeError("grader self-check: the IWAE property inputs have too small a margin")


@pytest.mark.task(6)
@pytest.mark.builds_on(1, 2, 3)
@pytest.mark.points(2)
def test_iwae_is_at_least_the_elbo(submission):
    """iwae_bound with k = 10 is, on average, at least the ELBO and at most log p(x)"""
    model, state, x, elbo, log_px = _property_setup(submission)
    _grader_self_check(state, x, (10,), elbo, log_px)
    mean = float(_iwae(submission, model, x, 10, PROPERTY_SEED, "k = 10").mean())
    expect_true(mean >= elbo, "with k = 10 the bound is, on average, below the ELBO: it must be at "
                              "least the ELBO (the log-mean-exp of weights ≥ the mean of log-weights)")
    expect_true(mean <= log_px, "with k = 10 the bound is, on average, above the grader's estimate of "
                                "log p(x): it is not a lower bound")


@pytest.mark.task(6)
@pytest.mark.builds_on(1, 2, 3)
@pytest.mark.points(2)
def test_iwae_increases_with_k(submission):
    """iwae_bound grows with k on average (k = 1, 4, 32), between the ELBO and log p(x)"""
    model, state, x, elbo, log_px = _property_setup(submission)
    ks = (1, 4, 32)
    _grader_self_check(state, x, ks, elbo, log_px)
    means = [float(_iwae(submission, model, x, k, PROPERTY_SEED, f"k = {k}").mean()) for k in ks]
    expect_true(all(m <= log_px for m in means),
                "the bound is, on average, above the grader's estimate of log p(x) for some k")
    # The bounds lie between the ELBO and log p(x); a single sample may fall below the ELBO, but not
    # by as much as the whole gap between the two (which would not be an estimate of either).
    expect_true(all(m >= 2 * elbo - log_px for m in means) and means[-1] >= elbo,
                f"the bound is, on average, far below the ELBO for some k ({USES_HELPERS})")
    if not all(a < b for a, b in zip(means, means[1:])):
        raise GradeFailure("the bound does not increase on average from k = 1 to 4 to 32")
