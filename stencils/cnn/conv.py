"""Week 3, part A: 2-D convolution and max-pooling, forward and backward, in numpy only.

Each function's docstring is its specification: the math, the shapes, and what it returns. Every
``raise NotImplementedError`` marks one task of the handout; replace it with your code.

Conventions: images are float arrays (N, C, H, W): N images of C channels, H rows and W columns
(PyTorch's layout). ``stride``, ``pad`` and ``kernel`` are an int ``k`` (meaning ``(k, k)``) or a
pair ``(height, width)``; :func:`_pair` turns either into a pair. Every function returns its
results and leaves its arguments unchanged. A forward pass returns ``(out, cache)``, and the
matching backward pass receives that ``cache`` back: keep in it only arrays and numbers (it is
passed between calls as data), such as the input, the weights and the stride.

The work must be vectorized: build the windows with im2col or numpy's stride tricks
(``np.lib.stride_tricks.sliding_window_view``) and let a matrix product do the sums. A Python loop
over the kernel's KH·KW offsets is fine; a loop over images, channels or output pixels is too slow
for the speed check (see the handout). numpy is the only library this file may use.
"""

from __future__ import annotations

import numpy as np

IntOrPair = int | tuple[int, int]


def _pair(value: IntOrPair) -> tuple[int, int]:
    """``(height, width)`` from an int ``k`` (both ``k``) or a pair."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    height, width = value
    return int(height), int(width)


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: IntOrPair = 1,
                   pad: IntOrPair = 0) -> tuple[np.ndarray, tuple]:
    """The cross-correlation that ``torch.nn.functional.conv2d(x, w, b, stride, pad)`` computes.

    Pad ``x`` with ``ph`` rows of zeros above and below and ``pw`` columns left and right, giving
    ``xp`` (N, C, H + 2ph, W + 2pw); then every filter ``f`` slides over ``xp`` with steps ``sh``
    down and ``sw`` across::

        out[n, f, i, j] = b[f] + Σ_c Σ_p Σ_q  xp[n, c, i·sh + p, j·sw + q] · w[f, c, p, q]

    for ``0 <= p < KH`` and ``0 <= q < KW`` (no flipping of the kernel), with output size

        OH = (H + 2·ph - KH) // sh + 1,    OW = (W + 2·pw - KW) // sw + 1.

    Vectorize: gather every window into one array (im2col, or
    ``sliding_window_view`` on ``xp`` followed by slicing with the stride), then one matrix product
    (``np.tensordot`` or ``@``) with the kernels gives all outputs at once.

    Args:
        x: (N, C, H, W) input images.
        w: (F, C, KH, KW) kernels, one per output channel.
        b: (F,) biases.
        stride: ``sh`` and ``sw``, an int or a pair (height, width).
        pad: ``ph`` and ``pw``, an int or a pair (height, width).

    Returns:
        ``(out, cache)``: ``out`` (N, F, OH, OW) of ``x``'s float dtype, and ``cache``, a tuple of
        arrays and numbers holding what :func:`conv2d_backward` needs.
    """
    sh, sw = _pair(stride)
    ph, pw = _pair(pad)
    # TODO cnn task 1 (conv2d_forward): Convolution forward
    raise NotImplementedError("cnn task 1 (conv2d_forward) is not implemented yet")


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a loss ``L`` through :func:`conv2d_forward`, given ``dout = ∂L/∂out``.

    Each output ``out[n, f, i, j]`` read one window of ``xp`` through ``w[f]``, so

        ∂L/∂b[f]          = Σ_n Σ_i Σ_j  dout[n, f, i, j]
        ∂L/∂w[f, c, p, q] = Σ_n Σ_i Σ_j  dout[n, f, i, j] · xp[n, c, i·sh + p, j·sw + q]
        ∂L/∂xp[n, c, r, s] = Σ_f Σ_i Σ_j dout[n, f, i, j] · w[f, c, r - i·sh, s - j·sw]

    (terms with the kernel index outside ``0..KH-1``, ``0..KW-1`` are zero), and ``dx`` is ``dxp``
    without its padding border. ``dw`` is a cross-correlation of the input with ``dout``; ``dx`` is
    a "full" convolution of ``dout`` (with ``sh - 1`` zeros between rows, ``sw - 1`` between
    columns) with the kernels flipped. Vectorize: ``dw`` is one matrix product with the windows of
    the forward pass; for ``dx``, scatter each window's gradient back, for instance with one
    strided ``+=`` per kernel offset ``(p, q)``.

    Args:
        dout: (N, F, OH, OW) upstream gradient.
        cache: what :func:`conv2d_forward` returned with ``out``.

    Returns:
        ``(dx, dw, db)`` with the shapes of ``x`` (N, C, H, W), ``w`` (F, C, KH, KW) and ``b`` (F,).
    """
    # TODO cnn task 2 (conv2d_backward): Convolution backward
    raise NotImplementedError("cnn task 2 (conv2d_backward) is not implemented yet")


def maxpool2d_forward(x: np.ndarray, kernel: IntOrPair = 2, stride: IntOrPair = 2
                      ) -> tuple[np.ndarray, tuple]:
    """Max-pooling as ``torch.nn.functional.max_pool2d(x, kernel, stride)`` computes it (no padding).

    Each output is the largest value in its ``kh × kw`` window of one channel::

        out[n, c, i, j] = max_{0 <= p < kh, 0 <= q < kw}  x[n, c, i·sh + p, j·sw + q]

    with ``OH = (H - kh) // sh + 1`` and ``OW = (W - kw) // sw + 1`` (rows or columns that no whole
    window covers are ignored). Windows overlap when the stride is smaller than the kernel.
    Remember which element of each window was the largest (the inputs have no ties inside a
    window): the backward pass sends the gradient there. Vectorize as in :func:`conv2d_forward`.

    Args:
        x: (N, C, H, W) input.
        kernel: ``kh`` and ``kw``, an int or a pair (height, width).
        stride: ``sh`` and ``sw``, an int or a pair (height, width).

    Returns:
        ``(out, cache)``: ``out`` (N, C, OH, OW) of ``x``'s dtype, and ``cache``, a tuple of arrays
        and numbers holding what :func:`maxpool2d_backward` needs.
    """
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride)
    # TODO cnn task 3 (maxpool2d_forward): Max-pooling forward
    raise NotImplementedError("cnn task 3 (maxpool2d_forward) is not implemented yet")


def maxpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of a loss through :func:`maxpool2d_forward`, given ``dout = ∂L/∂out``.

    The maximum is locally the identity on the winning element and ignores the others, so each
    ``dout[n, c, i, j]`` goes, whole, to the element of window ``(i, j)`` that was the largest, and
    every other element of the window gets nothing from it. Where windows overlap, an element that
    wins several windows collects the sum of their gradients (``np.add.at`` adds repeated indices;
    a fancy-indexed ``+=`` would not).

    Args:
        dout: (N, C, OH, OW) upstream gradient.
        cache: what :func:`maxpool2d_forward` returned with ``out``.

    Returns:
        ``dx`` (N, C, H, W), zero wherever no window's maximum sits.
    """
    # TODO cnn task 4 (maxpool2d_backward): Max-pooling backward
    raise NotImplementedError("cnn task 4 (maxpool2d_backward) is not implemented yet")
