"""Hidden graders of task 7: the held-out negative ELBO of the student's trained VAE, measured here.

The configured run of the handout, ``train_vae(X_train, epochs=50, seed=0)`` on the binarized
digits' training split, runs once per grading (a module-scoped fixture). Then the grader measures,
on the 360 digits of the test split, which it holds and never sends anywhere but to the model:

1. the trained model's weights (the ``vae_weights`` driver) must be the stencil's layers exactly;
2. the student's ``encode`` gives ``(mu, logvar)`` for the test digits;
3. the grader draws the noise (from a seed that never leaves this file), forms ``z = mu + σ·eps``
   and sends the z's to the student's ``decode`` in a shuffled order, in two separate calls;
4. ``mu``, ``logvar`` and the logits must equal what the model's own weights compute (the grader's
   float64 forward of the stencil's architecture): a model whose outputs are not a function of its
   weights and its input, such as a decoder that looks up the images its encoder saw last, fails;
5. the negative ELBO, −log p(x|z) + KL averaged over the digits and the noise draws, is computed
   here from those outputs, with the grader's own log-likelihood and closed-form KL.

The scikit-learn package ships these digits, so the test split is out of reach only as far as the
forbidden imports (``sklearn``, ``coursekit``) and the sandbox keep a submission from reading it.
"""

from __future__ import annotations

import numpy as np
import pytest
import vae_oracle as oracle
from vae_cases import DEFAULT_SIZES, as32, driver_error, rng, tensor

from coursekit.checks import GradeFailure, expect_array, expect_close, expect_true, unpack
from coursekit.data import load_binary_digits
from coursekit.grading.client import ObjectProxy

pytestmark = [pytest.mark.task(7), pytest.mark.builds_on(1, 2, 3, 4, 5)]

#: The handout's configured run.
TRAIN_RUN = {"epochs": 50, "seed": 0}
#: Noise draws per test digit, and the seed of the grader's noise (it never travels to the worker).
NOISE_DRAWS = 8
EVAL_SEED = 760_313


def _weights(submission, model) -> dict:
    report = submission.driver("vae_weights", model)
    code = report.get("error") if isinstance(report, dict) else None
    expect_true(isinstance(report, dict) and report.get("ok") is True,
                "train_vae's model " + driver_error(code))
    state = {k: expect_array(v, f"the trained parameter {k}", dtype_kind="f").astype(np.float64)
             for k, v in report["state"].items()}
    want = oracle.state_shapes(*DEFAULT_SIZES)
    expect_true(set(state) == set(want) and all(state[k].shape == want[k] for k in want),
                "train_vae must return VAE() with the default sizes and the stencil's layers only "
                "(its parameters and buffers differ from them)")
    expect_true(all(np.all(np.isfinite(v)) for v in state.values()),
                "the trained weights contain NaN or infinity")
    return state


def _measure(submission, model, state: dict) -> dict:
    X, _ = load_binary_digits("test")
    n, z_dim = len(X), DEFAULT_SIZES[1]
    mu, logvar = unpack(model.encode(tensor(X)), 2, "the trained model's encode")
    mu = expect_array(mu, "encode's mu on the test digits", shape=(n, z_dim), dtype_kind="f")
    logvar = expect_array(logvar, "encode's logvar on the test digits", shape=(n, z_dim), dtype_kind="f")
    mu, logvar = mu.astype(np.float64), logvar.astype(np.float64)
    g = rng(EVAL_SEED)
    eps = g.standard_normal((NOISE_DRAWS, n, z_dim))
    z = (mu + np.exp(0.5 * logvar) * eps).reshape(NOISE_DRAWS * n, z_dim).astype(np.float32)
    order = g.permutation(len(z))
    half = len(z) // 2
    parts = [model.decode(tensor(z[order[:half]])), model.decode(tensor(z[order[half:]]))]
    shuffled = np.concatenate([expect_array(p, "decode's logits", shape=(len(i), 64), dtype_kind="f")
                               for p, i in zip(parts, (order[:half], order[half:]))]).astype(np.float64)
    logits = np.empty_like(shuffled)
    logits[order] = shuffled
    finite = bool(np.all(np.isfinite(z)) and all(np.all(np.isfinite(a)) for a in (mu, logvar, logits)))
    if not finite:
        return {"value": float("inf"), "finite": False, "consistent": False}
    consistent = True
    try:
        want_mu, want_logvar = oracle.encode(state, X)
        expect_close(mu, as32(want_mu), "mu")
        expect_close(logvar, as32(want_logvar), "logvar")
        expect_close(logits, as32(oracle.decode(state, z)), "logits")
    except GradeFailure:
        consistent = False
    x = np.broadcast_to(X, (NOISE_DRAWS, n, 64)).reshape(-1, 64)
    reconstruction = -oracle.bernoulli_log_likelihood(x, logits).reshape(NOISE_DRAWS, n).mean(axis=0)
    kl = oracle.kl_standard_normal(mu, logvar)
    value = float(np.mean(reconstruction + kl))
    return {"value": value, "finite": bool(np.isfinite(value)), "consistent": consistent}


@pytest.fixture(scope="module")
def trained(submission):
    """The configured training run, once, and the grader's measurement of the returned model."""
    X, _ = load_binary_digits("train")
    model = submission.vae.train_vae(tensor(X), **TRAIN_RUN)
    expect_true(isinstance(model, ObjectProxy), "train_vae must return the trained VAE (an nn.Module)")
    return _measure(submission, model, _weights(submission, model))


def _expect_consistent(trained) -> None:
    expect_true(trained["finite"], "the trained model's codes, logits or negative ELBO on the held-out "
                                   "digits are NaN or infinite (did the training diverge?)")
    expect_true(trained["consistent"],
                "the trained model's encode and decode do not compute what its weights say (keep the "
                "stencil's layers; encode and decode must be functions of their input and the weights "
                "alone; check task 4 first)")


def _negative_elbo(trained) -> float:
    _expect_consistent(trained)
    return trained["value"]


@pytest.mark.points(11)
def test_trained_vae_reaches_the_target(trained, week):
    """after train_vae(epochs=50, seed=0), the held-out negative ELBO is below the handout's target"""
    threshold = week.thresholds["digits_test_negative_elbo"]
    value = _negative_elbo(trained)
    expect_true(value <= threshold, f"held-out negative ELBO {value:.2f} nats is above the required "
                                    f"{threshold:g}")


@pytest.mark.points(4)
def test_trained_vae_learns(trained, week):
    """after train_vae(epochs=50, seed=0), the held-out negative ELBO is below the partial-credit bound"""
    threshold = week.thresholds["digits_partial_negative_elbo"]
    value = _negative_elbo(trained)
    expect_true(value <= threshold, f"held-out negative ELBO {value:.2f} nats is above even the "
                                    f"partial-credit {threshold:g}")


@pytest.mark.points(2)
def test_trained_vae_is_its_weights(trained):
    """the trained model's encode and decode compute what its weights say, whatever the order of calls"""
    _expect_consistent(trained)
