"""Hidden graders of task 10: train_diffusion on the two moons, judged by samples the grader draws.

The configured run of the handout, ``train_diffusion(X, steps=3000, T=100, seed=0)``, runs once per
grading (a module-scoped fixture) on 4,000 moons from a public seed, turned and shifted by a
placement that only this file knows, so weights trained in advance on the course's moons do not fit.
The grader then reads the returned model's weights (the ``state_dict`` driver: the denoiser's
parameter names and shapes are part of the interface) and the student's time features for
t = 0 … T−1, and runs the reverse process itself, in this process, with its own implementation of
the handout's network and noise from its own seed. Nothing the student's code says about its
samples is used: a ``sample`` or a forward pass that returns hand-made moons gains nothing here.
The samples are compared by the energy distance with held-out moons, in the same placement, that
the grader draws from a seed that never leaves this file.
"""

from __future__ import annotations

import diffusion_oracle as oracle
import numpy as np
import pytest
from diffusion_cases import TRAIN_DATA, TRAIN_RUN, expect_finite, expect_module, rng, tensor

from coursekit.checks import GradeFailure, expect_array, expect_close, expect_true, unpack
from coursekit.data import moons

pytestmark = [pytest.mark.task(10), pytest.mark.builds_on(1, 2, 4, 5, 6)]

#: The grader's own draws: held-out moons and the sampler's noise (never sent to the worker).
HELD_OUT = {"n": 2000, "noise": TRAIN_DATA["noise"], "seed": 80_417_253}
#: Where the moons are put: centred on their mean (1/2, 1/4), turned by ANGLE radians, then SHIFTed.
ANGLE, SHIFT = 2.2, np.array([0.3, -0.2])
SAMPLER_SEED = 61_190_447
SAMPLES = 2000
#: The moons live in the plane.
TRAIN_DATA_DIM = 2
UPSTREAM = (" (the grader samples with the network of task 5 fed with your time features of task 4; your "
            "training uses your schedule, q_sample and loss of tasks 1, 2 and 6)")


def placed(X: np.ndarray) -> np.ndarray:
    """The moons in the grader's placement."""
    c, s = np.cos(ANGLE), np.sin(ANGLE)
    return (X - [0.5, 0.25]) @ np.array([[c, -s], [s, c]]).T + SHIFT


@pytest.fixture(scope="module")
def trained(submission):
    """The configured training run, once: the returned model (a handle) and schedule."""
    X = placed(moons(**TRAIN_DATA)[0])
    result = submission.diffusion.train_diffusion(tensor(X.astype(np.float32)), **TRAIN_RUN)
    model, betas = unpack(result, 2, "train_diffusion")
    return {"model": model, "betas": betas}


def _schedule(trained) -> np.ndarray:
    T = TRAIN_RUN["T"]
    betas = expect_array(trained["betas"], "the returned betas", shape=(T,), dtype_kind="f").astype(np.float64)
    expect_true(bool(np.all((betas > 0) & (betas < 1))), "the returned betas must all lie strictly between 0 and 1")
    return betas


@pytest.fixture(scope="module")
def weights(submission, trained):
    """The trained model's weights (checked against the handout's names and shapes) and the
    student's time features for every step, as the grader's sampler needs them."""
    expect_module(submission, trained["model"], "the first value train_diffusion returns (the trained model)")
    state = submission.driver("state_dict", trained["model"])
    if type(state) is not dict or "net.0.bias" not in state:
        raise GradeFailure("the trained model's parameters are not named as the handout's Denoiser's (task 5)")
    hidden = int(np.asarray(state["net.0.bias"]).shape[0])
    want = oracle.denoiser_shapes(TRAIN_DATA_DIM, hidden)
    if set(state) != set(want) or any(tuple(np.asarray(state[k]).shape) != s for k, s in want.items()):
        raise GradeFailure("the trained model's parameters do not have the names and shapes of the handout's "
                           "Denoiser(2, hidden) (task 5)")
    state = {k: np.asarray(v, dtype=np.float32) for k, v in state.items()}
    features = expect_array(submission.diffusion.timestep_embedding(tensor(np.arange(TRAIN_RUN["T"])), hidden),
                            "timestep_embedding (task 4) of every step", shape=(TRAIN_RUN["T"], hidden),
                            dtype_kind="f")
    return {"state": state, "features": features.astype(np.float32)}


@pytest.fixture(scope="module")
def distance(trained, weights):
    """The energy distance between the grader's samples from the trained model and held-out moons."""
    betas = _schedule(trained)
    points = oracle.sample_trained(weights["state"], weights["features"], betas, SAMPLES, SAMPLER_SEED)
    expect_finite(points, "the samples the grader drew from your trained model (check that β < 1 "
                          "everywhere and that training converged)")
    return oracle.energy_distance(points, placed(moons(**HELD_OUT)[0]))


@pytest.mark.points(1)
def test_training_returns_model_and_schedule(submission, trained):
    """train_diffusion returns (model, betas) with betas (T,) floats strictly between 0 and 1"""
    expect_module(submission, trained["model"], "the first value train_diffusion returns (the trained model)")
    _schedule(trained)


@pytest.mark.points(2)
def test_trained_model_is_the_denoiser(submission, trained, weights):
    """the trained model is the handout's Denoiser: its output equals the network on its own weights"""
    g = rng(1001)
    xt, t = g.standard_normal((64, TRAIN_DATA_DIM)).astype(np.float32), g.integers(0, TRAIN_RUN["T"], 64)
    want = oracle.denoiser(weights["state"], xt.astype(np.float64),
                           weights["features"][t].astype(np.float64)).astype(np.float32)
    got = submission.driver("denoiser_output", trained["model"], tensor(xt), tensor(t))
    expect_array(got, "the trained model's predicted noise", shape=want.shape, dtype_kind="f")
    expect_close(got, want, "the trained model's predicted noise, against the handout's network on its weights"
                 + UPSTREAM)


@pytest.mark.points(8)
def test_samples_reach_the_target(distance, week):
    """samples of the trained model are within the handout's energy distance of held-out moons"""
    threshold = week.thresholds["energy_distance"]
    expect_true(distance <= threshold, f"the energy distance between samples of your model and held-out moons "
                f"is {distance:.3f}, above the required {threshold:g}" + UPSTREAM)


@pytest.mark.points(4)
def test_samples_learn_the_moons(distance, week):
    """samples of the trained model are within the partial-credit energy distance of held-out moons"""
    threshold = week.thresholds["energy_distance_partial"]
    expect_true(distance <= threshold, f"the energy distance between samples of your model and held-out moons "
                f"is {distance:.3f}, above even the partial-credit {threshold:g}" + UPSTREAM)
