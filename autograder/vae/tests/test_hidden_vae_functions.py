"""Hidden graders of tasks 1-3: the KL divergence, the reparameterization and the log-likelihood.

Oracles in float64: ``torch.distributions.kl_divergence`` of diagonal Gaussians, the closed-form
gradients of ``z = mu + exp(logvar / 2) · eps``, and ``binary_cross_entropy_with_logits`` (negated,
summed over pixels) with its autograd gradient. Gradients of the student's functions come from
autograd in the worker (the ``vae_input_gradients`` driver) with an upstream gradient the grader
draws, so each is judged as a vector-Jacobian product.
"""

from __future__ import annotations

import numpy as np
import pytest
import vae_oracle as oracle
from vae_cases import (driver_result, expect_float32, expect_gradient, expect_values, binary, normal,
                       rng, tensor)

from coursekit import tolerances
from coursekit.checks import expect_array, expect_true, run_cases

# --- Task 1: kl_standard_normal -------------------------------------------------------------

#: (N, Z, scale of mu, scale of logvar, seed)
KL_CASES = [(16, 8, 1.0, 1.0, 101), (5, 3, 2.0, 2.5, 102), (1, 8, 0.5, 0.3, 103), (40, 1, 1.5, 1.0, 104)]


def _gaussian(case):
    n, z, s_mu, s_lv, seed = case
    g = rng(seed)
    return normal(g, (n, z), s_mu), normal(g, (n, z), s_lv)


@pytest.mark.task(1)
@pytest.mark.points(3)
def test_kl_matches_torch_distributions(submission, credit):
    """kl_standard_normal equals torch.distributions.kl_divergence on random Gaussians"""
    def check(k, case):
        mu, logvar = _gaussian(case)
        got = submission.vae.kl_standard_normal(tensor(mu), tensor(logvar))
        expect_values(got, oracle.kl_standard_normal(mu, logvar), f"case {k}: the KL divergences")
    run_cases(credit, KL_CASES, check)


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_kl_gradients(submission):
    """kl_standard_normal's gradients with respect to mu and logvar match autograd of the oracle"""
    mu, logvar = _gaussian((12, 8, 1.0, 1.0, 111))
    upstream = normal(rng(112), (12,))
    report = driver_result(submission.driver("vae_input_gradients", "kl_standard_normal",
                                             [tensor(mu), tensor(logvar)], [0, 1], [tensor(upstream)]),
                           "kl_standard_normal")
    want_mu, want_lv = oracle.kl_grads(mu, logvar, upstream)
    expect_values(report["value"], oracle.kl_standard_normal(mu, logvar), "the KL divergences")
    expect_gradient(report["grads"][0], want_mu, "the gradient with respect to mu")
    expect_gradient(report["grads"][1], want_lv, "the gradient with respect to logvar")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_kl_is_zero_only_at_the_prior(submission):
    """kl_standard_normal is 0 where q is N(0, I) and equals the oracle (positive) elsewhere"""
    mu, logvar = _gaussian((10, 6, 1.0, 1.0, 121))
    mu[::3], logvar[::3] = 0.0, 0.0  # rows 0, 3, 6, 9 are the prior itself
    got = expect_values(submission.vae.kl_standard_normal(tensor(mu), tensor(logvar)),
                        oracle.kl_standard_normal(mu, logvar), "the KL divergences")
    expect_true(bool(np.all(np.abs(got[::3]) <= tolerances.for_dtype(np.float32).atol)),
                "KL(N(0, I) ‖ N(0, I)) must be 0")
    expect_true(bool(np.all(np.delete(got, np.s_[::3]) > 0.0)), "the KL divergence must be positive "
                "when q differs from N(0, I)")


# --- Task 2: reparameterize -----------------------------------------------------------------

#: (eps shape, Z, seed); mu and logvar are (N, Z), eps (N, Z) or (K, N, Z).
REPARAM_CASES = [((16, 8), 8, 201), ((3, 2), 2, 202), ((1, 5), 5, 203), ((4, 6, 3), 3, 204)]


def _reparam_inputs(case):
    shape, z, seed = case
    g = rng(seed)
    n = shape[-2]
    return normal(g, (n, z)), normal(g, (n, z), 1.5), normal(g, shape)


@pytest.mark.task(2)
@pytest.mark.points(2)
def test_reparameterize_values(submission, credit):
    """reparameterize gives mu + exp(logvar / 2) · eps with fixed noise"""
    def check(k, case):
        mu, logvar, eps = _reparam_inputs(case)
        got = submission.vae.reparameterize(tensor(mu), tensor(logvar), tensor(eps))
        expect_values(got, oracle.reparameterize(mu, logvar, eps), f"case {k}: z")
    run_cases(credit, REPARAM_CASES[:3], check)


