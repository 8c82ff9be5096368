"""Hidden graders of task 4: the student's VAE with the grader's weights, against the same layers in
float64 (``torch.nn.functional.linear`` and ``relu`` on the weights the grader loads with the
``vae_load_weights`` driver).

``forward`` calls the student's ``reparameterize`` (task 2), so its feedback names that task too.
"""

from __future__ import annotations

import pytest
import vae_oracle as oracle
from vae_cases import (DEFAULT_SIZES, OTHER_SIZES, binary, driver_result, expect_gradient,
                       expect_values, normal, rng, stand_in_state, student_vae, tensor)

from coursekit.checks import run_cases, unpack

pytestmark = pytest.mark.task(4)

#: (sizes, weights' seed, batch size, inputs' seed)
MODEL_CASES = [(DEFAULT_SIZES, 401, 16, 402), (DEFAULT_SIZES, 403, 1, 404)]
FORWARD_NOTE = " (forward decodes reparameterize(mu, logvar, eps): check task 2 as well)"


def _encode_check(submission, case, what):
    sizes, w_seed, n, x_seed = case
    state = stand_in_state(w_seed, sizes)
    x = binary(rng(x_seed), (n, sizes[0]))
    mu, logvar = unpack(student_vae(submission, state, sizes).encode(tensor(x)), 2, f"{what}: encode")
    want_mu, want_logvar = oracle.encode(state, x)
    expect_values(mu, want_mu, f"{what}: encode's mu")
    expect_values(logvar, want_logvar, f"{what}: encode's logvar")


def _decode_check(submission, case, what):
    sizes, w_seed, n, z_seed = case
    state = stand_in_state(w_seed, sizes)
    z = normal(rng(z_seed), (n, sizes[1]))
    logits = student_vae(submission, state, sizes).decode(tensor(z))
    expect_values(logits, oracle.decode(state, z), f"{what}: decode's logits")


def _forward_check(submission, case, what):
    sizes, w_seed, n, seed = case
    state = stand_in_state(w_seed, sizes)
    g = rng(seed)
    x, eps = binary(g, (n, sizes[0])), normal(g, (n, sizes[1]))
    got = unpack(student_vae(submission, state, sizes)(tensor(x), tensor(eps)), 3, f"{what}: forward")
    want = oracle.forward(state, x, eps)
    expect_values(got[1], want[1], f"{what}: forward's mu")
    expect_values(got[2], want[2], f"{what}: forward's logvar")
    expect_values(got[0], want[0], f"{what}: forward's logits" + FORWARD_NOTE)


@pytest.mark.points(3)
def test_encode_matches_the_weights(submission, credit):
    """encode gives the mean and log-variance that the stencil's layers compute with given weights"""
    run_cases(credit, MODEL_CASES, lambda k, case: _encode_check(submission, case, f"case {k}"))


@pytest.mark.points(2)
def test_decode_matches_the_weights(submission, credit):
    """decode gives the logits that the stencil's layers compute with given weights"""
    run_cases(credit, [(DEFAULT_SIZES, 411, 16, 412), (DEFAULT_SIZES, 413, 3, 414)],
              lambda k, case: _decode_check(submission, case, f"case {k}"))


@pytest.mark.points(1)
def test_forward_with_fixed_noise(submission):
    """forward returns (logits, mu, logvar) of the given noise, as the stencil's layers compute them"""
    _forward_check(submission, (DEFAULT_SIZES, 421, 16, 422), "forward")


@pytest.mark.points(1)
def test_forward_gradients(submission):
    """forward's outputs pass gradients to every parameter, as autograd of the same layers does"""
    state = stand_in_state(431)
    g = rng(432)
    x, eps = binary(g, (8, 64)), normal(g, (8, 8))
    upstream = (normal(g, (8, 64)), normal(g, (8, 8)), normal(g, (8, 8)))
    model = student_vae(submission, state)
    report = driver_result(submission.driver("vae_parameter_gradients", model, "model",
                                             [tensor(x), tensor(eps)], [tensor(u) for u in upstream], 3),
                           "forward")
    want = oracle.forward_grads(state, x, eps, upstream)
    for name, grad in want.items():
        expect_gradient(report["grads"].get(name), grad, f"the gradient of {name}" + FORWARD_NOTE)


@pytest.mark.points(1)
def test_model_other_sizes(submission):
    """VAE(x_dim, z_dim, hidden) respects other sizes: encode, decode and forward"""
    _encode_check(submission, (OTHER_SIZES, 441, 9, 442), "VAE(20, 3, 16)")
    _decode_check(submission, (OTHER_SIZES, 443, 9, 444), "VAE(20, 3, 16)")
    _forward_check(submission, (OTHER_SIZES, 445, 9, 446), "VAE(20, 3, 16)")
