"""Drivers: small, public functions that run inside the worker against the student's objects.

A grader uses a driver when a check needs several calls on shared student state (an optimizer
stepping a layer's parameters, a training loop, a sampler) or a value that cannot travel (a Python
function). Drivers return data only; the oracle and the comparison stay in the grader.
Each driver takes the :class:`~coursekit.worker.server.Server` first; handles arrive resolved.

Register a driver by adding it to :data:`REGISTRY`. Nothing here is secret: the starter repository
ships this file.
"""

from __future__ import annotations

from typing import Any, Callable


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
    import sys
    import numpy as np
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


REGISTRY: dict[str, Callable[..., Any]] = {
    "state_dict": state_dict,
    "load_state_dict": load_state_dict,
    "parameter_count": parameter_count,
    "set_seed": set_seed,
}
