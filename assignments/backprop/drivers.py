"""Week 2's drivers: run the student's layers, optimizers and gradient checker inside the worker.

Week 2's interfaces work in place (a layer writes its gradients into arrays it owns; an optimizer
changes the parameter arrays it was built over), which a grader cannot observe across the process
boundary, and the gradient checker takes a Python function, which cannot travel. These drivers do
those steps here, next to the student's objects, and return plain data (copies of arrays, flags).
Nothing here is secret: the starter repository ships this file.

The student module is always ``backprop``; the drivers reach it through ``server.module``.
"""

from __future__ import annotations

from typing import Any, Callable

MODULE = "backprop"
LAYERS = ("Linear", "ReLU", "Sigmoid", "Tanh")
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


def _build(module: Any, spec: list, weights: list) -> list:
    """The student's layers for ``spec`` (``["Linear", in, out]``, ``["ReLU"]``, …), the Linear
    layers given the weights ``weights[k] = [W, b]`` in order."""
    np = _np()
    layers, given = [], iter(weights)
    for entry in spec:
        kind = str(entry[0])
        if kind not in LAYERS:
            raise ValueError(f"unknown layer {kind!r}")
        if kind == "Linear":
            layer = module.Linear(int(entry[1]), int(entry[2]))
            W, b = next(given)
            layer.W, layer.b = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)
        else:
            layer = getattr(module, kind)()
        layers.append(layer)
    return layers


def sequential_pass(server: Any, spec: list, weights: list, x: Any, douts: list) -> dict:
    """Run the same network twice: as the student's ``Sequential`` of the student's layers, and as
    those layers called one by one (forward first to last, backward last to first).

    For each ``dout``: forward(x), then backward(dout); the parameter gradients are read from the
    pairs returned by one call of ``parameters()`` made before the first pass (for the layers one by
    one: each layer's own ``parameters()``), as an optimizer built once would read them.

    Returns ``{"sequential": run, "layers": run, "pairs_are_layer_arrays": bool}`` where a run is
    ``{"out": [...], "dx": [...], "grads": [[g, ...] per pass]}`` and the flag says whether the
    Sequential's pairs are exactly each layer's ``(W, dW), (b, db)`` objects, in layer order.
    """
    module = server.module(MODULE)

    def run(forward: Callable, backward: Callable, pairs: list) -> dict:
        result: dict = {"out": [], "dx": [], "grads": []}
        for dout in douts:
            result["out"].append(_copy(forward(x), "forward's result"))
            result["dx"].append(_copy(backward(dout), "backward's result"))
            result["grads"].append([_copy(g, "a gradient in parameters()") for _, g in pairs])
        return result

    layers = _build(module, spec, weights)
    model = module.Sequential(*layers)
    pairs = _pairs(model.parameters(), "Sequential.parameters()")
    expected = [(a, b) for layer in layers if type(layer).__name__ == "Linear"
                for a, b in ((layer.W, layer.dW), (layer.b, layer.db))]
    same = len(pairs) == len(expected) and all(p is P and g is G for (p, g), (P, G) in zip(pairs, expected))
    sequential = run(model.forward, model.backward, pairs)

    apart = _build(module, spec, weights)

    def forward(h):
        for layer in apart:
            h = layer.forward(h)
        return h

    def backward(d):
        for layer in reversed(apart):
            d = layer.backward(d)
        return d

    own = [pair for layer in apart for pair in _pairs(layer.parameters(), "a layer's parameters()")]
    return {"sequential": sequential, "layers": run(forward, backward, own), "pairs_are_layer_arrays": same}


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
    "sequential_pass": sequential_pass,
    "optimizer_trajectory": optimizer_trajectory,
    "numerical_gradient_of": numerical_gradient_of,
}
