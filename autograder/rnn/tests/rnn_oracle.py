"""Week 4's oracle: PyTorch's own layers and autograd, and closed forms, for everything the hidden
tests compare.

The cells and the sequence LSTM are ``nn.RNNCell``, ``nn.LSTMCell``, ``nn.GRUCell`` and ``nn.LSTM``
with the case's weights copied in, in the case's dtype. The numpy RNN's forward pass is its closed
form in float64 torch; its gradients come from autograd of ``L = Σ_t Σ hs[t] · dhs[t]``, so that
``∂L/∂hs = dhs`` exactly as the student's backward function receives it. Clipping is
``torch.nn.utils.clip_grad_norm_`` on copies. Perplexity is the exponential of the mean natural-log
cross-entropy, from ``log_softmax`` in float64. Greedy decoding and the sampling distribution of
the stand-in language model (see ``drivers_rnn.StandInLM``) are computed from its tables here.
This module imports torch inside its functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _torch():
    import torch
    return torch


def _t(a: Any, dtype) -> Any:
    torch = _torch()
    return torch.as_tensor(np.asarray(a)).to(dtype).clone()


def _cell(kind: str, I: int, H: int, weights: dict, dtype):
    """``nn.RNNCell``/``nn.LSTMCell``/``nn.GRUCell`` with the given weights, in ``dtype``."""
    torch = _torch()
    layer = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind](I, H)
    layer = layer.to(dtype)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(layer, name).copy_(weights[name])
    return layer


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """``nn.RNNCell`` (tanh) on one step: h' (N, H)."""
    torch = _torch()
    layer = _cell("rnn", x.shape[1], h.shape[1], dict(weight_ih=W_ih, weight_hh=W_hh, bias_ih=b_ih,
                                                        bias_hh=b_hh), x.dtype)
    with torch.no_grad():
        return layer(x, h)


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """``nn.LSTMCell`` on one step: ``(h', c')``."""
    torch = _torch()
    layer = _cell("lstm", x.shape[1], h.shape[1], dict(weight_ih=W_ih, weight_hh=W_hh, bias_ih=b_ih,
                                                         bias_hh=b_hh), x.dtype)
    with torch.no_grad():
        return layer(x, (h, c))


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """``nn.GRUCell`` on one step: h' (N, H)."""
    torch = _torch()
    layer = _cell("gru", x.shape[1], h.shape[1], dict(weight_ih=W_ih, weight_hh=W_hh, bias_ih=b_ih,
                                                        bias_hh=b_hh), x.dtype)
    with torch.no_grad():
        return layer(x, h)


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """A one-layer, time-first ``nn.LSTM`` with the given weights: ``(out, (h_T, c_T))``."""
    torch = _torch()
    T, N, I = x.shape
    layer = torch.nn.LSTM(I, h0.shape[1]).to(x.dtype)
    with torch.no_grad():
        for name, value in (("weight_ih_l0", W_ih), ("weight_hh_l0", W_hh), ("bias_ih_l0", b_ih),
                            ("bias_hh_l0", b_hh)):
            getattr(layer, name).copy_(value)
        out, (hT, cT) = layer(x, (h0[None], c0[None]))
    return out, (hT[0], cT[0])


def _rnn_np_torch(x, h0, Wx, Wh, b):
    """The tanh RNN's closed form in float64 torch (tensors with autograd when they require it)."""
    torch = _torch()
    h, hs = h0, []
    for x_t in x:  # time first
        h = torch.tanh(x_t @ Wx + h @ Wh + b)
        hs.append(h)
    return torch.stack(hs)


def rnn_forward_np(x, h0, Wx, Wh, b) -> np.ndarray:
    """hs (T, N, H) of ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)`` in float64."""
    torch = _torch()
    with torch.no_grad():
        args = [_t(a, torch.float64) for a in (x, h0, Wx, Wh, b)]
        return _rnn_np_torch(*args).numpy()


def rnn_backward_np(x, h0, Wx, Wh, b, dhs) -> tuple[np.ndarray, ...]:
    """``(dx, dh0, dWx, dWh, db)``: autograd of ``Σ hs · dhs`` in float64."""
    torch = _torch()
    args = [_t(a, torch.float64).requires_grad_(True) for a in (x, h0, Wx, Wh, b)]
    hs = _rnn_np_torch(*args)
    (hs * _t(dhs, torch.float64)).sum().backward()
    return tuple(a.grad.numpy().copy() for a in args)


def clip_grad_norm(grads: list, max_norm: float) -> tuple[list, float]:
    """``torch.nn.utils.clip_grad_norm_`` on parameter copies: (clipped gradients, total norm)."""
    torch = _torch()
    params = []
    for g in grads:
        p = torch.zeros_like(g, requires_grad=True)
        p.grad = g.clone()
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.detach().clone() for p in params], float(total)


def nll_per_token(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``-ln softmax(logits)[target]`` per position, in float64 (stable: log-softmax)."""
    torch = _torch()
    z = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    logp = torch.log_softmax(z, dim=-1)
    picked = torch.gather(logp, -1, torch.as_tensor(np.asarray(targets, dtype=np.int64))[..., None])
    return -picked[..., 0].numpy()


def perplexity(logits: np.ndarray, targets: np.ndarray) -> float:
    """exp of the mean natural-log cross-entropy."""
    return float(np.exp(nll_per_token(logits, targets).mean()))


def stand_in_logits(tables: dict, tokens: np.ndarray) -> np.ndarray:
    """The stand-in model's logits (N, T, V) in float64, from the float32 tables it was given."""
    A, B, c = (np.asarray(tables[k], dtype=np.float32).astype(np.float64) for k in ("A", "B", "c"))
    tokens = np.asarray(tokens, dtype=np.int64)
    previous = np.concatenate([np.full_like(tokens[:, :1], A.shape[0]), tokens[:, :-1]], axis=1)
    return A[tokens] + B[previous] + c


def greedy(tables: dict, prefix: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    """Greedy decoding of the stand-in model: the continued sequence, and the smallest gap between
    the best and the second-best logit along the way (the grader's guard against near-ties)."""
    seq = list(np.asarray(prefix, dtype=np.int64))
    gap = np.inf
    for _ in range(n):
        z = stand_in_logits(tables, np.asarray([seq]))[0, -1]
        top = np.sort(z)[-2:]
        gap = min(gap, float(top[1] - top[0]))
        seq.append(int(np.argmax(z)))
    return np.asarray(seq, dtype=np.int64), gap


def softmax(z: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(z / τ) in float64."""
    u = np.asarray(z, dtype=np.float64) / temperature
    e = np.exp(u - u.max())
    return e / e.sum()


def total_variation(tokens: np.ndarray, probs: np.ndarray) -> float:
    """½ Σ_v |frequency of v in ``tokens`` − probs[v]|."""
    counts = np.bincount(np.asarray(tokens, dtype=np.int64), minlength=len(probs))[:len(probs)]
    return 0.5 * float(np.abs(counts / max(len(tokens), 1) - probs).sum())
