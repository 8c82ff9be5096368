"""Public tests of Week 7 (``diffusion.py``): wiring, shapes, dtypes and small examples by hand.

Run them with ``make test`` (all tasks) or ``make test TASK=3`` (one task). They are about a third of
the checks: passing them means your functions are wired correctly, not that they are correct. The
hidden graders compare every function with its closed form on random inputs and schedules, and
sample from your trained model themselves.

Your code runs in a separate process: arguments reach it as copies and results come back as plain
tensors and Python values; a model stays there and is reached through a handle. The sampling steps
and the loss are tested with the course's *stand-in denoiser* (the public driver ``with_stand_in``
builds it beside your code): ε̂(x, t) = x Wᵀ + b + (t / 100) u, with W, b and u chosen by the test,
so they do not depend on your own network.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from coursekit.checks import expect_array, expect_close, expect_equal, expect_true
from coursekit.data import moons

F64 = torch.float64
# Where a function builds on another task, its failures say so.
NEEDS_ALPHA_BARS = " (this needs ᾱ from β: if you use your alpha_bars and task 1 fails too, fix it first)"
USES_Q_SAMPLE = " (diffusion_loss noises x0 with your q_sample: if task 2 fails too, fix it first)"
USES_P_SAMPLE_STEP = " (sample runs your p_sample_step: if task 7 fails too, fix it first)"


def t64(values) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def steps(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.int64)


def stand_in(D: int = 2, weight=None, bias=None, time_weight=None) -> dict:
    """The stand-in denoiser's weights (zero unless given): ε̂(x, t) = x Wᵀ + b + (t / 100) u."""
    def given(value, shape):
        return np.zeros(shape) if value is None else np.asarray(value, dtype=np.float64)

    return {"weight": given(weight, (D, D)), "bias": given(bias, (D,)), "time_weight": given(time_weight, (D,))}


def with_stand_in(submission, function: str, params: dict, *args, **kwargs):
    return submission.driver("with_stand_in", "diffusion", function, params, *args, **kwargs)


def expect_float64(got, what: str, shape: tuple) -> None:
    expect_array(got, what, shape=shape, dtype_kind="f")
    expect_true(got.dtype == F64, f"{what} must be float64", f"got dtype {got.dtype}")


def results(got, count: int, what: str) -> tuple:
    """``got`` must be a tuple of ``count`` values (what ``what`` returns)."""
    expect_true(type(got) is tuple and len(got) == count, f"{what} must return a tuple of {count} values",
                f"got {got!r:.200}")
    return got


def module(submission, obj, what: str):
    """``obj`` must be a torch module (a handle to it); returns it."""
    expect_true(submission.driver("is_module", obj) is True, f"{what} must be a torch module (an nn.Module)")
    return obj


# --- Task 1: schedules ----------------------------------------------------------------------


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_linear_schedule_small_example(submission):
    """linear_beta_schedule(5, 0.1, 0.5) is [0.1, 0.2, 0.3, 0.4, 0.5], float64"""
    got = submission.diffusion.linear_beta_schedule(5, beta_start=0.1, beta_end=0.5)
    expect_float64(got, "the linear schedule", (5,))
    expect_close(got, t64([0.1, 0.2, 0.3, 0.4, 0.5]), "linear_beta_schedule(5, 0.1, 0.5)")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_cosine_schedule_first_step(submission):
    """cosine_beta_schedule(10) is (10,) float64 and β_0 = 1 − f(1/10) / f(0)"""
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    got = submission.diffusion.cosine_beta_schedule(10)
    expect_float64(got, "the cosine schedule", (10,))
    expect_close(got[:1], t64([1 - f(0.1) / f(0.0)]), "β_0 of cosine_beta_schedule(10)")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_cosine_schedule_is_clipped(submission):
    """cosine_beta_schedule(10) clips the last β (which would be 1) at 0.999"""
    got = submission.diffusion.cosine_beta_schedule(10)
    expect_float64(got, "the cosine schedule", (10,))
    expect_close(got[-1:], t64([0.999]), "the last β of cosine_beta_schedule(10)")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_alpha_bars_small_example(submission):
    """alpha_bars([0.1, 0.2, 0.5]) is [0.9, 0.72, 0.36]: ᾱ_0 = 1 − β_0 (0-based)"""
    got = submission.diffusion.alpha_bars(t64([0.1, 0.2, 0.5]))
    expect_float64(got, "alpha_bar", (3,))
    expect_close(got, t64([0.9, 0.72, 0.36]), "alpha_bars([0.1, 0.2, 0.5])")


