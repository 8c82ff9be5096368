"""Week 6's drivers: a grader-supplied VAE, weights in and out, and gradients through student code.

They run in the worker beside the student's ``vae.py`` and return data only; the grader holds the
oracles and compares. Nothing here is secret (the starter ships this file); it needs only the
standard library and torch, imported inside the functions.

- :func:`vae_stand_in` builds a VAE that the course wrote, with the stencil's architecture and the
  grader's weights, so that a test of ``negative_elbo``, ``iwae_bound``, ``sample`` or
  ``interpolate`` depends on that function only, not on the student's own ``VAE``.
- :func:`vae_new` makes a student's ``VAE(...)``; :func:`vae_load_weights` and :func:`vae_weights`
  copy weights into and out of it.
- :func:`vae_input_gradients` and :func:`vae_parameter_gradients` run a student function with
  autograd and return the gradients (tensors cannot carry a graph across the process boundary).

A driver never raises because of what the student's code returned: it reports it in the result as
one of the short codes of :data:`ERRORS` (``{"error": "no_graph"}``), and the grader writes the
feedback itself (a string from the worker is never shown to a student). Exceptions raised *by*
student code propagate unchanged.
"""

from __future__ import annotations

from typing import Any, Callable

MODULE = "vae"

#: What a driver may report instead of a result (the grader has its own wording for each).
ERRORS = ("not_a_module", "wrong_layers", "bad_state", "not_tensors", "wrong_shape", "no_graph")

_STAND_IN: list = []


def _stand_in_class() -> type:
    """The grader's VAE (built once, on first use, so that importing this module needs no torch)."""
    if _STAND_IN:
        return _STAND_IN[0]
    import torch
    from torch import nn

    class StandInVAE(nn.Module):
        """The course's own VAE, with the stencil's architecture, layer names and attributes."""

        def __init__(self, x_dim: int = 64, z_dim: int = 8, hidden: int = 128):
            super().__init__()
            self.x_dim, self.z_dim, self.hidden = x_dim, z_dim, hidden
            self.enc_hidden = nn.Linear(x_dim, hidden)
            self.enc_mu = nn.Linear(hidden, z_dim)
            self.enc_logvar = nn.Linear(hidden, z_dim)
            self.dec_hidden = nn.Linear(z_dim, hidden)
            self.dec_out = nn.Linear(hidden, x_dim)

        def encode(self, x):
            hidden = torch.relu(self.enc_hidden(x))
            return self.enc_mu(hidden), self.enc_logvar(hidden)

        def decode(self, z):
            hidden = torch.relu(self.dec_hidden(z))
            return self.dec_out(hidden)

        def forward(self, x, eps):
            mean, log_variance = self.encode(x)
            code = mean + torch.exp(0.5 * log_variance) * eps
            return self.decode(code), mean, log_variance

    _STAND_IN.append(StandInVAE)
    return StandInVAE


def vae_new(server: Any, *args: Any, **kwargs: Any) -> Any:
    """The student's ``vae.VAE(*args, **kwargs)``, returned as a handle.

    (A torch module class defines ``__call__`` for its instances, so the class cannot be called
    through its own handle; this driver calls it here.)
    """
    return _target(server, "VAE")(*args, **kwargs)


def _float32_state(state: dict) -> dict:
    import torch

    return {str(k): torch.as_tensor(v).to(torch.float32).clone() for k, v in state.items()}


def vae_stand_in(server: Any, state: dict, x_dim: int = 64, z_dim: int = 8, hidden: int = 128) -> Any:
    """A grader-written VAE (same layers and attributes as the stencil's) holding ``state`` (float32).

    Returned as a handle: pass it to the student's functions in place of the student's own VAE.
    """
    model = _stand_in_class()(int(x_dim), int(z_dim), int(hidden))
    model.load_state_dict(_float32_state(state), strict=True)
    model.eval()
    return model


