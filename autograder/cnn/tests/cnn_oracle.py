"""Week 3's oracle: PyTorch's own operators, in float64, for everything the hidden tests compare.

Convolution and max-pooling come from ``torch.nn.functional.conv2d`` and ``max_pool2d``; their
gradients from autograd of the scalar ``L = Σ out · dout``, so that ``∂L/∂out = dout`` exactly as
the student's backward functions receive it. The output-size formula is written out once more in
closed form, independently of torch, to check the shapes the public tests promise.
This module imports torch only inside its functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def pair(value: Any) -> tuple[int, int]:
    """``(height, width)`` from an int or a pair."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    return int(value[0]), int(value[1])


def conv_output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """``(size + 2·pad - kernel) // stride + 1``: how many windows fit along one axis."""
    return (size + 2 * pad - kernel) // stride + 1


def _tensor(a: np.ndarray, grad: bool = False):
    import torch

    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Any, pad: Any) -> np.ndarray:
    """``F.conv2d(x, w, b, stride, pad)`` in float64: (N, F, OH, OW)."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        return F.conv2d(_tensor(x), _tensor(w), _tensor(b), pair(stride), pair(pad)).numpy()


def conv2d_grads(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Any, pad: Any,
                 dout: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dw, db)``: autograd of ``Σ conv2d(x, w, b) · dout`` in float64."""
    import torch.nn.functional as F

    xt, wt, bt = _tensor(x, True), _tensor(w, True), _tensor(b, True)
    out = F.conv2d(xt, wt, bt, pair(stride), pair(pad))
    (out * _tensor(dout)).sum().backward()
    return xt.grad.numpy().copy(), wt.grad.numpy().copy(), bt.grad.numpy().copy()


def max_pool2d(x: np.ndarray, kernel: Any, stride: Any) -> np.ndarray:
    """``F.max_pool2d(x, kernel, stride)`` in float64 (no padding): (N, C, OH, OW)."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        return F.max_pool2d(_tensor(x), pair(kernel), pair(stride)).numpy()


def max_pool2d_grad(x: np.ndarray, kernel: Any, stride: Any, dout: np.ndarray) -> np.ndarray:
    """``dx``: autograd of ``Σ max_pool2d(x) · dout`` in float64."""
    import torch.nn.functional as F

    xt = _tensor(x, True)
    (F.max_pool2d(xt, pair(kernel), pair(stride)) * _tensor(dout)).sum().backward()
    return xt.grad.numpy().copy()


def pooling_has_ties(x: np.ndarray, kernel: Any, stride: Any) -> bool:
    """Whether some pooling window's largest value occurs twice (the tests promise it never does)."""
    kh, kw = pair(kernel)
    sh, sw = pair(stride)
    from numpy.lib.stride_tricks import sliding_window_view as windows_of

    views = windows_of(x, window_shape=(kh, kw), axis=(2, 3))
    flat = views[:, :, ::sh, ::sw].reshape(*views[:, :, ::sh, ::sw].shape[:4], kh * kw)
    top = flat.max(axis=-1, keepdims=True)
    return bool(np.any((flat == top).sum(axis=-1) > 1))