# --- Task 2: q_sample -----------------------------------------------------------------------

ALPHA_BAR = t64([0.64, 0.36, 0.04])


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_q_sample_shape_and_dtype(submission):
    """q_sample keeps x0's shape and dtype (float32 points, a float64 schedule)"""
    x0, noise = torch.ones((4, 2)), torch.zeros((4, 2))
    got = submission.diffusion.q_sample(x0, steps([0, 1, 2, 1]), noise, ALPHA_BAR)
    expect_array(got, "x_t", shape=(4, 2), dtype_kind="f")
    expect_true(got.dtype == torch.float32, "x_t must have x0's dtype (float32)", f"got dtype {got.dtype}")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_q_sample_small_example(submission):
    """q_sample with ᾱ = [0.64, 0.36, 0.04] and t = [0, 1, 2]: √ᾱ_t x0 + √(1 − ᾱ_t) ε by hand"""
    x0, noise = t64([[1, 2], [3, 4], [5, 6]]), t64([[1, 0], [0, 1], [1, 1]])
    got = submission.diffusion.q_sample(x0, steps([0, 1, 2]), noise, ALPHA_BAR)
    r = math.sqrt(0.96)
    expect_close(got, t64([[1.4, 1.6], [1.8, 3.2], [1 + r, 1.2 + r]]), "x_t")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_q_sample_row_by_row(submission):
    """q_sample uses each row's own timestep: x0 = 1, no noise, t = [2, 0] gives rows 0.2 and 0.8"""
    got = submission.diffusion.q_sample(torch.ones((2, 2), dtype=F64), steps([2, 0]), torch.zeros((2, 2), dtype=F64),
                                        ALPHA_BAR)
    expect_close(got, t64([[0.2, 0.2], [0.8, 0.8]]), "x_t")


# --- Task 3: posterior_mean_variance --------------------------------------------------------

BETAS = t64([0.1, 0.5])  # ᾱ = [0.9, 0.45]


@pytest.mark.task(3)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_posterior_shapes(submission):
    """posterior_mean_variance returns (mean, var), both (N, D) float64"""
    x0, xt = torch.ones((3, 2), dtype=F64), torch.zeros((3, 2), dtype=F64)
    got = results(submission.diffusion.posterior_mean_variance(x0, xt, steps([0, 1, 1]), BETAS), 2,
                  "posterior_mean_variance")
    expect_float64(got[0], "mean", (3, 2))
    expect_float64(got[1], "var", (3, 2))


@pytest.mark.task(3)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_posterior_at_t0(submission):
    """at t = 0 (ᾱ_(-1) = 1) the posterior mean is x0 and the variance 0"""
    x0, xt = t64([[1.0, -2.0]]), t64([[3.0, 4.0]])
    mean, var = results(submission.diffusion.posterior_mean_variance(x0, xt, steps([0]), BETAS), 2,
                        "posterior_mean_variance")
    expect_close(mean, x0, "mean at t = 0" + NEEDS_ALPHA_BARS)
    expect_close(var, t64([[0.0, 0.0]]), "var at t = 0" + NEEDS_ALPHA_BARS)


@pytest.mark.task(3)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_posterior_small_example(submission):
    """posterior_mean_variance at t = 1 with β = [0.1, 0.5]: the coefficients by hand"""
    x0, xt = t64([[1.0, 0.0]]), t64([[0.0, 1.0]])
    mean, var = results(submission.diffusion.posterior_mean_variance(x0, xt, steps([1]), BETAS), 2,
                        "posterior_mean_variance")
    # √ᾱ_0 β_1 / (1 − ᾱ_1) on x0; √α_1 (1 − ᾱ_0) / (1 − ᾱ_1) on x_t; β̃_1 = (1 − ᾱ_0) β_1 / (1 − ᾱ_1).
    expect_close(mean, t64([[math.sqrt(0.9) * 0.5 / 0.55, math.sqrt(0.5) * 0.1 / 0.55]]),
                 "mean at t = 1" + NEEDS_ALPHA_BARS)
    expect_close(var, t64([[0.05 / 0.55, 0.05 / 0.55]]), "var at t = 1" + NEEDS_ALPHA_BARS)


