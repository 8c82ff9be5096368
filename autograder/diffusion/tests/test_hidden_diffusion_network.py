"""Hidden graders of tasks 4 and 5: the sinusoidal time embedding and the denoiser network.

The embedding is compared with its closed form (sines of t·ω_i in the first half, cosines in the
second, ω_i = 10000^(−i/half), a zero column for odd dims) with the named float32 tolerance
``TIME_EMBEDDING_FLOAT32``. The denoiser gets known weights through ``load_state_dict`` (its
parameter names and shapes are part of the interface) and is compared with the grader's own MLP fed
with the student's own time embedding, so a mistake in task 4 does not cost task 5's points.
"""

from __future__ import annotations

import diffusion_oracle as oracle
import numpy as np
import pytest
from diffusion_cases import expect_module, rng, tensor

from coursekit import tolerances
from coursekit.checks import GradeFailure, expect_array, expect_close, expect_equal, expect_true, run_cases

EMBEDDING = tolerances.TIME_EMBEDDING_FLOAT32

# --- Task 4: timestep_embedding -------------------------------------------------------------


def _check_embedding(submission, t: np.ndarray, dim: int, what: str) -> None:
    want = oracle.embedding(t, dim)
    got = expect_array(submission.diffusion.timestep_embedding(tensor(t), dim), what, shape=want.shape,
                       dtype_kind="f")
    expect_true(got.dtype == np.float32, f"{what}: dtype {got.dtype}, expected float32")
    expect_close(got, want, what, tolerance=EMBEDDING)


@pytest.mark.task(4)
@pytest.mark.points(2)
def test_embedding_even_dims(submission, credit):
    """timestep_embedding matches [sin(t ω_i) | cos(t ω_i)], ω_i = 10000^(−i/half), for even dims"""
    cases = [(16, 401), (128, 402), (4, 403), (2, 404)]
    run_cases(credit, cases, lambda k, c: _check_embedding(
        submission, rng(c[1]).integers(0, 100, 9), c[0], f"case {k}: embedding"))


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_embedding_odd_dims(submission, credit):
    """timestep_embedding with an odd dim: the same halves, then one column of zeros"""
    cases = [(17, 411), (5, 412), (129, 413)]
    run_cases(credit, cases, lambda k, c: _check_embedding(
        submission, rng(c[1]).integers(0, 100, 7), c[0], f"case {k}: embedding"))


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_embedding_large_timesteps(submission, credit):
    """timestep_embedding for timesteps up to 999 (a 1000-step schedule)"""
    cases = [(32, 421), (128, 422)]
    run_cases(credit, cases, lambda k, c: _check_embedding(
        submission, np.append(rng(c[1]).integers(100, 1000, 11), [0, 999]), c[0], f"case {k}: embedding"))


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_embedding_one_timestep(submission):
    """timestep_embedding of a batch of one timestep: (1, dim) float32"""
    _check_embedding(submission, np.array([37]), 24, "embedding of one timestep")


# --- Task 5: Denoiser -----------------------------------------------------------------------


def _denoiser(submission, data_dim: int, hidden: int):
    return expect_module(submission, submission.diffusion.Denoiser(data_dim, hidden), "Denoiser(...)")


def _check_state_dict(submission, data_dim: int, hidden: int, what: str) -> None:
    want = oracle.denoiser_shapes(data_dim, hidden)
    model = _denoiser(submission, data_dim, hidden)
    expect_equal(model.data_dim, data_dim, f"{what}: the attribute data_dim")
    state = submission.driver("state_dict", model)
    expect_true(type(state) is dict, f"{what}: the state dict could not be read")
    missing, extra = sorted(set(want) - set(state)), sorted(set(state) - set(want))
    if missing or extra:
        raise GradeFailure(f"{what}: the state dict's names differ from the handout's "
                           f"(missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(extra) or 'none'})")
    for name, shape in want.items():
        expect_array(state[name], f"{what}: {name}", shape=shape, dtype_kind="f")


@pytest.mark.task(5)
@pytest.mark.points(2)
def test_denoiser_parameters(submission, credit):
    """Denoiser(data_dim, hidden) has the handout's parameter names and shapes, and data_dim"""
    cases = [(2, 128), (3, 16), (1, 8)]
    run_cases(credit, cases, lambda k, c: _check_state_dict(submission, *c, f"case {k}"))


def _check_forward(submission, data_dim: int, hidden: int, n: int, seed: int, what: str) -> None:
    g = rng(seed)
    state = oracle.random_denoiser_state(data_dim, hidden, g)
    xt, t = g.standard_normal((n, data_dim)).astype(np.float32), g.integers(0, 100, n)
    model = _denoiser(submission, data_dim, hidden)
    submission.driver("load_state_dict", model, {k: tensor(v) for k, v in state.items()})
    features = expect_array(submission.diffusion.timestep_embedding(tensor(t), hidden),
                            f"{what}: timestep_embedding (task 4) for the denoiser", shape=(n, hidden))
    want = oracle.denoiser(state, xt.astype(np.float64), features.astype(np.float64)).astype(np.float32)
    got = submission.driver("denoiser_output", model, tensor(xt), tensor(t))
    expect_array(got, f"{what}: predicted noise", shape=want.shape, dtype_kind="f")
    expect_close(got, want, f"{what}: predicted noise")


@pytest.mark.task(5)
@pytest.mark.points(3)
def test_denoiser_forward(submission, credit):
    """Denoiser with known weights computes net(concat[xt, timestep_embedding(t, hidden)])"""
    cases = [(2, 128, 16, 501), (3, 16, 9, 502), (2, 32, 1, 503)]
    run_cases(credit, cases, lambda k, c: _check_forward(submission, *c, f"case {k}"))
