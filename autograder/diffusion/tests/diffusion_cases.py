"""Week 7's hidden inputs and the judging steps the hidden tests share.

Seeds follow one scheme, so none is reused by accident: 1xx for task 1, 2xx for task 2, and so on.
Failure messages name the check and what differed, never an expected value or an input: the checks
in :mod:`coursekit.checks` keep values in their ``detail``, which hidden tests do not show.

Inputs travel to the student's code as torch tensors (float64 unless a test is about float32, int64
timesteps); results come back as tensors and are compared in numpy with the closed forms of
:mod:`diffusion_oracle`. Sampling steps and the loss get the public stand-in denoiser of
``drivers_diffusion`` (weights chosen here), so they are graded apart from the student's network.
"""

from __future__ import annotations

from typing import Any

import diffusion_oracle as oracle
import numpy as np
import torch

from coursekit.checks import GradeFailure, expect_array, expect_close
from coursekit.grading.client import ObjectProxy

MODULE = "diffusion"

# Feedback that names the upstream task where a function builds on another (the interface passes
# β, not ᾱ, so the posterior and the steps compute ᾱ themselves, usually with alpha_bars).
NEEDS_ALPHA_BARS = " (this needs ᾱ from β: if you use your alpha_bars and task 1 fails too, fix it first)"
USES_Q_SAMPLE = " (diffusion_loss noises x0 with your q_sample: if task 2 fails too, fix it first)"
USES_P_SAMPLE_STEP = " (sample runs your p_sample_step: if task 7 fails too, fix it first)"

# --- seeds and shapes -----------------------------------------------------------------------

#: Schedules of the forward-process tests: (kind, T, arguments).
SCHEDULES = {"linear": ("linear", 100, (1e-3, 0.2)), "linear1000": ("linear", 1000, (1e-4, 0.02)),
             "cosine": ("cosine", 100, (0.008,)), "cosine40": ("cosine", 40, (0.02,)),
             "linear50": ("linear", 50, (0.002, 0.3))}

#: Task 2/3 cases: (N, D, schedule, seed); timesteps are random, with 0 and T − 1 always present.
FORWARD_CASES = [(6, 2, "linear", 201), (5, 3, "cosine", 202), (1, 2, "linear1000", 203),
                 (8, 2, "cosine40", 204)]
POSTERIOR_CASES = [(6, 2, "linear", 301), (5, 3, "cosine", 302), (4, 2, "linear1000", 303),
                   (8, 2, "cosine40", 304)]

#: Task 7 cases: (N, D, schedule, t, seed).
STEP_LINEAR = [(6, 2, "linear", 57, 701), (4, 3, "linear", 1, 702), (5, 2, "linear1000", 640, 703)]
STEP_COSINE = [(6, 2, "cosine", 99, 711), (3, 2, "cosine40", 17, 712)]
STEP_FIRST = [(6, 2, "linear", 0, 721), (4, 3, "cosine", 0, 722)]

#: Task 8 cases: (N, D, schedule, t, t_prev, seed).
DDIM_CONSECUTIVE = [(6, 2, "linear", 40, 39, 801), (4, 3, "cosine", 99, 98, 802), (5, 2, "linear", 1, 0, 803)]
DDIM_STRIDED = [(6, 2, "linear", 90, 70, 811), (4, 3, "cosine", 99, 9, 812), (5, 2, "linear1000", 999, 899, 813),
                (3, 2, "cosine40", 25, 3, 814)]
DDIM_TO_DATA = [(6, 2, "linear", 30, -1, 821), (4, 2, "cosine", 99, -1, 822)]

#: Task 9 cases: (D, schedule, seed); the sampler draws SAMPLE_SIZE points with the stand-in.
SAMPLE_CASES = [(2, "linear50", 901), (3, "cosine40", 902)]
SAMPLE_SIZE = 20000

#: Task 10: the configured training run of the handout, on the moons drawn from a public seed.
TRAIN_RUN = {"steps": 3000, "T": 100, "seed": 0}
TRAIN_DATA = {"n": 4000, "noise": 0.05, "seed": 0}


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def tensor(a: Any) -> torch.Tensor:
    """A torch tensor of a numpy array (its dtype kept)."""
    return torch.from_numpy(np.ascontiguousarray(a))