# --- Task 4: timestep_embedding -------------------------------------------------------------


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_embedding_shape_and_dtype(submission):
    """timestep_embedding gives (N, dim) float32, for an even and an odd dim"""
    for dim in (8, 7):
        got = submission.diffusion.timestep_embedding(steps([0, 1, 5, 9, 99]), dim)
        expect_array(got, f"embedding with dim {dim}", shape=(5, dim), dtype_kind="f")
        expect_true(got.dtype == torch.float32, "the embedding must be float32", f"got dtype {got.dtype}")


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_embedding_at_t0(submission):
    """timestep_embedding of t = 0: sines 0, cosines 1 (and a last 0 for an odd dim)"""
    expect_close(submission.diffusion.timestep_embedding(steps([0]), 6), torch.tensor([[0.0, 0, 0, 1, 1, 1]]),
                 "embedding of t = 0, dim 6")
    expect_close(submission.diffusion.timestep_embedding(steps([0]), 5), torch.tensor([[0.0, 0, 1, 1, 0]]),
                 "embedding of t = 0, dim 5")


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_embedding_small_example(submission):
    """timestep_embedding with dim 4: ω = [1, 1/100], features [sin(t), sin(t/100), cos(t), cos(t/100)]"""
    want = torch.tensor([[math.sin(t), math.sin(t / 100), math.cos(t), math.cos(t / 100)] for t in (1, 2)])
    expect_close(submission.diffusion.timestep_embedding(steps([1, 2]), 4), want, "embedding of t = 1, 2, dim 4")


# --- Task 5: Denoiser -----------------------------------------------------------------------

DENOISER_SHAPES = {"net.0.weight": (32, 34), "net.0.bias": (32,), "net.2.weight": (32, 32), "net.2.bias": (32,),
                   "net.4.weight": (32, 32), "net.4.bias": (32,), "net.6.weight": (2, 32), "net.6.bias": (2,)}


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_denoiser_output_shape(submission):
    """Denoiser(2, 32) maps 5 points (5, 2) float32 and their timesteps to (5, 2) float32"""
    model = module(submission, submission.diffusion.Denoiser(2, 32), "Denoiser(2, 32)")
    got = submission.driver("denoiser_output", model, torch.randn((5, 2)), steps([0, 1, 2, 50, 99]))
    expect_array(got, "the predicted noise", shape=(5, 2), dtype_kind="f")
    expect_true(got.dtype == torch.float32, "the predicted noise must be float32", f"got dtype {got.dtype}")


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_denoiser_parameter_names(submission):
    """Denoiser(2, 32)'s state dict has the handout's names and shapes (net.0 … net.6)"""
    state = submission.driver("state_dict", module(submission, submission.diffusion.Denoiser(2, 32), "Denoiser(2, 32)"))
    expect_equal(sorted(state), sorted(DENOISER_SHAPES), "the state dict's names")
    for name, shape in DENOISER_SHAPES.items():
        expect_array(state[name], name, shape=shape)


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_denoiser_depends_on_time(submission):
    """Denoiser's output for the same point differs between two timesteps"""
    submission.driver("set_seed", 0)
    model = module(submission, submission.diffusion.Denoiser(2, 32), "Denoiser(2, 32)")
    got = submission.driver("denoiser_output", model, torch.ones((2, 2)), steps([3, 60]))
    expect_array(got, "the predicted noise", shape=(2, 2), dtype_kind="f")
    expect_true(not torch.equal(got[0], got[1]), "the output does not depend on t: feed timestep_embedding "
                "(t, hidden) to the network with the point")


# --- Task 6: diffusion_loss -----------------------------------------------------------------

NOISE = t64([[1.0, 2.0], [3.0, 0.0]])


