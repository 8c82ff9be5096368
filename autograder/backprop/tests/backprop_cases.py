"""Week 2's hidden inputs and the judging steps the hidden tests share.

Seeds follow one scheme, so none is reused by accident: 1xx for task 1, 2xx for task 2, and so on;
every multi-case test's cases are defined here. Failure messages name the check and what differed,
never an expected value or an input: the checks in :mod:`coursekit.checks` keep values in their
``detail``, which hidden tests do not show.
"""

from __future__ import annotations

from typing import Any, Sequence

import backprop_oracle as oracle
import numpy as np

from coursekit import tolerances
from coursekit.checks import GradeFailure, expect_array, expect_close, expect_true

# --- tolerances (derived from coursekit.tolerances; the reasons beside them) ------------------

F64 = tolerances.for_dtype(np.dtype(np.float64))
#: The relative error below which a gradient check passes (the handout's rule of thumb).
GRADCHECK_PASSES = tolerances.GRADCHECK_RELATIVE_ERROR
#: Initialization statistics over at least 60,000 draws: the sample variance is within 1 % of the
#: true one (standard error below 0.6 %), so 5 % is about ten standard errors, and a wrong fan
#: (LeCun's 1/fan_in for He's 2/fan_in, or fan_out for fan_in) is off by 50 % or more.
VARIANCE_RTOL = 0.05
#: The mean of the draws, in units of the true standard deviation (about 5 standard errors).
MEAN_ATOL_IN_STD = 0.02
#: Share of normal draws within one standard deviation: 0.6827 (standard error below 0.002).
NORMAL_WITHIN_ONE_STD = (0.6827, 0.01)

# --- seeds and cases ------------------------------------------------------------------------

