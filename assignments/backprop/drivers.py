"""Week 2's drivers: run the student's layers, optimizers and gradient checker inside the worker.

Week 2's interfaces work in place (a layer writes its gradients into arrays it owns; an optimizer
changes the parameter arrays it was built over), which a grader cannot observe across the process
boundary, and the gradient checker takes a Python function, which cannot travel. These drivers do
those steps here, next to the student's objects, and return plain data (copies of arrays, flags).
The container (task 6) is driven with stand-in layers defined here, which are none of the tasks'
layers, so that it is graded apart from your layers. Nothing here is secret: the starter repository
ships this file.

The student module is always ``backprop``; the drivers reach it through ``server.module``.
"""

from __future__ import annotations

from typing import Any, Callable

MODULE = "backprop"
OPTIMIZERS = ("SGD", "Adam")


def _np():
    import numpy as np
    return np


def _copy(value: Any, what: str):
    """A float64 copy of an array the student's code produced (a clear error if it is none)."""
    np = _np()
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, got {type(value).__name__}")
    return np.array(value, dtype=np.float64, copy=True)


def _pairs(value: Any, what: str) -> list:
    """``parameters()``'s result as a list of (param, grad) array pairs, or a clear TypeError."""
    np = _np()
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{what} must return a list of (param, grad) pairs, got {type(value).__name__}")
    pairs = []
    for i, pair in enumerate(value):
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                and all(isinstance(a, np.ndarray) for a in pair)):
            raise TypeError(f"{what}: entry {i} is not a (param, grad) pair of numpy arrays")
        pairs.append((pair[0], pair[1]))
    return pairs


# --- initialization -------------------------------------------------------------------------

def call_with_rng(server: Any, attribute: str, seed: int, *args: Any, **kwargs: Any) -> Any:
    """``backprop.attribute(*args, rng=np.random.default_rng(seed), **kwargs)``.

    A generator cannot travel, so it is made here: ``call_with_rng("he_normal", 3, 64, 32)`` is
    ``he_normal(64, 32, rng=default_rng(3))``, and ``call_with_rng("Linear", 3, 64, 32)`` returns a
    ``Linear(64, 32, rng=default_rng(3))`` (as a handle).
    """
    function = getattr(server.module(MODULE), attribute)
    return function(*args, rng=_np().random.default_rng(seed), **kwargs)


# --- layers -------------------------------------------------------------------------------

def gradients_in_place(server: Any, layer: Any, x: Any, douts: list) -> dict:
    """Run ``forward(x)`` and ``backward(dout)`` on a Linear layer once per ``dout``; after each
    backward, read the gradients from the arrays ``layer.dW`` and ``layer.db`` held *before* the
    first pass.

    Returns ``{"grads": [[dW, db] per pass], "same_arrays": bool}``: the gradients as seen through
    the original arrays (what an optimizer built once sees), and whether ``layer.dW`` and
    ``layer.db`` are still those arrays at the end.
    """
    dW, db = layer.dW, layer.db
    _copy(dW, "Linear.dW")
    _copy(db, "Linear.db")
    grads = []
    for dout in douts:
        layer.forward(x)
        layer.backward(dout)
        grads.append([_copy(dW, "Linear.dW"), _copy(db, "Linear.db")])
    return {"grads": grads, "same_arrays": bool(layer.dW is dW and layer.db is db)}


def linear_parameters(server: Any, layer: Any, values: list) -> dict:
    """Write ``values`` (four arrays) into the arrays of the pairs ``layer.parameters()`` returns,
    in order, each into the array of its shape (``p[...] = v``); then return the layer's ``W``,
    ``dW``, ``b`` and ``db`` (copies). They hold ``values`` exactly when ``parameters()`` is
    ``[(W, dW), (b, db)]``, the layer's own arrays."""
    np = _np()
    pairs = _pairs(layer.parameters(), "Linear.parameters()")
    arrays = [a for pair in pairs for a in pair]
    for array, value in zip(arrays, values):
        value = np.asarray(value, dtype=np.float64)
        if array.shape == value.shape:
            array[...] = value
    return {name: _copy(getattr(layer, name), f"Linear.{name}") for name in ("W", "dW", "b", "db")}


# --- stand-in layers for the container ------------------------------------------------------
#
# Sequential (task 6) is tested with these layers, not with yours, so that a mistake in a layer
# costs only the layer's task. They are not the tasks' layers: an elementwise affine map with two
# parameter vectors, a layer that appends the squares of its inputs, and the softsign. Each keeps
# its gradients in arrays of its own, overwritten by every backward, as the handout's layers do;
# an input it cannot use gives NaN (so the container's mistake shows as wrong values).


def _nan(rows: int, width: int):
    return _np().full((max(int(rows), 1), width), float("nan"))


