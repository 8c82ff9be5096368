"""Week 2's oracle: the grader's own values for everything the hidden tests compare.

PyTorch is the reference wherever it has the operation: every layer, loss and network is run with
autograd in float64 (:func:`autograd`), and the optimizers are ``torch.optim.SGD`` and
``torch.optim.Adam`` stepped on the same gradients. The gradient checker's known functions are
written here a second time, in torch, with their exact gradients by autograd; central differences
are computed here in their own loop. torch is imported only inside the functions that need it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

# --- autograd in float64 --------------------------------------------------------------------


def _t(a: Any, grad: bool = False):
    import torch

    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def autograd(fn: Callable, inputs: list[np.ndarray], dout: np.ndarray | None = None
             ) -> tuple[np.ndarray | float, list[np.ndarray]]:
    """``fn(*tensors)`` and the gradients of ``sum(out · dout)`` (or of the scalar ``out``) with
    respect to every input, all float64 numpy."""
    tensors = [_t(a, grad=True) for a in inputs]
    out = fn(*tensors)
    if dout is None:
        out.backward()
        value: np.ndarray | float = float(out.item())
    else:
        out.backward(_t(dout))
        value = out.detach().numpy().copy()
    return value, [t.grad.numpy().copy() for t in tensors]


def linear(W: np.ndarray, b: np.ndarray, x: np.ndarray, dout: np.ndarray):
    """``(out, dx, dW, db)`` of ``x @ W + b``."""
    out, (dx, dW, db) = autograd(lambda x_, W_, b_: x_ @ W_ + b_, [x, W, b], dout)
    return out, dx, dW, db


def activation(name: str, x: np.ndarray, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(out, dx)`` of ``torch.relu`` / ``torch.sigmoid`` / ``torch.tanh``."""
    import torch

    fn = {"ReLU": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh}[name]
    out, (dx,) = autograd(fn, [x], dout)
    return out, dx


def mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """``F.mse_loss`` (mean over all elements) and its gradient in ``pred``."""
    import torch.nn.functional as F

    loss, (dpred,) = autograd(lambda p: F.mse_loss(p, _t(target)), [pred])
    return loss, dpred


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """``F.cross_entropy`` (mean over the batch) and its gradient in the logits."""
    import torch
    import torch.nn.functional as F

    target = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    loss, (dlogits,) = autograd(lambda z: F.cross_entropy(z, target), [logits])
    return loss, dlogits


def stand_in_network(spec: list, params: list, x: np.ndarray, dout: np.ndarray):
    """``(out, dx, grads)`` of the stand-in network ``spec`` (the drivers' ``Scale``, ``Widen``
    and ``Softsign``; ``params`` holds ``[gain, shift]`` per Scale), the parameter gradients listed
    as ``dgain, dshift`` per Scale layer, in layer order."""
    import torch

    flat = [a for pair in params for a in pair]

    def fn(x_, *tensors):
        h, given = x_, iter(tensors)
        for entry in spec:
            if entry[0] == "Scale":
                h = h * next(given) + next(given)
            elif entry[0] == "Widen":
                h = torch.cat([h, h * h], dim=1)
            else:
                h = torch.nn.functional.softsign(h)
        return h

    out, grads = autograd(fn, [x, *flat], dout)
    return out, grads[0], grads[1:]


# --- optimizers -----------------------------------------------------------------------------


def trajectory(optimizer: str, params: list[np.ndarray], grads: list[list[np.ndarray]],
               **hyper: Any) -> list[list[np.ndarray]]:
    """``torch.optim.<optimizer>`` over copies of ``params``: for each step set ``.grad`` to the
    given gradients and step; the parameters after every step."""
    import torch

    tensors = [torch.nn.Parameter(_t(p)) for p in params]
    opt = getattr(torch.optim, optimizer)(tensors, **hyper)
    out = []
    for step in grads:
        for t, g in zip(tensors, step):
            t.grad = _t(g)
        opt.step()
        out.append([t.detach().numpy().copy() for t in tensors])
    return out


# --- gradient checking ----------------------------------------------------------------------


def _torch_known(name: str) -> Callable:
    import torch

    return {
        "sum_of_squares": lambda x: (x ** 2).sum(),
        "cubic": lambda x: (x * x * x).sum(),
        "log_sum_exp": lambda x: torch.logsumexp(x.reshape(-1), dim=0),
        "sin_cos": lambda x: (torch.sin(x) * torch.cos(2 * x)).sum(),
        "tanh_weighted": lambda x, w: (torch.tanh(x) * w).sum(),
        "quadratic_form": lambda x, A: 0.5 * torch.dot(x, A @ x),
    }[name]


def known_value(name: str, x: np.ndarray, consts: list) -> float:
    import torch

    with torch.no_grad():
        return float(_torch_known(name)(_t(x), *[_t(c) for c in consts]).item())


def known_gradient(name: str, x: np.ndarray, consts: list) -> np.ndarray:
    """The exact gradient of a known function, by autograd."""
    fn = _torch_known(name)
    _, (grad,) = autograd(lambda x_: fn(x_, *[_t(c) for c in consts]), [x])
    return grad


def central_differences(name: str, x: np.ndarray, consts: list, eps: float) -> np.ndarray:
    """``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry, on a flat copy of ``x``."""
    flat = np.array(x, dtype=np.float64).reshape(-1)
    grad = np.empty_like(flat)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (known_value(name, up.reshape(x.shape), consts)
                   - known_value(name, down.reshape(x.shape), consts)) / (2 * eps)
    return grad.reshape(x.shape)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b| / max(|a| + |b|, 1e-8)``."""
    first, second = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    scale = np.abs(first) + np.abs(second)
    return max(float(abs(u - v) / (s if s > 1e-8 else 1e-8)) for u, v, s in zip(first, second, scale))
