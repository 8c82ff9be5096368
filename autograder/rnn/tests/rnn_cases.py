"""Week 4's hidden inputs and the judging steps the hidden tests share.

The seeds of every multi-case test are defined here; a single-case test names its seed inline.
Seeds follow one scheme, so none is reused by accident: 1xx for task 1, 2xx for task 2, and so on.
Failure messages name the check and what differed, never an expected value or an input: the
checks in :mod:`coursekit.checks` keep values in their ``detail``, which hidden tests do not show.

Where a task's function may build on an earlier task's (``lstm_forward`` on ``lstm_cell``, the
backward pass on the forward pass's ``cache``), a failure also checks the earlier function on the
same case and, when that one is wrong too, says so, naming its task.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import rnn_oracle as oracle
import torch

from coursekit.checks import GradeFailure, expect_array, expect_close, expect_true, unpack

# --- seeds and shapes -----------------------------------------------------------------------

#: A cell case: (N, I, H, seed).
CELL_F64 = [(3, 4, 5, 101), (2, 7, 3, 102), (5, 3, 8, 103), (4, 6, 6, 104)]
#: float32, batch sizes of one included.
CELL_F32 = [(3, 5, 4, 111), (1, 6, 5, 112), (1, 1, 3, 113)]
#: Offsets added to a cell case's seed for the LSTM (task 2) and the GRU (task 3).
LSTM_SEED, GRU_SEED = 100, 200

#: A sequence case: (T, N, I, H, seed).
SEQ_F64 = [(5, 3, 4, 6, 401), (1, 2, 3, 4, 402), (8, 2, 5, 3, 403), (6, 4, 2, 5, 404)]
#: float32, a batch of one included.
SEQ_F32 = [(6, 1, 3, 5, 411), (4, 3, 2, 4, 412)]

#: A numpy RNN case: (T, N, D, H, seed); the backward pass uses seed + 1000 for ``dhs``.
NP_CASES = [(4, 3, 5, 6, 501), (1, 2, 3, 4, 502), (7, 1, 2, 3, 503), (6, 4, 3, 5, 504),
            (10, 2, 4, 4, 505)]
#: The classic case: an upstream gradient on the last hidden state only.
NP_LAST_ONLY = (6, 3, 4, 5, 601)

#: A clipping case: (shapes, dtype name, max_norm as a multiple of the true norm, seed).
CLIP_ABOVE = [([(3, 4), (5,), (2, 3, 2)], "float64", 0.3, 701), ([(6,), (4, 4)], "float32", 0.5, 702),
              ([(2, 2, 2), (3,), (1,), (7, 2)], "float64", 0.05, 703)]
CLIP_BELOW = [([(3, 4), (5,)], "float64", 2.0, 711), ([(4,), (2, 5)], "float32", 1.5, 712)]


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _dtype(name: str):
    return {"float32": torch.float32, "float64": torch.float64}[name]


def cell_data(N: int, I: int, H: int, gates: int, seed: int, dtype) -> dict:
    """Inputs of one cell step: x (N, I), h and c (N, H), weights in PyTorch's layout, in ``dtype``."""
    g = rng(seed)
    data = {"x": g.standard_normal((N, I)), "h": np.tanh(g.standard_normal((N, H))),
            "c": g.standard_normal((N, H)),
            "W_ih": 0.6 * g.standard_normal((gates * H, I)), "W_hh": 0.6 * g.standard_normal((gates * H, H)),
            "b_ih": 0.5 * g.standard_normal(gates * H), "b_hh": 0.5 * g.standard_normal(gates * H)}
    return {k: torch.as_tensor(v).to(dtype) for k, v in data.items()}


def seq_data(T: int, N: int, I: int, H: int, seed: int, dtype) -> dict:
    """Inputs of an LSTM over a sequence: x (T, N, I), h0 and c0 (N, H), 4-gate weights."""
    g = rng(seed)
    data = {"x": g.standard_normal((T, N, I)), "h0": np.tanh(g.standard_normal((N, H))),
            "c0": g.standard_normal((N, H)),
            "W_ih": 0.5 * g.standard_normal((4 * H, I)), "W_hh": 0.5 * g.standard_normal((4 * H, H)),
            "b_ih": 0.4 * g.standard_normal(4 * H), "b_hh": 0.4 * g.standard_normal(4 * H)}
    return {k: torch.as_tensor(v).to(dtype) for k, v in data.items()}