def schedule(name: str) -> np.ndarray:
    """The β of a named schedule, float64 (T,)."""
    kind, T, args = SCHEDULES[name]
    return oracle.linear_betas(T, *args) if kind == "linear" else oracle.cosine_betas(T, *args)


def timesteps(n: int, T: int, g: np.random.Generator) -> np.ndarray:
    """(n,) int64 in 0 … T−1; with n ≥ 2 the first two are 0 and T − 1."""
    t = g.integers(0, T, n)
    t[:2] = [0, T - 1][:n]
    return t.astype(np.int64)


# --- judging helpers ------------------------------------------------------------------------

def result_array(got: Any, what: str, shape: tuple, float64: bool = True) -> np.ndarray:
    """A float array of ``shape`` (float64 when ``float64``), as numpy; fails with ``what`` otherwise."""
    arr = expect_array(got, what, shape=shape, dtype_kind="f")
    if float64 and arr.dtype != np.float64:
        raise GradeFailure(f"{what}: dtype {arr.dtype}, but float64 inputs must give a float64 result")
    return arr


def expect_finite(arr: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(arr)):
        raise GradeFailure(f"{what}: contains NaN or infinity")


def expect_module(submission: Any, obj: Any, what: str) -> Any:
    """``obj`` must be a torch module that lives in the worker (a handle); returns it."""
    if not (isinstance(obj, ObjectProxy) and submission.driver("is_module", obj) is True):
        raise GradeFailure(f"{what} must be a torch module (a subclass of nn.Module)")
    return obj


def stand_in(D: int, seed: int) -> dict[str, np.ndarray]:
    """Weights of the stand-in denoiser for a case."""
    return oracle.stand_in_params(D, rng(seed + 5000))


def sampling_stand_in(D: int, seed: int) -> dict[str, np.ndarray]:
    """Stand-in weights near a sensible denoiser (W close to the identity), so sampling stays stable."""
    g = rng(seed + 5000)
    return {"weight": 0.8 * np.eye(D) + 0.15 * g.standard_normal((D, D)), "bias": 0.3 * g.standard_normal(D),
            "time_weight": 0.5 * g.standard_normal(D)}


def step_case(case: tuple) -> tuple[dict, np.ndarray, int, np.ndarray, np.ndarray]:
    """``(params, xt, t, betas, noise)`` of a p_sample_step case."""
    N, D, name, t, seed = case
    g = rng(seed)
    return stand_in(D, seed), g.standard_normal((N, D)), t, schedule(name), g.standard_normal((N, D))


def check_step(submission: Any, case: tuple, what: str) -> None:
    """p_sample_step with the stand-in against the ancestral step in closed form."""
    params, xt, t, betas, noise = step_case(case)
    got = submission.driver("with_stand_in", MODULE, "p_sample_step", params, tensor(xt), t, tensor(betas),
                            tensor(noise))
    want = oracle.ancestral_step(oracle.stand_in_eps(params, xt, t), xt, t, betas, noise)
    expect_close(result_array(got, f"{what}: x_(t-1)", want.shape), want, f"{what}: x_(t-1)" + NEEDS_ALPHA_BARS)


def ddim_case(case: tuple) -> tuple[dict, np.ndarray, int, int, np.ndarray]:
    """``(params, xt, t, t_prev, alpha_bar)`` of a ddim_step case."""
    N, D, name, t, t_prev, seed = case
    return (stand_in(D, seed), rng(seed).standard_normal((N, D)), t, t_prev,
            oracle.cumulative_alphas(schedule(name)))


def ddim_result(submission: Any, case: tuple, what: str) -> np.ndarray:
    params, xt, t, t_prev, alpha_bar = ddim_case(case)
    got = submission.driver("with_stand_in", MODULE, "ddim_step", params, tensor(xt), t, t_prev,
                            tensor(alpha_bar))
    return result_array(got, f"{what}: x_(t_prev)", xt.shape)


def check_ddim(submission: Any, case: tuple, what: str) -> None:
    """ddim_step with the stand-in against the DDIM update in closed form."""
    params, xt, t, t_prev, alpha_bar = ddim_case(case)
    want = oracle.ddim(oracle.stand_in_eps(params, xt, t), xt, t, t_prev, alpha_bar)
    expect_close(ddim_result(submission, case, what), want, f"{what}: x_(t_prev)")