def _loss(submission, params):
    return submission.driver("stand_in_loss", "diffusion", params, t64([[0.5, -1.0], [2.0, 1.0]]), steps([0, 2]),
                             NOISE, ALPHA_BAR)


@pytest.mark.task(6)
@pytest.mark.builds_on(2)
@pytest.mark.points(1)
def test_loss_is_a_scalar_tensor(submission):
    """diffusion_loss returns a 0-d tensor"""
    loss = _loss(submission, stand_in())["loss"]
    expect_true(type(loss) is torch.Tensor and loss.dim() == 0, "the loss must be a 0-d tensor",
                f"got {loss!r:.100}")


@pytest.mark.task(6)
@pytest.mark.builds_on(2)
@pytest.mark.points(1)
def test_loss_of_a_zero_model(submission):
    """with a model that predicts 0, the loss is the mean of ε²: (1 + 4 + 9 + 0) / 4 = 3.5"""
    expect_close(_loss(submission, stand_in())["loss"], torch.tensor(3.5, dtype=F64), "the loss" + USES_Q_SAMPLE)


@pytest.mark.task(6)
@pytest.mark.builds_on(2)
@pytest.mark.points(1)
def test_loss_has_gradients(submission):
    """diffusion_loss's gradients reach the model's parameters"""
    grads = _loss(submission, stand_in(bias=[0.5, 0.5]))["grads"]
    expect_true(all(grads[name] is not None for name in grads), "no gradient reached the model's parameters: "
                "compute the loss from the model's output with torch operations")


# --- Task 7: p_sample_step ------------------------------------------------------------------

XT = t64([[1.0, -1.0], [0.5, 2.0]])
Z = t64([[0.3, -0.2], [1.0, 0.0]])


@pytest.mark.task(7)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_step_shape_and_dtype(submission):
    """p_sample_step returns x_(t-1) of x_t's shape and dtype"""
    got = with_stand_in(submission, "p_sample_step", stand_in(), XT, 1, BETAS, Z)
    expect_float64(got, "x_(t-1)", (2, 2))


@pytest.mark.task(7)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_step_at_t0_has_no_noise(submission):
    """p_sample_step at t = 0 with a model that predicts 0: x_t / √α_0, no noise"""
    got = with_stand_in(submission, "p_sample_step", stand_in(), XT, 0, BETAS, Z)
    expect_close(got, XT / math.sqrt(0.9), "x_(t-1) at t = 0" + NEEDS_ALPHA_BARS)


@pytest.mark.task(7)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_step_small_example(submission):
    """p_sample_step at t = 1 with a model that predicts 0: x_t / √α_1 + √β̃_1 · noise"""
    got = with_stand_in(submission, "p_sample_step", stand_in(), XT, 1, BETAS, Z)
    expect_close(got, XT / math.sqrt(0.5) + math.sqrt(0.05 / 0.55) * Z, "x_(t-1) at t = 1" + NEEDS_ALPHA_BARS)


@pytest.mark.task(7)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_step_uses_the_model(submission):
    """p_sample_step subtracts β_t / √(1 − ᾱ_t) · ε̂ (ε̂ = (1, 0) here) before dividing by √α_t"""
    got = with_stand_in(submission, "p_sample_step", stand_in(bias=[1.0, 0.0]), XT, 0, BETAS, Z)
    eps = t64([[1.0, 0.0], [1.0, 0.0]])
    expect_close(got, (XT - 0.1 / math.sqrt(0.1) * eps) / math.sqrt(0.9), "x_(t-1) at t = 0" + NEEDS_ALPHA_BARS)


# --- Task 8: ddim_step ----------------------------------------------------------------------

