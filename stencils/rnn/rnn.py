"""Week 4, part A: recurrent cells in PyTorch tensors, a numpy RNN with backpropagation through time,
and gradient clipping by global norm.

Each function's docstring is its specification: the math, the shapes, and what it returns. Every
``raise NotImplementedError`` marks one task of the handout; replace it with your code.

The cells follow PyTorch's documented equations and weight layout exactly (``nn.RNNCell``,
``nn.LSTMCell``, ``nn.GRUCell``), so the grader can copy one layer's weights into the other:
``W_ih`` is (G·H, I) and ``W_hh`` is (G·H, H), with the G gates stacked along the first axis (G = 1
for the tanh RNN, 4 for the LSTM in the order i, f, g, o, 3 for the GRU in the order r, z, n). A
row of ``x`` is one example: ``x @ W_ih.T`` is (N, G·H). Work with torch tensor operations
(``@``, ``torch.sigmoid``, ``torch.tanh``, ``.chunk``, ``torch.stack``); the results keep the
inputs' dtype (float32 or float64). PyTorch's recurrent layers and cells (``nn.RNN``, ``nn.LSTM``,
``nn.GRU``, ``nn.RNNCell``, ``nn.LSTMCell``, ``nn.GRUCell``), its fused functions (``torch.lstm``,
``torch.lstm_cell``, …), ``torch.autograd`` and ``torch.nn.utils``'s clipping are forbidden in this
file: you write them here.

The numpy RNN uses the layout of a matrix product from the left, ``x_t @ Wx`` with ``Wx`` (D, H),
in float64. Every function returns its results and leaves its arguments unchanged.

Sources: the equations are those of PyTorch's documentation of ``nn.RNNCell``, ``nn.LSTMCell``,
``nn.GRUCell`` and ``clip_grad_norm_``; the models are Elman (1990, the tanh RNN), Hochreiter and
Schmidhuber (1997) with Gers, Schmidhuber and Cummins (2000, the forget gate) for the LSTM, and Cho
et al. (2014) for the GRU; backpropagation through time is Werbos (1990); clipping by global norm
is Pascanu, Mikolov and Bengio (2013).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

#: The ``1e-6`` that ``torch.nn.utils.clip_grad_norm_`` adds to the norm before dividing.
CLIP_EPS = 1e-6


def rnn_cell(x: Tensor, h: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """One step of the tanh RNN, as ``nn.RNNCell(I, H)`` computes it::

        h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)

    Args:
        x: (N, I) inputs of one time step.  h: (N, H) previous hidden state.
        W_ih: (H, I).  W_hh: (H, H).  b_ih, b_hh: (H,).

    Returns:
        h' (N, H), of ``x``'s dtype.
    """
    # TODO rnn task 1 (rnn_cell): RNN cell
    raise NotImplementedError("rnn task 1 (rnn_cell) is not implemented yet")


def lstm_cell(x: Tensor, h: Tensor, c: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor,
              b_hh: Tensor) -> tuple[Tensor, Tensor]:
    """One step of the LSTM, as ``nn.LSTMCell(I, H)`` computes it.

    The pre-activations ``a = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh`` (N, 4H) split into four blocks of H
    columns, in the order input gate, forget gate, cell candidate, output gate (``a.chunk(4, 1)``)::

        i = σ(a_i),  f = σ(a_f),  g = tanh(a_g),  o = σ(a_o)
        c' = f ⊙ c + i ⊙ g
        h' = o ⊙ tanh(c')

    with σ the logistic sigmoid and ⊙ the elementwise product.

    Args:
        x: (N, I).  h, c: (N, H) previous hidden and cell state.
        W_ih: (4H, I).  W_hh: (4H, H).  b_ih, b_hh: (4H,).

    Returns:
        ``(h', c')``, both (N, H), of ``x``'s dtype.
    """
    # TODO rnn task 2 (lstm_cell): LSTM cell
    raise NotImplementedError("rnn task 2 (lstm_cell) is not implemented yet")


def gru_cell(x: Tensor, h: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """One step of the GRU, as ``nn.GRUCell(I, H)`` computes it.

    ``x W_ihᵀ + b_ih`` and ``h W_hhᵀ + b_hh`` (each (N, 3H)) split into blocks in the order reset,
    update, new: ``(xr, xz, xn)`` and ``(hr, hz, hn)``. Then::

        r  = σ(xr + hr)
        z  = σ(xz + hz)
        n  = tanh(xn + r ⊙ hn)          # hn = h W_hnᵀ + b_hn: the reset gate scales it, bias included
        h' = (1 - z) ⊙ n + z ⊙ h

    Args:
        x: (N, I).  h: (N, H).
        W_ih: (3H, I).  W_hh: (3H, H).  b_ih, b_hh: (3H,).

    Returns:
        h' (N, H), of ``x``'s dtype.
    """
    # TODO rnn task 3 (gru_cell): GRU cell
    raise NotImplementedError("rnn task 3 (gru_cell) is not implemented yet")


def lstm_forward(x: Tensor, h0: Tensor, c0: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor,
                 b_hh: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """Run the LSTM over a whole sequence, as a one-layer ``nn.LSTM(I, H)`` does (time first).

    Starting from ``(h0, c0)``, step ``t = 0, 1, …, T-1`` in order applies the LSTM cell (see
    :func:`lstm_cell`, which you may call) to ``x[t]`` and the state of the previous step::

        (h_t, c_t) = lstm_cell(x[t], h_{t-1}, c_{t-1}, …),   with (h_{-1}, c_{-1}) = (h0, c0)

    Args:
        x: (T, N, I) the sequence, time first.  h0, c0: (N, H) initial state.
        W_ih: (4H, I).  W_hh: (4H, H).  b_ih, b_hh: (4H,), gates in the order i, f, g, o.

    Returns:
        ``(out, (h_T, c_T))``: ``out`` (T, N, H) stacks ``h_0 … h_{T-1}``; ``h_T`` and ``c_T`` (N, H)
        are the state after the last step (``h_T`` equals ``out[-1]``).
    """
    # TODO rnn task 4 (lstm_forward): LSTM over a sequence
    raise NotImplementedError("rnn task 4 (lstm_forward) is not implemented yet")


def rnn_forward_np(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
                   ) -> tuple[np.ndarray, tuple]:
    """The tanh RNN over a sequence, in numpy (float64)::

        a_t = x_t Wx + h_{t-1} Wh + b,    h_t = tanh(a_t),    t = 0 … T-1,   h_{-1} = h0

    Args:
        x: (T, N, D) inputs, time first.  h0: (N, H) initial hidden state.
        Wx: (D, H).  Wh: (H, H).  b: (H,).

    Returns:
        ``(hs, cache)``: ``hs`` (T, N, H) holds ``h_0 … h_{T-1}`` (not ``h0``); ``cache`` is a tuple
        of arrays and numbers that :func:`rnn_backward_np` needs (it travels between the two calls
        as data), for instance ``(x, h0, Wx, Wh, hs)``.
    """
    # TODO rnn task 5 (rnn_forward_np): Numpy RNN forward
    raise NotImplementedError("rnn task 5 (rnn_forward_np) is not implemented yet")


def rnn_backward_np(dhs: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`rnn_forward_np`, given ``dhs = ∂L/∂hs``.

    The loss reaches every hidden state directly (``dhs[t]``, from an output at step t) and through
    the later states. Going backwards from ``t = T-1`` with ``g_T = 0``::

        dh_t  = dhs[t] + g_{t+1}              # total gradient reaching h_t
        da_t  = dh_t ⊙ (1 - h_t²)             # tanh'(a_t) = 1 - tanh(a_t)² = 1 - h_t²
        dx_t  = da_t Wxᵀ
        dWx  += x_tᵀ da_t,   dWh += h_{t-1}ᵀ da_t,   db += Σ_n da_t[n]
        g_t   = da_t Whᵀ                      # the gradient passed on to h_{t-1}

    and ``dh0 = g_0``. (The weights are shared by every step, so their gradients sum over t.)

    Args:
        dhs: (T, N, H) upstream gradient on every hidden state.
        cache: what :func:`rnn_forward_np` returned with ``hs``.

    Returns:
        ``(dx, dh0, dWx, dWh, db)`` with the shapes of ``x`` (T, N, D), ``h0`` (N, H), ``Wx`` (D, H),
        ``Wh`` (H, H) and ``b`` (H,).
    """
    # TODO rnn task 6 (rnn_backward_np): Backpropagation through time
    raise NotImplementedError("rnn task 6 (rnn_backward_np) is not implemented yet")


def clip_grad_norm(grads: list[Tensor], max_norm: float) -> tuple[list[Tensor], Tensor]:
    """Clip gradients by their global norm, as ``torch.nn.utils.clip_grad_norm_`` does.

    The norm is taken over all tensors together, as if they were one long vector::

        total = sqrt(Σ_k Σ_j grads[k][j]²)
        scale = min(1, max_norm / (total + 1e-6))
        clipped[k] = scale · grads[k]

    so gradients whose global norm is at most ``max_norm`` keep their values, and larger ones are
    scaled down together, keeping their direction. (The ``1e-6`` is torch's, :data:`CLIP_EPS`.)

    Args:
        grads: a list of tensors of any shapes (float32 or float64).
        max_norm: the largest global norm allowed, > 0.

    Returns:
        ``(clipped, total)``: a new list of new tensors (shapes and dtypes of ``grads``; the inputs
        are not modified), and the norm ``total`` before clipping, as a 0-d tensor (a float is
        accepted too).
    """
    # TODO rnn task 7 (clip_grad_norm): Gradient clipping by global norm
    raise NotImplementedError("rnn task 7 (clip_grad_norm) is not implemented yet")
