"""Drivers: small, public functions that run inside the worker against the student's objects.

A grader uses a driver when a check needs several calls on shared student state (an optimizer
stepping a layer's parameters, a training loop, a sampler) or a value that cannot travel (a Python
function). Drivers return data only; the oracle and the comparison stay in the grader.
Each driver takes the :class:`~coursekit.worker.server.Server` first; handles arrive resolved.

These are the generic drivers every week may use. A week's own drivers live with the week, in
``assignments/<week>/drivers.py`` with a ``REGISTRY`` of their own; the grader hands that one file
to the worker explicitly, and no other week's drivers are ever loaded. Nothing here is secret: the
starter repository ships these files.
"""

from __future__ import annotations

from typing import Any, Callable

from ..protocol import torch_if_loaded


def state_dict(server: Any, module: Any) -> dict:
    """A torch module's parameters and buffers as ``{name: tensor}`` (detached copies)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def load_state_dict(server: Any, module: Any, state: dict) -> None:
    """Copy ``state`` into a torch module (strict), e.g. to give a student's layer known weights."""
    module.load_state_dict(state, strict=True)


def parameter_count(server: Any, module: Any) -> int:
    """Number of trainable scalars in a torch module."""
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def set_seed(server: Any, seed: int) -> None:
    """Seed numpy's and (if loaded) torch's global generators in the worker."""
    import numpy as np
    np.random.seed(seed)
    torch = torch_if_loaded()
    if torch is not None:
        torch.manual_seed(seed)


def _resolve(server: Any, target: Any, attribute: str) -> Any:
    """``target.attribute``, where ``target`` is a student module's name or a student object."""
    owner = server.module(target) if isinstance(target, str) else target
    return getattr(owner, attribute)


def call_with_warnings(server: Any, target: Any, attribute: str, *args: Any, **kwargs: Any) -> dict:
    """Call ``target.attribute(*args, **kwargs)`` and report the warnings the call raised.

    ``target`` is a student module's name (``"perceptron"``) or a student object. For the call,
    Python's warning filters are set to "always" and numpy's floating-point overflow, division by
    zero and invalid-value errors to "warn" (underflow stays ignored, as numpy's default), so a
    module-level ``np.seterr(all="ignore")`` or ``warnings.filterwarnings("ignore")`` hides nothing.

    Returns ``{"value": the result, "warnings": [[category name, message], ...]}`` (at most 20).
    """
    import warnings

    import numpy as np

    function = _resolve(server, target, attribute)
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        value = function(*args, **kwargs)
    return {"value": value,
            "warnings": [[str(w.category.__name__)[:100], str(w.message)[:200]] for w in caught[:20]]}


def _snapshot_equal(before: Any, after: Any) -> bool:
    """Whether an argument still equals its snapshot (arrays: same shape, dtype and values)."""
    import numpy as np

    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or before.shape != after.shape or before.dtype != after.dtype:
            return False
        return bool(np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
    torch = torch_if_loaded()
    if torch is not None and isinstance(before, torch.Tensor):
        if not isinstance(after, torch.Tensor) or before.shape != after.shape or before.dtype != after.dtype:
            return False
        return bool(torch.equal(before, after)) or bool(torch.isnan(before).equal(torch.isnan(after))
                                                         and torch.equal(before.nan_to_num(), after.nan_to_num()))
    if isinstance(before, (list, tuple)):
        return (type(before) is type(after) and len(before) == len(after)
                and all(_snapshot_equal(b, a) for b, a in zip(before, after)))
    if isinstance(before, dict):
        return (isinstance(after, dict) and before.keys() == after.keys()
                and all(_snapshot_equal(before[k], after[k]) for k in before))
    try:
        return bool(before == after)
    except Exception:  # noqa: BLE001 - an exotic value that cannot compare counts as changed
        return False


def _arrays_in(value: Any, depth: int = 0) -> list:
    """The numpy arrays in ``value`` and in the lists, tuples and dicts it holds (a few levels)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return [value]
    if depth >= 4:
        return []
    if isinstance(value, (list, tuple)):
        return [a for item in value for a in _arrays_in(item, depth + 1)]
    if isinstance(value, dict):
        return [a for item in value.values() for a in _arrays_in(item, depth + 1)]
    return []


def call_checking_arguments(server: Any, target: Any, attribute: str, *args: Any, **kwargs: Any) -> dict:
    """Call ``target.attribute(*args, **kwargs)`` and report what it did to its arguments.

    Arguments reach student code as copies, so a grader cannot see in-place changes by itself;
    this driver snapshots the arguments here, in the worker, calls, and compares.

    Returns ``{"value": the result, "args_changed": [bool per positional argument],
    "kwargs_changed": {name: bool}, "returns_argument": bool}``, where ``returns_argument`` says
    whether an array in the result is, or shares memory with, an array argument (so a caller that
    later changes the result would change its own input).
    """
    import copy

    import numpy as np

    function = _resolve(server, target, attribute)
    args_before, kwargs_before = copy.deepcopy(args), copy.deepcopy(kwargs)
    value = function(*args, **kwargs)
    inputs = _arrays_in(list(args)) + _arrays_in(kwargs)
    shared = any(np.may_share_memory(out, arg) for out in _arrays_in(value) for arg in inputs)
    return {"value": value,
            "args_changed": [not _snapshot_equal(b, a) for b, a in zip(args_before, args)],
            "kwargs_changed": {k: not _snapshot_equal(kwargs_before[k], kwargs[k]) for k in kwargs},
            "returns_argument": bool(shared)}


def same_object(server: Any, first: Any, second: Any) -> bool:
    """Whether two handles name the same student object (e.g. that ``fit`` returned ``self``)."""
    return first is second


REGISTRY: dict[str, Callable[..., Any]] = {
    "state_dict": state_dict,
    "load_state_dict": load_state_dict,
    "parameter_count": parameter_count,
    "set_seed": set_seed,
    "call_with_warnings": call_with_warnings,
    "call_checking_arguments": call_checking_arguments,
    "same_object": same_object,
}