def vae_load_weights(server: Any, model: Any, state: dict) -> dict:
    """Copy ``state`` (float32) into a student's VAE with ``load_state_dict(strict=True)``.

    Returns ``{"ok": True}``, or ``{"ok": False, "error": "not_a_module"}`` when ``model`` is not a
    torch module, ``"wrong_layers"`` when its parameters do not have the stencil's names and shapes.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        return {"ok": False, "error": "not_a_module"}
    try:
        model.load_state_dict(_float32_state(state), strict=True)
    except Exception:  # noqa: BLE001 - missing, unexpected or misshapen parameters
        return {"ok": False, "error": "wrong_layers"}
    return {"ok": True}


def vae_weights(server: Any, model: Any) -> dict:
    """A student's VAE's parameters and buffers: ``{"ok": True, "state": {name: tensor}}`` (detached
    copies) or ``{"ok": False, "error": "not_a_module" | "bad_state"}``."""
    import torch

    if not isinstance(model, torch.nn.Module):
        return {"ok": False, "error": "not_a_module"}
    state = model.state_dict()
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        return {"ok": False, "error": "bad_state"}
    return {"ok": True, "state": {str(k): v.detach().clone() for k, v in state.items()}}


def _target(server: Any, function: str) -> Callable:
    return getattr(server.module(MODULE), function)


def _outputs(value: Any, count: int | None) -> list | None:
    """The student's result as a list of tensors (one, or a tuple of ``count``), or None."""
    import torch

    items = [value] if count is None else value
    if count is not None and not (isinstance(value, (tuple, list)) and len(value) == count):
        return None
    if not all(isinstance(t, torch.Tensor) and t.is_floating_point() for t in items):
        return None
    return list(items)


def _backward(outputs: list, upstream: list) -> str | None:
    """Backpropagate Σ_i Σ outputs[i] · upstream[i]; an error code instead of raising."""
    import torch

    total = None
    for out, up in zip(outputs, upstream):
        up = torch.as_tensor(up, dtype=out.dtype).to(out.device)
        if tuple(up.shape) != tuple(out.shape):
            return "wrong_shape"
        if not out.requires_grad:
            continue
        term = torch.sum(out * up)
        total = term if total is None else total + term
    if total is None:
        return "no_graph"
    total.backward()
    return None


def vae_input_gradients(server: Any, function: str, args: list, wrt: list, upstream: list,
                        outputs: int | None = None) -> dict:
    """Call ``vae.function(*args)`` with the tensor arguments at positions ``wrt`` made leaves that
    require gradients, then backpropagate ``Σ result · upstream`` (for a tuple result of ``outputs``
    tensors, ``Σ_i Σ result[i] · upstream[i]``).

    Returns ``{"value": the detached result, "grads": [gradient or None per position in wrt],
    "error": None}``, or ``{"value": None, "grads": None, "error": code}`` when the result is not a
    float tensor (tuple) (``"not_tensors"``), not of the upstream's shape (``"wrong_shape"``), or
    carries no gradient (``"no_graph"``).
    """
    import torch

    args = list(args)
    for i in wrt:
        args[i] = torch.as_tensor(args[i]).detach().clone().requires_grad_(True)
    value = _target(server, function)(*args)
    results = _outputs(value, outputs)
    if results is None:
        return {"value": None, "grads": None, "error": "not_tensors"}
    error = _backward(results, upstream)
    if error is not None:
        return {"value": None, "grads": None, "error": error}
    detached = [t.detach() for t in results]
    return {"value": detached[0] if outputs is None else detached,
            "grads": [args[i].grad for i in wrt], "error": None}


def vae_parameter_gradients(server: Any, model: Any, function: str, args: list, upstream: list,
                            outputs: int | None = None) -> dict:
    """Gradients with respect to a model's parameters of ``Σ result · upstream``, where the result is
    ``vae.function(model, *args)``, or ``model(*args)`` when ``function`` is ``"model"``.

    The model's gradients are cleared first. Returns ``{"value": the detached result, "grads":
    {name: gradient or None}, "error": None}`` or ``{"value": None, "grads": None, "error": code}``.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        return {"value": None, "grads": None, "error": "not_a_module"}
    model.zero_grad(set_to_none=True)
    value = model(*args) if function == "model" else _target(server, function)(model, *args)
    results = _outputs(value, outputs)
    if results is None:
        return {"value": None, "grads": None, "error": "not_tensors"}
    error = _backward(results, upstream)
    if error is not None:
        return {"value": None, "grads": None, "error": error}
    detached = [t.detach() for t in results]
    grads = {name: (None if p.grad is None else p.grad.detach().clone())
             for name, p in model.named_parameters()}
    return {"value": detached[0] if outputs is None else detached, "grads": grads, "error": None}


REGISTRY: dict[str, Callable[..., Any]] = {
    "vae_new": vae_new,
    "vae_stand_in": vae_stand_in,
    "vae_load_weights": vae_load_weights,
    "vae_weights": vae_weights,
    "vae_input_gradients": vae_input_gradients,
    "vae_parameter_gradients": vae_parameter_gradients,
}
