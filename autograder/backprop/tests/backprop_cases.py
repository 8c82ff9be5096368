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
from coursekit.checks import GradeFailure, as_scalar, expect_array, expect_close, expect_true, failing

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
#: Networks of the drivers' stand-in layers for the container: (input width, spec, N, seed); each
#: Scale's gain and shift are drawn from the seed (see ``stand_in_params``).
STAND_IN_CASES = [
    (4, [["Scale"], ["Softsign"], ["Widen"], ["Scale"]], 5, 601),
    (3, [["Scale"], ["Widen"], ["Softsign"], ["Scale"], ["Widen"], ["Scale"]], 1, 602),
    (2, [["Softsign"], ["Scale"], ["Widen"], ["Widen"], ["Scale"], ["Softsign"]], 9, 603),
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


def stand_in_params(width: int, spec: list, seed: int) -> tuple[list[list[np.ndarray]], int]:
    """``[gain, shift]`` for every Scale of ``spec`` on inputs of ``width`` features, drawn from
    ``seed``, and the network's output width."""
    g = rng(seed)
    params = []
    for entry in spec:
        if entry[0] == "Scale":
            params.append([g.normal(1.0, 0.5, size=width), g.normal(0.0, 0.5, size=width)])
        elif entry[0] == "Widen":
            width *= 2
    return params, width


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


def check_linear_parameters(submission: Any, what: str) -> None:
    """``Linear.parameters()`` is ``[(W, dW), (b, db)]``, the layer's own arrays: values written
    through its pairs (by the ``linear_parameters`` driver) must land in ``W``, ``dW``, ``b``, ``db``."""
    g = rng(212)
    values = [g.standard_normal((3, 2)), g.standard_normal((3, 2)), g.standard_normal(2), g.standard_normal(2)]
    got = submission.driver("linear_parameters", submission.backprop.Linear(3, 2), values)
    names = ("W", "dW", "b", "db")
    expect_true(type(got) is dict and all(type(got.get(n)) is np.ndarray for n in names),
                f"{what}: the report from your code's process is malformed")
    for name, want in zip(names, values):
        expect_true(got[name].shape == want.shape and bool(np.array_equal(got[name], want)),
                    f"{what} is not [(W, dW), (b, db)], the layer's own arrays in this order: a value "
                    f"written through its pairs did not reach {name}")


def check_stand_in_network(submission: Any, case: tuple, what: str) -> None:
    """One forward and backward pass of the student's Sequential of stand-in layers: out, dx and
    the gradients read through one ``parameters()`` call, against the grader's network."""
    width, spec, N, seed = case
    params, out_width = stand_in_params(width, spec, seed)
    g = rng(seed + 100)
    x, dout = g.standard_normal((N, width)), g.standard_normal((N, out_width))
    passes = submission.driver("stand_in_network", spec, params, x, [dout])
    expect_true(type(passes) is list and len(passes) == 1 and type(passes[0]) is dict,
                f"{what}: the report from your code's process is malformed")
    out, dx, grads = oracle.stand_in_network(spec, params, x, dout)
    got = passes[0]
    expect_float_array(got.get("out"), out.shape, f"{what}: out")
    expect_close(got["out"], out, f"{what}: out")
    expect_float_array(got.get("dx"), dx.shape, f"{what}: dx")
    expect_close(got["dx"], dx, f"{what}: dx")
    expect_true(type(got.get("grads")) is list and len(got["grads"]) == len(grads),
                f"{what}: parameters() lists the wrong number of (param, grad) pairs")
    for i, (g_, w) in enumerate(zip(got["grads"], grads), start=1):
        expect_float_array(g_, w.shape, f"{what}: gradient {i} in parameters()")
        expect_close(g_, w, f"{what}: gradient {i} in parameters()")


def training_upstream(submission: Any, week: Any) -> list[str]:
    """The parts of other tasks that ``train_mlp`` runs and that fail a quick check of their own
    (one small case each, against the oracle), as feedback lines: ``Task 2 (Linear layer):
    Linear.backward``. The training tests name them when they fail (``coursekit.checks.upstream``)."""
    bp = submission.backprop
    W, b = rng(1001).standard_normal((4, 3)), rng(1002).standard_normal(3)
    x, dout = rng(1003).standard_normal((5, 4)), rng(1004).standard_normal((5, 3))
    out, dx, dW, db = oracle.linear(W, b, x, dout)

    def linear(check_backward: bool) -> None:
        layer = bp.Linear(4, 3)
        layer.W, layer.b = W, b
        got = layer.forward(x)
        if not check_backward:
            expect_float_array(got, out.shape, "forward")
            expect_close(got, out, "forward")
            return
        expect_close(expect_float_array(layer.backward(dout), dx.shape, "dx"), dx, "dx")
        # dW and db as an optimizer sees them: through the arrays a fresh layer held before backward
        layer = bp.Linear(4, 3)
        layer.W, layer.b = W, b
        report = submission.driver("gradients_in_place", layer, x, [dout])
        expect_true(type(report) is dict and type(report.get("grads")) is list and len(report["grads"]) == 1,
                    "the report from your code's process is malformed")
        for got_part, want, name in zip(report["grads"][0], (dW, db), ("dW", "db")):
            expect_float_array(got_part, want.shape, name)
            expect_close(got_part, want, name)

    def init() -> None:
        expect_float_array(submission.driver("call_with_rng", "he_normal", 1005, 4, 3), (4, 3), "he_normal")

    def relu() -> None:
        g = rng(1006)
        h, dh = g.standard_normal((3, 4)), g.standard_normal((3, 4))
        got = run_layer(bp, "ReLU", h, dh)
        want_out, want_dx = oracle.activation("ReLU", h, dh)
        expect_close(got["out"], want_out, "ReLU.forward")
        expect_close(got["dx"], want_dx, "ReLU.backward")

    def cross_entropy() -> None:
        logits, labels = rng(1007).standard_normal((6, 4)), np.arange(6) % 4
        loss = bp.SoftmaxCrossEntropy()
        value = loss.forward(logits, labels)
        want, dlogits = oracle.cross_entropy(logits, labels)
        expect_close(as_scalar(value, "the loss"), want, "the loss")
        expect_close(loss.backward(), dlogits, "the gradient")

    def sgd() -> None:
        params, grads = optimizer_problem(1008, steps=3)
        check_trajectory(submission, "SGD", {"lr": 0.1, "momentum": 0.9}, params, grads, "SGD")

    def label(task: int, part: str) -> str:
        return f"Task {task} ({week.task(task).title}): {part}"

    return failing([
        (label(1, "he_normal, which Linear draws its weights with"), init),
        (label(2, "Linear.forward"), lambda: linear(False)),
        (label(2, "Linear.backward"), lambda: linear(True)),
        (label(2, "Linear.parameters()"), lambda: check_linear_parameters(submission, "Linear.parameters()")),
        (label(3, "ReLU"), relu),
        (label(5, "SoftmaxCrossEntropy"), cross_entropy),
        (label(6, "Sequential"), lambda: check_stand_in_network(submission, STAND_IN_CASES[0], "Sequential")),
        (label(7, "SGD with momentum"), sgd),
    ])