#: (fan_in, fan_out, seed) of the initialization statistics.
INIT_CASES = [(400, 300, 101), (1000, 60, 102), (50, 2000, 103)]
#: (N, in, out, seed) of Linear layers; N = 1 is a batch of one.
LINEAR_CASES = [(5, 3, 4, 201), (1, 6, 2, 202), (16, 10, 7, 203), (3, 1, 1, 204), (8, 5, 1, 205)]
#: (shape, seed) of activation inputs; (1, 3) is a batch of one, and "any shape" includes 1-D and 3-D.
ACTIVATION_CASES = [((4, 5), 301), ((1, 3), 302), ((7, 1), 303), ((2, 3, 4), 304), ((6,), 305)]
#: (shape, seed) of MSE predictions and targets.
MSE_CASES = [((5, 3), 401), ((10, 1), 402), ((4, 7), 403)]
MSE_EDGE_CASES = [((6,), 404), ((1, 4), 405), ((1,), 406)]
#: (N, C, seed) of logits and labels.
CE_CASES = [(6, 4, 501), (20, 10, 502), (3, 2, 503), (1, 5, 504)]
#: Networks: (spec, N, seed); the Linear layers' weights are drawn from the seed.
NETWORK_CASES = [
    ([["Linear", 4, 6], ["ReLU"], ["Linear", 6, 3]], 5, 601),
    ([["Linear", 3, 5], ["Tanh"], ["Linear", 5, 5], ["Sigmoid"], ["Linear", 5, 2]], 1, 602),
    ([["Linear", 6, 4], ["ReLU"], ["Linear", 4, 4], ["Tanh"], ["Linear", 4, 1]], 9, 603),
]
#: Shapes of the parameter arrays an optimizer steps: a matrix, a vector, a single number, 3-D.
PARAM_SHAPES = [(3, 4), (4,), (1,), (2, 2, 3)]
OPTIMIZER_STEPS = 10
#: (hyperparameters, seed) of ten-step trajectories.
SGD_PLAIN = [({"lr": 0.1}, 701), ({"lr": 0.01}, 702)]
SGD_MOMENTUM = [({"lr": 0.05, "momentum": 0.9}, 703), ({"lr": 0.1, "momentum": 0.5}, 704)]
SGD_DECAY = [({"lr": 0.1, "weight_decay": 0.1}, 705), ({"lr": 0.05, "weight_decay": 0.01}, 706)]
SGD_MOMENTUM_DECAY = [({"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}, 707),
                      ({"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}, 708)]
ADAM_DEFAULT = [({"lr": 0.01}, 801), ({"lr": 0.1}, 802)]
ADAM_BETAS = [({"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3}, 803),
              ({"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}, 804)]
ADAM_DECAY = [({"lr": 0.01, "weight_decay": 0.1}, 805), ({"lr": 0.05, "weight_decay": 0.01}, 806)]
#: Known functions (see coursekit.worker.drivers_backprop) for central differences at a given eps.
CENTRAL_CASES = [("cubic", (5,), 1e-3, 901), ("sin_cos", (3, 4), 1e-3, 902),
                 ("tanh_weighted", (2, 3), 1e-4, 903), ("log_sum_exp", (6,), 1e-3, 904)]
#: Known functions for the default eps against the exact gradient.
DEFAULT_EPS_CASES = [("quadratic_form", (5,), 911), ("sum_of_squares", (2, 3), 912),
                     ("log_sum_exp", (4,), 913)]
#: Known functions whose gradient entries are all of order 1 (so a relative error is meaningful).
FLAG_CASES = [("sum_of_squares", (6,), 921), ("log_sum_exp", (5,), 922), ("sum_of_squares", (2, 4), 923)]
#: Training runs of the handout (the thresholds are in week.toml).
DIGITS_RUN = {"hidden": (128, 64), "epochs": 30, "lr": 0.1, "seed": 0}
SPIRAL_TRAIN = {"n_per_class": 200, "n_classes": 2, "noise": 0.05, "seed": 1}
SPIRAL_TEST = {"n_per_class": 150, "n_classes": 2, "noise": 0.05, "seed": 2}
SPIRAL_RUN = {"hidden": (64, 64), "epochs": 100, "lr": 0.05, "seed": 0}


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def network_weights(spec: list, seed: int) -> list[list[np.ndarray]]:
    """``[W, b]`` for every Linear layer of ``spec``, drawn from ``seed``."""
    g = rng(seed)
    return [[g.normal(0.0, 0.8, size=(e[1], e[2])), g.normal(0.0, 0.5, size=e[2])]
            for e in spec if e[0] == "Linear"]


def optimizer_problem(seed: int, steps: int = OPTIMIZER_STEPS, scales: Sequence[float] | None = None
                      ) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Random parameters of :data:`PARAM_SHAPES` and ``steps`` random gradients for each."""
    g = rng(seed)
    scales = scales or [1.0] * len(PARAM_SHAPES)
    params = [g.standard_normal(s) for s in PARAM_SHAPES]
    grads = [[scale * g.standard_normal(s) for s, scale in zip(PARAM_SHAPES, scales)] for _ in range(steps)]
    return params, grads


def known_input(function: str, shape: tuple, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A point ``x`` and the constants of a known function, from ``seed``."""
    g = rng(seed)
    x = g.uniform(1.0, 2.0, size=shape) * g.choice([-1.0, 1.0], size=shape)  # |x| in [1, 2]
    if function == "tanh_weighted":
        return x, [g.standard_normal(shape)]
    if function == "quadratic_form":
        B = g.standard_normal((shape[0], shape[0]))
        return x, [B + B.T]
    return x, []


# --- judging helpers ------------------------------------------------------------------------


def expect_float_array(got: Any, shape: tuple, what: str) -> np.ndarray:
    """``got`` must be a float array of ``shape`` with finite entries."""
    arr = expect_array(got, what, shape=shape, dtype_kind="f")
    expect_true(bool(np.all(np.isfinite(arr))), f"{what}: contains NaN or infinity")
    return arr


def run_layer(bp: Any, kind: str, x: np.ndarray, dout: np.ndarray, W: np.ndarray | None = None,
              b: np.ndarray | None = None) -> dict:
    """One forward and one backward pass of a fresh student layer; for a Linear layer with the
    weights ``W`` and ``b``, also its ``dW`` and ``db`` afterwards."""
    if kind == "Linear":
        layer = bp.Linear(W.shape[0], W.shape[1])
        layer.W, layer.b = W, b
    else:
        layer = getattr(bp, kind)()
    result = {"out": layer.forward(x), "dx": layer.backward(dout)}
    if kind == "Linear":
        result["dW"], result["db"] = layer.dW, layer.db
    return result


def first_difference(got: list, want: list, tol: tolerances.Tolerance) -> tuple[int, int] | None:
    """``(step, array)`` of the first parameter that differs in two trajectories, or None."""
    for s, (gs, ws) in enumerate(zip(got, want), start=1):
        for i, (g, w) in enumerate(zip(gs, ws)):
            if g.shape != w.shape or not np.allclose(g, w, rtol=tol.rtol, atol=tol.atol):
                return s, i
    return None


def check_trajectory(submission: Any, optimizer: str, hyper: dict, params: list, grads: list,
                     what: str) -> None:
    """The student's optimizer stepped ``len(grads)`` times in the worker against torch.optim's."""
    got = submission.driver("optimizer_trajectory", optimizer, params, grads, **hyper)
    want = oracle.trajectory(optimizer, params, grads, **hyper)
    expect_true(type(got) is list and len(got) == len(want)
                and all(type(step) is list and len(step) == len(params) for step in got),
                f"{what}: the driver's trajectory is malformed")
    for s, step in enumerate(got, start=1):
        for i, p in enumerate(step):
            expect_array(p, f"{what}: parameter {i + 1} after step {s}", shape=params[i].shape,
                         dtype_kind="f")
    if all(np.array_equal(p, p0) for step in got for p, p0 in zip(step, params)):
        raise GradeFailure(f"{what}: step() did not change the parameter arrays; update them in place "
                           "(p -= ...), do not rebind the name")
    where = first_difference(got, want, F64)
    if where is not None:
        s, i = where
        expect_close(got[s - 1][i], want[s - 1][i],
                     f"{what}: parameter {i + 1} after step {s} of {len(grads)}")