def np_data(T: int, N: int, D: int, H: int, seed: int) -> dict:
    """Inputs of the numpy RNN, float64: x (T, N, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)."""
    g = rng(seed)
    return {"x": g.standard_normal((T, N, D)), "h0": np.tanh(g.standard_normal((N, H))),
            "Wx": 0.5 * g.standard_normal((D, H)), "Wh": 0.5 * g.standard_normal((H, H)),
            "b": 0.3 * g.standard_normal(H)}


def upstream(case: tuple, last_only: bool = False) -> np.ndarray:
    """``dhs`` (T, N, H) of a numpy RNN case: on every step, or on the last hidden state only."""
    T, N, _, H, seed = case
    dhs = rng(seed + 1000).standard_normal((T, N, H))
    if last_only:
        dhs[:-1] = 0.0
    return dhs


def clip_data(case: tuple) -> tuple[list, float]:
    """``(grads, max_norm)`` of a clipping case: random tensors and a bound relative to their norm."""
    shapes, dtype, ratio, seed = case
    g = rng(seed)
    grads = [torch.as_tensor(3.0 * g.standard_normal(s)).to(_dtype(dtype)) for s in shapes]
    norm = float(np.sqrt(sum(float((t.double() ** 2).sum()) for t in grads)))
    return grads, ratio * norm


# --- judging helpers ------------------------------------------------------------------------


def expect_tensor(got: Any, want: torch.Tensor, what: str) -> None:
    """``got`` is a tensor or array of ``want``'s shape and dtype, equal within its tolerance."""
    arr = expect_array(got, what, shape=tuple(want.shape), dtype_kind="f")
    expect_true(str(arr.dtype) == str(want.dtype).replace("torch.", ""),
                f"{what}: dtype {arr.dtype} differs from the inputs' dtype")
    expect_close(got, want, what)


#: Marks "the student's result was not computed yet" (None is a result: a wrong one).
UNSET = object()


def check_cell(module: Any, kind: str, case: tuple, dtype, what: str, value: Any = UNSET) -> None:
    """One cell step against ``nn.RNNCell``/``nn.LSTMCell``/``nn.GRUCell``; ``value`` is the
    student's result when it was already computed (by a driver)."""
    N, I, H, seed = case
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    seed = seed + {"rnn": 0, "lstm": LSTM_SEED, "gru": GRU_SEED}[kind]
    d = cell_data(N, I, H, gates, seed, dtype)
    weights = (d["W_ih"], d["W_hh"], d["b_ih"], d["b_hh"])
    if kind == "lstm":
        got = value if value is not UNSET else module.lstm_cell(d["x"], d["h"], d["c"], *weights)
        h1, c1 = unpack(got, 2, f"{what}: lstm_cell")
        want_h, want_c = oracle.lstm_cell(d["x"], d["h"], d["c"], *weights)
        expect_tensor(h1, want_h, f"{what}: h'")
        expect_tensor(c1, want_c, f"{what}: c'")
        return
    function = getattr(module, f"{kind}_cell")
    got = value if value is not UNSET else function(d["x"], d["h"], *weights)
    want = getattr(oracle, f"{kind}_cell")(d["x"], d["h"], *weights)
    expect_tensor(got, want, f"{what}: h'")


def cell_args(kind: str, case: tuple, dtype) -> list:
    """The positional arguments of a cell case, for drivers that call the student's cell."""
    N, I, H, seed = case
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    seed = seed + {"rnn": 0, "lstm": LSTM_SEED, "gru": GRU_SEED}[kind]
    d = cell_data(N, I, H, gates, seed, dtype)
    state = [d["h"], d["c"]] if kind == "lstm" else [d["h"]]
    return [d["x"], *state, d["W_ih"], d["W_hh"], d["b_ih"], d["b_hh"]]


def _lstm_cell_is_wrong(module: Any, dtype) -> bool:
    """Whether the student's lstm_cell (task 2) fails a case of its own."""
    try:
        check_cell(module, "lstm", CELL_F64[0], dtype, "lstm_cell")
    except GradeFailure:
        return True
    except Exception:  # noqa: BLE001 - it raised: it is wrong too (this is only for the message)
        return True
    return False