def _rows(value: Any) -> int:
    shape = getattr(value, "shape", ())
    return int(shape[0]) if len(shape) == 2 else 1


def _usable(value: Any, width: int | None = None) -> bool:
    np = _np()
    return (isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype.kind == "f"
            and (width is None or value.shape[1] == width))


class StandInScale:
    """``y = x · gain + shift`` per feature: x (N, width) → y (N, width); parameters ``gain`` and
    ``shift`` (width,), with their gradients ``dgain`` and ``dshift``."""

    def __init__(self, gain: Any, shift: Any):
        np = _np()
        self.gain = np.array(gain, dtype=np.float64).reshape(-1)
        self.shift = np.array(shift, dtype=np.float64).reshape(-1)
        self.dgain, self.dshift = np.zeros_like(self.gain), np.zeros_like(self.shift)
        self.seen = None

    def forward(self, x: Any) -> Any:
        if not _usable(x, self.gain.size):
            self.seen = None
            return _nan(_rows(x), self.gain.size)
        self.seen = x.copy()
        return self.seen * self.gain[None, :] + self.shift[None, :]

    def backward(self, dout: Any) -> Any:
        np = _np()
        if self.seen is None or not _usable(dout) or dout.shape != self.seen.shape:
            self.dgain.fill(float("nan"))
            self.dshift.fill(float("nan"))
            return _nan(_rows(dout), self.gain.size)
        self.dgain[...] = np.einsum("nd,nd->d", dout, self.seen)
        self.dshift[...] = np.einsum("nd->d", dout)
        return dout * self.gain[None, :]

    def parameters(self) -> list:
        return [(self.gain, self.dgain), (self.shift, self.dshift)]


class StandInWiden:
    """``y = [x, x²]``: x (N, D) → y (N, 2D), the inputs followed by their squares; no parameters."""

    def __init__(self):
        self.seen = None

    def forward(self, x: Any) -> Any:
        np = _np()
        if not _usable(x):
            self.seen = None
            return _nan(_rows(x), 2)
        self.seen = x.copy()
        return np.concatenate([self.seen, self.seen ** 2], axis=1)

    def backward(self, dout: Any) -> Any:
        if self.seen is None or not _usable(dout) or dout.shape != (self.seen.shape[0], 2 * self.seen.shape[1]):
            return _nan(_rows(dout), 1 if self.seen is None else self.seen.shape[1])
        width = self.seen.shape[1]
        return dout[:, :width] + 2.0 * self.seen * dout[:, width:]

    def parameters(self) -> list:
        return []


class StandInSoftsign:
    """``y = x / (1 + |x|)`` elementwise, (N, D) → (N, D); no parameters."""

    def __init__(self):
        self.seen = None

    def forward(self, x: Any) -> Any:
        np = _np()
        if not _usable(x):
            self.seen = None
            return _nan(_rows(x), 1)
        self.seen = x.copy()
        return self.seen / (1.0 + np.abs(self.seen))

    def backward(self, dout: Any) -> Any:
        np = _np()
        if self.seen is None or not _usable(dout) or dout.shape != self.seen.shape:
            return _nan(_rows(dout), 1 if self.seen is None else self.seen.shape[1])
        return dout / (1.0 + np.abs(self.seen)) ** 2

    def parameters(self) -> list:
        return []


STAND_INS = {"Scale": StandInScale, "Widen": StandInWiden, "Softsign": StandInSoftsign}


def stand_in(server: Any, kind: str, *params: Any) -> Any:
    """A stand-in layer (returned as a handle): ``stand_in("Scale", gain, shift)``,
    ``stand_in("Widen")`` or ``stand_in("Softsign")``."""
    if kind not in STAND_INS:
        raise ValueError(f"unknown stand-in layer {kind!r}")
    return STAND_INS[kind](*params)