@pytest.mark.task(2)
@pytest.mark.points(2)
def test_reparameterize_gradients(submission, credit):
    """reparameterize passes gradients to mu (1) and logvar (σ · eps / 2) with fixed noise"""
    def check(k, case):
        mu, logvar, eps = _reparam_inputs(case)
        upstream = normal(rng(case[-1] + 1000), eps.shape)
        report = driver_result(submission.driver("vae_input_gradients", "reparameterize",
                                                 [tensor(mu), tensor(logvar), tensor(eps)], [0, 1],
                                                 [tensor(upstream)]), f"case {k}: reparameterize")
        want_mu, want_lv = oracle.reparameterize_grads(mu, logvar, eps, upstream)
        expect_values(report["value"], oracle.reparameterize(mu, logvar, eps), f"case {k}: z")
        expect_gradient(report["grads"][0], want_mu, f"case {k}: the gradient with respect to mu")
        expect_gradient(report["grads"][1], want_lv, f"case {k}: the gradient with respect to logvar")
    run_cases(credit, REPARAM_CASES[:2], check)


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_reparameterize_broadcasts_over_samples(submission):
    """reparameterize broadcasts (N, Z) parameters over (K, N, Z) noise"""
    mu, logvar, eps = _reparam_inputs(REPARAM_CASES[3])
    got = submission.vae.reparameterize(tensor(mu), tensor(logvar), tensor(eps))
    expect_values(got, oracle.reparameterize(mu, logvar, eps), "z for K samples per row")


# --- Task 3: bernoulli_log_likelihood ------------------------------------------------------------

#: (N, D, scale of the logits, seed)
BERNOULLI_CASES = [(16, 64, 3.0, 301), (5, 10, 0.5, 302), (1, 64, 8.0, 303), (30, 7, 20.0, 304)]


def _extreme_inputs(seed: int):
    """Binary x and logits of ±1e4 (both signs agreeing and disagreeing with x) and moderate ones."""
    g = rng(seed)
    x = binary(g, (6, 64), 0.5)
    logits = np.where(g.random((6, 64)) < 0.5, 1e4, -1e4).astype(np.float32)
    moderate = g.random((6, 64)) < 0.25
    logits[moderate] = normal(g, (int(moderate.sum()),), 3.0)
    return x, logits


@pytest.mark.task(3)
@pytest.mark.points(3)
def test_bernoulli_matches_binary_cross_entropy(submission, credit):
    """bernoulli_log_likelihood equals minus the summed binary cross-entropy with logits"""
    def check(k, case):
        n, d, scale, seed = case
        g = rng(seed)
        x, logits = binary(g, (n, d)), normal(g, (n, d), scale)
        got = submission.vae.bernoulli_log_likelihood(tensor(x), tensor(logits))
        expect_values(got, oracle.bernoulli_log_likelihood(x, logits), f"case {k}: the log-likelihoods")
    run_cases(credit, BERNOULLI_CASES, check)


@pytest.mark.task(3)
@pytest.mark.points(2)
def test_bernoulli_extreme_logits(submission):
    """bernoulli_log_likelihood is exact and finite at logits of ±1e4"""
    x, logits = _extreme_inputs(311)
    got = expect_float32(submission.vae.bernoulli_log_likelihood(tensor(x), tensor(logits)),
                         "the log-likelihoods", (6,))
    expect_true(bool(np.all(np.isfinite(got))), "the log-likelihood is NaN or infinite at logits of ±1e4")
    expect_values(got, oracle.bernoulli_log_likelihood(x, logits), "the log-likelihoods at logits of ±1e4")


@pytest.mark.task(3)
@pytest.mark.points(2)
def test_bernoulli_gradient_is_stable(submission):
    """bernoulli_log_likelihood's gradient is x − σ(logits), finite at logits of ±1e4"""
    x, logits = _extreme_inputs(321)
    upstream = normal(rng(322), (6,))
    report = driver_result(submission.driver("vae_input_gradients", "bernoulli_log_likelihood",
                                             [tensor(x), tensor(logits)], [1], [tensor(upstream)]),
                           "bernoulli_log_likelihood")
    grad = report["grads"][0]
    expect_true(grad is not None, "no gradient reached the logits")
    expect_true(bool(np.all(np.isfinite(expect_array(grad, "the gradient", dtype_kind="f")))),
                "the gradient with respect to the logits is NaN or infinite")
    expect_gradient(grad, oracle.bernoulli_grad(x, logits, upstream),
                    "the gradient with respect to the logits")