def check_lstm_forward(module: Any, case: tuple, dtype, what: str, part: str) -> None:
    """lstm_forward against a one-layer ``nn.LSTM``: ``part`` is "out" or "state" or "both"."""
    d = seq_data(*case, dtype)
    args = (d["x"], d["h0"], d["c0"], d["W_ih"], d["W_hh"], d["b_ih"], d["b_hh"])
    want_out, (want_h, want_c) = oracle.lstm_forward(*args)
    try:
        out, state = unpack(module.lstm_forward(*args), 2, f"{what}: lstm_forward")
        if part in ("out", "both"):
            expect_tensor(out, want_out, f"{what}: out")
        if part in ("state", "both"):
            h_T, c_T = unpack(state, 2, f"{what}: lstm_forward's final state (h_T, c_T)")
            expect_tensor(h_T, want_h, f"{what}: h_T")
            expect_tensor(c_T, want_c, f"{what}: c_T")
    except GradeFailure as failure:
        if _lstm_cell_is_wrong(module, dtype):
            raise GradeFailure(failure.summary + " (your lstm_cell, task 2, is wrong too: if "
                               "lstm_forward uses it, fix it first)", failure.detail) from None
        raise


def np_forward(module: Any, d: dict, what: str) -> tuple[np.ndarray, Any]:
    """The student's ``rnn_forward_np``: ``(hs, cache)`` with ``hs`` a float array."""
    hs, cache = unpack(module.rnn_forward_np(d["x"], d["h0"], d["Wx"], d["Wh"], d["b"]), 2,
                       f"{what}: rnn_forward_np")
    return expect_array(hs, f"{what}: rnn_forward_np's hs", dtype_kind="f"), cache


def check_np_forward(module: Any, case: tuple, what: str) -> None:
    """rnn_forward_np's hs against the closed form in float64."""
    d = np_data(*case)
    want = oracle.rnn_forward_np(**d)
    hs, _ = np_forward(module, d, what)
    expect_array(hs, f"{what}: hs", shape=want.shape)
    expect_close(hs, want, f"{what}: hs")


def _np_forward_is_right(hs: np.ndarray, d: dict) -> bool:
    """Whether the student's hs (task 5) equals the closed form on this case."""
    try:
        want = oracle.rnn_forward_np(**d)
        expect_array(hs, "hs", shape=want.shape)
        expect_close(hs, want, "hs")
    except GradeFailure:
        return False
    return True


def check_np_backward(module: Any, case: tuple, what: str, which: str, last_only: bool = False) -> None:
    """The named gradients of rnn_backward_np (with the cache of the student's own forward pass)
    against autograd in float64."""
    d = np_data(*case)
    dhs = upstream(case, last_only)
    want = dict(zip(("dx", "dh0", "dWx", "dWh", "db"), oracle.rnn_backward_np(**d, dhs=dhs)))
    hs, cache = np_forward(module, d, what)
    got = dict(zip(want, unpack(module.rnn_backward_np(dhs, cache), 5, f"{what}: rnn_backward_np")))
    for name in which.split():
        try:
            expect_array(got[name], f"{what}: {name}", shape=want[name].shape, dtype_kind="f")
            expect_close(got[name], want[name], f"{what}: {name}")
        except GradeFailure as failure:
            if not _np_forward_is_right(hs, d):
                raise GradeFailure(failure.summary + " (your rnn_forward_np, task 5, is wrong on this "
                                   "case too, and its cache feeds the backward pass)", failure.detail) from None
            raise


def check_clip(module: Any, case: tuple, what: str, part: str, value: Any = UNSET) -> None:
    """clip_grad_norm against ``torch.nn.utils.clip_grad_norm_``: ``part`` is "norm" or "values"."""
    grads, max_norm = clip_data(case)
    want_grads, want_norm = oracle.clip_grad_norm(grads, max_norm)
    got = value if value is not UNSET else module.clip_grad_norm(grads, max_norm)
    clipped, total = unpack(got, 2, f"{what}: clip_grad_norm")
    if part == "norm":
        from coursekit.checks import as_scalar
        norm = as_scalar(total, f"{what}: the total norm")
        dtype = np.float32 if grads[0].dtype == torch.float32 else np.float64
        expect_close(np.asarray(norm, dtype=np.float64), np.asarray(want_norm, dtype=dtype),
                     f"{what}: the total norm")
        return
    expect_true(type(clipped) in (list, tuple) and len(clipped) == len(grads),
                f"{what}: the clipped gradients must be a list with one tensor per gradient")
    for k, (g, w) in enumerate(zip(clipped, want_grads)):
        expect_tensor(g, w, f"{what}: clipped gradient {k}")