ALPHA_BAR_3 = t64([0.9, 0.5, 0.2])


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_ddim_shape_and_dtype(submission):
    """ddim_step returns x_(t_prev) of x_t's shape and dtype"""
    got = with_stand_in(submission, "ddim_step", stand_in(), XT, 2, 0, ALPHA_BAR_3)
    expect_float64(got, "x_(t_prev)", (2, 2))


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_ddim_zero_model(submission):
    """ddim_step with a model that predicts 0: x_t · √(ᾱ_(t_prev) / ᾱ_t); to t_prev = −1, x_t / √ᾱ_t"""
    got = with_stand_in(submission, "ddim_step", stand_in(), XT, 2, 0, ALPHA_BAR_3)
    expect_close(got, XT * math.sqrt(0.9 / 0.2), "x_(t_prev) from t = 2 to 0")
    got = with_stand_in(submission, "ddim_step", stand_in(), XT, 1, -1, ALPHA_BAR_3)
    expect_close(got, XT / math.sqrt(0.5), "x_(t_prev) from t = 1 to -1")


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_ddim_is_deterministic(submission):
    """ddim_step gives the same result twice"""
    params = stand_in(weight=[[0.5, 0.0], [0.1, 0.4]], bias=[0.2, -0.1], time_weight=[1.0, 1.0])
    first = with_stand_in(submission, "ddim_step", params, XT, 2, 0, ALPHA_BAR_3)
    again = with_stand_in(submission, "ddim_step", params, XT, 2, 0, ALPHA_BAR_3)
    expect_float64(first, "x_(t_prev)", (2, 2))
    expect_true(torch.equal(first, again), "two calls with the same inputs gave different results")


# --- Task 9: sample -------------------------------------------------------------------------


@pytest.mark.task(9)
@pytest.mark.builds_on(7)
@pytest.mark.points(1)
def test_sample_shape_and_dtype(submission):
    """sample(model, 7, betas) returns (7, model.data_dim) float32"""
    got = with_stand_in(submission, "sample", stand_in(3), 7, t64(np.linspace(0.01, 0.2, 10)), seed=0)
    expect_array(got, "the samples", shape=(7, 3), dtype_kind="f")
    expect_true(got.dtype == torch.float32, "the samples must be float32", f"got dtype {got.dtype}")


@pytest.mark.task(9)
@pytest.mark.builds_on(7)
@pytest.mark.points(1)
def test_sample_is_seeded(submission):
    """sample with the same seed gives the same points"""
    betas = t64(np.linspace(0.01, 0.2, 10))
    first = with_stand_in(submission, "sample", stand_in(), 5, betas, seed=3)
    again = with_stand_in(submission, "sample", stand_in(), 5, betas, seed=3)
    expect_array(first, "the samples", shape=(5, 2), dtype_kind="f")
    expect_true(bool(torch.isfinite(first).all()), "the samples contain NaN or infinity" + USES_P_SAMPLE_STEP)
    expect_true(torch.equal(first, again), "two calls with seed 3 gave different points" + USES_P_SAMPLE_STEP)


# --- Task 10: train_diffusion ---------------------------------------------------------------


@pytest.fixture(scope="module")
def small_run(submission):
    """A short training run: 20 steps, T = 10, on 64 moons."""
    X, _ = moons(64, seed=1)
    return results(submission.diffusion.train_diffusion(torch.from_numpy(X).float(), steps=20, T=10, seed=0), 2,
                   "train_diffusion")


@pytest.mark.task(10)
@pytest.mark.builds_on(1, 2, 4, 5, 6)
@pytest.mark.points(1)
def test_train_returns_model_and_betas(small_run):
    """train_diffusion returns (model, betas) with betas (T,) float64"""
    expect_float64(small_run[1], "betas", (10,))


@pytest.mark.task(10)
@pytest.mark.builds_on(1, 2, 4, 5, 6)
@pytest.mark.points(1)
def test_trained_model_predicts_noise(submission, small_run):
    """the trained model maps 5 points and timesteps to (5, 2) predicted noise"""
    model = module(submission, small_run[0], "the trained model")
    got = submission.driver("denoiser_output", model, torch.randn((5, 2)), steps([0, 2, 4, 6, 9]))
    expect_array(got, "the predicted noise", shape=(5, 2), dtype_kind="f")


@pytest.mark.task(10)
@pytest.mark.builds_on(1, 2, 4, 5, 6)
@pytest.mark.points(1)
def test_trained_model_is_a_denoiser(submission, small_run):
    """the trained model is a Denoiser for 2-D points (its state dict has the handout's names)"""
    state = submission.driver("state_dict", module(submission, small_run[0], "the trained model"))
    expect_equal(sorted(state), sorted(DENOISER_SHAPES), "the trained model's state dict names")