def stand_in_network(server: Any, spec: list, params: list, x: Any, douts: list,
                     second: list | None = None) -> list:
    """The student's ``Sequential`` of stand-in layers: ``spec`` lists ``["Scale"]``,
    ``["Widen"]`` or ``["Softsign"]``, and ``params`` holds ``[gain, shift]`` for each Scale, in
    order. One call of ``parameters()`` is made before the first pass, as an optimizer built once
    makes it; for each ``dout``: forward(x), backward(dout), then copies of the gradient arrays of
    those pairs. With ``second`` (arrays, one per pair), after the first pass each pair's parameter
    array is overwritten through the pair with its value (``p[...] = value``, where the shapes
    agree), so the next pass shows whether the pairs are the layers' own arrays, in order.

    Returns one ``{"out", "dx", "grads"}`` per ``dout``.
    """
    np = _np()
    given = iter(params)
    layers = []
    for entry in spec:
        kind = str(entry[0])
        if kind not in STAND_INS:
            raise ValueError(f"unknown stand-in layer {kind!r}")
        layers.append(StandInScale(*next(given)) if kind == "Scale" else STAND_INS[kind]())
    model = server.module(MODULE).Sequential(*layers)
    pairs = _pairs(model.parameters(), "Sequential.parameters()")
    passes = []
    for k, dout in enumerate(douts):
        if k == 1 and second is not None:
            for (param, _), value in zip(pairs, second):
                value = np.asarray(value, dtype=np.float64)
                if param.shape == value.shape:
                    param[...] = value
        out = _copy(model.forward(np.array(x, dtype=np.float64)), "Sequential.forward's result")
        dx = _copy(model.backward(np.array(dout, dtype=np.float64)), "Sequential.backward's result")
        passes.append({"out": out, "dx": dx, "grads": [_copy(g, "a gradient in parameters()") for _, g in pairs]})
    return passes


# --- optimizers -----------------------------------------------------------------------------

def optimizer_trajectory(server: Any, optimizer: str, params: list, grads: list, **hyper: Any) -> list:
    """Build ``backprop.<optimizer>([(p, g), ...], **hyper)`` over float64 copies of ``params`` and
    zero gradient arrays made here; then for each entry of ``grads`` (one list of arrays per
    step) write those gradients into the gradient arrays in place and call ``step()``.

    Returns the trajectory: after each step, copies of the parameter arrays the optimizer was built
    over (so a step that rebinds instead of updating in place shows as no change).
    """
    np = _np()
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}")
    ps = [np.array(p, dtype=np.float64) for p in params]
    gs = [np.zeros_like(p) for p in ps]
    opt = getattr(server.module(MODULE), optimizer)(list(zip(ps, gs)), **hyper)
    trajectory = []
    for step in grads:
        for g, new in zip(gs, step):
            g[...] = new
        opt.step()
        trajectory.append([p.copy() for p in ps])
    return trajectory


# --- gradient checking ----------------------------------------------------------------------

def _sum_of_squares(x, *consts):
    return float((x * x).sum())


def _cubic(x, *consts):
    return float((x ** 3).sum())


def _log_sum_exp(x, *consts):
    np = _np()
    m = float(x.max())
    return m + float(np.log(np.exp(x - m).sum()))


def _sin_cos(x, *consts):
    np = _np()
    return float((np.sin(x) * np.cos(2.0 * x)).sum())


def _tanh_weighted(x, weights, *consts):
    np = _np()
    return float((np.tanh(x) * weights).sum())


def _quadratic_form(x, A, *consts):
    return float(0.5 * x @ (A @ x))


#: Known scalar functions of an array, by name: f(x, *consts) with constant arrays sent as data.
KNOWN_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sum_of_squares": _sum_of_squares,  # Σ x²
    "cubic": _cubic,  # Σ x³
    "log_sum_exp": _log_sum_exp,  # log Σ exp(x)
    "sin_cos": _sin_cos,  # Σ sin(x) cos(2x)
    "tanh_weighted": _tanh_weighted,  # Σ tanh(x) · weights (weights shaped like x)
    "quadratic_form": _quadratic_form,  # ½ xᵀ A x (x 1-D)
}


def numerical_gradient_of(server: Any, function: str, x: Any, consts: list | None = None,
                          eps: float | None = None) -> dict:
    """``backprop.numerical_gradient(f, x, eps)`` for the known function ``function`` (see
    :data:`KNOWN_FUNCTIONS`); without ``eps`` the student's default is used.

    Returns ``{"grad": the result, "x_after": x after the call, "calls": how often f was called}``.
    """
    np = _np()
    if function not in KNOWN_FUNCTIONS:
        raise ValueError(f"unknown function {function!r}")
    known, constants = KNOWN_FUNCTIONS[function], [np.asarray(c, dtype=np.float64) for c in consts or []]
    calls = 0

    def f(z):
        nonlocal calls
        calls += 1
        return known(np.asarray(z, dtype=np.float64), *constants)

    x = np.array(x, dtype=np.float64)
    check = server.module(MODULE).numerical_gradient
    grad = check(f, x) if eps is None else check(f, x, eps)
    return {"grad": grad, "x_after": x, "calls": calls}


REGISTRY: dict[str, Callable[..., Any]] = {
    "call_with_rng": call_with_rng,
    "gradients_in_place": gradients_in_place,
    "linear_parameters": linear_parameters,
    "stand_in": stand_in,
    "stand_in_network": stand_in_network,
    "optimizer_trajectory": optimizer_trajectory,
    "numerical_gradient_of": numerical_gradient_of,
}
