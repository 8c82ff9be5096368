"""Public tests of Week 4 (``rnn.py`` and ``char_lm.py``): wiring, shapes, dtypes and small examples by hand.

Run them with ``make test`` (all tasks) or ``make test TASK=3`` (one task). They are about a third of
the checks: passing them means your functions are wired correctly, not that they are correct. The
hidden graders compare your cells and sequence LSTM with PyTorch's own layers, your gradients with
autograd, your clipping with ``clip_grad_norm_``, train your language model and measure its
perplexity on held-out text, and check your sampler's frequencies.

Your code runs in a separate process: arguments reach it as copies and results come back as plain
numpy arrays, tensors and Python values; your torch model stays there and is reached through a
handle. The course's public drivers (``lm_logits``, ``stand_in_lm``, ``state_dict``) run beside
your code and return data.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from coursekit.checks import as_scalar, expect_array, expect_close, expect_equal, expect_true
from coursekit.grading.client import ObjectProxy

F64 = torch.float64


def _results(got, count: int, what: str) -> tuple:
    """``got`` must be a tuple of ``count`` values (what ``what`` returns)."""
    expect_true(type(got) is tuple and len(got) == count,
                f"{what} must return a tuple of {count} values", f"got {got!r:.200}")
    return got


def _t(values, dtype=F64) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype)


def _sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def _random(shape, seed, dtype=F64) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- Task 1: rnn_cell -----------------------------------------------------------------------


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_rnn_cell_shape_and_dtype(submission):
    """rnn_cell maps x (3, 4) and h (3, 5) to h' (3, 5), float32 for float32 inputs"""
    f32 = torch.float32
    got = submission.rnn.rnn_cell(_random((3, 4), 1, f32), _random((3, 5), 2, f32), _random((5, 4), 3, f32),
                                  _random((5, 5), 4, f32), _random(5, 5, f32), _random(5, 6, f32))
    expect_array(got, "h'", shape=(3, 5), dtype_kind="f")
    expect_true(got.dtype == f32, "h' must be float32 for float32 inputs", f"got dtype {got.dtype}")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_rnn_cell_small_example(submission):
    """rnn_cell computes tanh(x W_ih^T + b_ih + h W_hh^T + b_hh): one unit by hand"""
    got = submission.rnn.rnn_cell(_t([[1.0, 2.0]]), _t([[0.5]]), _t([[0.25, -0.5]]), _t([[2.0]]),
                                  _t([0.1]), _t([-0.3]))
    # 0.25·1 - 0.5·2 + 0.1 + 2·0.5 - 0.3 = 0.05
    expect_close(got, np.array([[math.tanh(0.05)]]), "h' of the small example")


# --- Task 2: lstm_cell ----------------------------------------------------------------------

# One unit, one input: W_ih holds one weight per gate, in the order i, f, g, o.
LSTM_W_IH = [[0.5], [-1.0], [2.0], [1.0]]


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_lstm_cell_shapes(submission):
    """lstm_cell returns (h', c'), both (N, H) of the inputs' dtype"""
    N, I, H = 2, 3, 4
    got = submission.rnn.lstm_cell(_random((N, I), 1), _random((N, H), 2), _random((N, H), 3),
                                   _random((4 * H, I), 4), _random((4 * H, H), 5), _random(4 * H, 6),
                                   _random(4 * H, 7))
    h1, c1 = _results(got, 2, "lstm_cell")
    for name, value in (("h'", h1), ("c'", c1)):
        expect_array(value, name, shape=(N, H), dtype_kind="f")
        expect_true(value.dtype == F64, f"{name} must be float64 for float64 inputs", f"got {value.dtype}")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_lstm_cell_gate_order(submission):
    """lstm_cell splits the pre-activations in the order i, f, g, o: one unit by hand"""
    h1, c1 = _results(submission.rnn.lstm_cell(_t([[1.0]]), _t([[0.0]]), _t([[2.0]]), _t(LSTM_W_IH),
                                               _t([[0.0]] * 4), _t([0.0] * 4), _t([0.0] * 4)), 2, "lstm_cell")
    c_want = _sigmoid(-1.0) * 2.0 + _sigmoid(0.5) * math.tanh(2.0)  # f·c + i·g
    expect_close(c1, np.array([[c_want]]), "c' = f c + i g")
    expect_close(h1, np.array([[_sigmoid(1.0) * math.tanh(c_want)]]), "h' = o tanh(c')")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_lstm_cell_uses_h_and_both_biases(submission):
    """lstm_cell adds h W_hh^T and both biases to the pre-activations: one unit by hand"""
    W_hh = [[1.0], [2.0], [-1.0], [0.5]]
    b_ih, b_hh = [0.1, 0.2, 0.3, 0.4], [0.4, -0.2, 0.1, 0.1]
    h1, c1 = _results(submission.rnn.lstm_cell(_t([[0.0]]), _t([[1.0]]), _t([[-1.0]]), _t([[0.0]] * 4),
                                               _t(W_hh), _t(b_ih), _t(b_hh)), 2, "lstm_cell")
    a = [w[0] * 1.0 + bi + bh for w, bi, bh in zip(W_hh, b_ih, b_hh)]  # i, f, g, o
    c_want = _sigmoid(a[1]) * -1.0 + _sigmoid(a[0]) * math.tanh(a[2])
    expect_close(c1, np.array([[c_want]]), "c'")
    expect_close(h1, np.array([[_sigmoid(a[3]) * math.tanh(c_want)]]), "h'")


# --- Task 3: gru_cell -----------------------------------------------------------------------


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_gru_cell_shape(submission):
    """gru_cell maps x (2, 3) and h (2, 4) to h' (2, 4) of the inputs' dtype"""
    got = submission.rnn.gru_cell(_random((2, 3), 1), _random((2, 4), 2), _random((12, 3), 3),
                                  _random((12, 4), 4), _random(12, 5), _random(12, 6))
    expect_array(got, "h'", shape=(2, 4), dtype_kind="f")
    expect_true(got.dtype == F64, "h' must be float64 for float64 inputs", f"got dtype {got.dtype}")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_gru_cell_small_example(submission):
    """gru_cell: the reset gate scales h W_hn^T + b_hn (bias included), gates in the order r, z, n"""
    W_ih, W_hh = [[0.5], [-0.5], [1.0]], [[1.0], [0.25], [2.0]]
    b_ih, b_hh = [0.0, 0.1, -0.2], [0.2, 0.0, 0.6]
    x, h = 1.0, 0.5
    got = submission.rnn.gru_cell(_t([[x]]), _t([[h]]), _t(W_ih), _t(W_hh), _t(b_ih), _t(b_hh))
    xr, xz, xn = (w[0] * x + b for w, b in zip(W_ih, b_ih))
    hr, hz, hn = (w[0] * h + b for w, b in zip(W_hh, b_hh))
    r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
    n = math.tanh(xn + r * hn)
    expect_close(got, np.array([[(1 - z) * n + z * h]]), "h' of the small example")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_gru_cell_update_gate_keeps_the_state(submission):
    """gru_cell keeps the old state when the update gate is saturated at 1 (h' = z h + (1 - z) n)"""
    h = _random((1, 3), 7)
    b_ih = torch.zeros(9, dtype=F64)
    b_ih[3:6] = 60.0  # z = sigmoid(60) = 1 in float64
    got = submission.rnn.gru_cell(_random((1, 2), 8), h, _random((9, 2), 9), _random((9, 3), 10), b_ih,
                                  torch.zeros(9, dtype=F64))
    expect_close(got, h, "h' with z = 1")


# --- Task 4: lstm_forward -------------------------------------------------------------------


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_lstm_forward_shapes(submission):
    """lstm_forward returns out (T, N, H) and (h_T, c_T), with h_T equal to out[-1]"""
    T, N, I, H = 5, 2, 3, 4
    got = submission.rnn.lstm_forward(_random((T, N, I), 1), _random((N, H), 2), _random((N, H), 3),
                                      _random((4 * H, I), 4), _random((4 * H, H), 5), _random(4 * H, 6),
                                      _random(4 * H, 7))
    out, state = _results(got, 2, "lstm_forward")
    h_T, c_T = _results(tuple(state) if type(state) is list else state, 2, "lstm_forward's final state")
    expect_array(out, "out", shape=(T, N, H), dtype_kind="f")
    expect_array(h_T, "h_T", shape=(N, H), dtype_kind="f")
    expect_array(c_T, "c_T", shape=(N, H), dtype_kind="f")
    expect_close(h_T, out[-1], "h_T against out[-1]")


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_lstm_forward_two_steps(submission):
    """lstm_forward runs the steps in order, carrying (h, c): two steps of one unit by hand"""
    xs, h, c = [1.0, -2.0], 0.0, 0.5
    W_hh = [[0.5], [1.0], [-1.0], [2.0]]
    want = []
    for x in xs:
        a = [wi[0] * x + wh[0] * h for wi, wh in zip(LSTM_W_IH, W_hh)]
        c = _sigmoid(a[1]) * c + _sigmoid(a[0]) * math.tanh(a[2])
        h = _sigmoid(a[3]) * math.tanh(c)
        want.append(h)
    got = submission.rnn.lstm_forward(_t([[[1.0]], [[-2.0]]]), _t([[0.0]]), _t([[0.5]]), _t(LSTM_W_IH),
                                      _t(W_hh), _t([0.0] * 4), _t([0.0] * 4))
    out, state = _results(got, 2, "lstm_forward")
    _, c_T = _results(tuple(state) if type(state) is list else state, 2, "lstm_forward's final state")
    expect_close(out, np.array(want).reshape(2, 1, 1), "out of two steps")
    expect_close(c_T, np.array([[c]]), "c_T after two steps")


# --- Task 5: rnn_forward_np -----------------------------------------------------------------


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_rnn_forward_np_shapes(submission):
    """rnn_forward_np returns (hs, cache): float64 hs (T, N, H) and a tuple"""
    g = np.random.default_rng(1)
    T, N, D, H = 4, 3, 2, 5
    got = submission.rnn.rnn_forward_np(g.standard_normal((T, N, D)), g.standard_normal((N, H)),
                                        g.standard_normal((D, H)), g.standard_normal((H, H)),
                                        g.standard_normal(H))
    hs, cache = _results(got, 2, "rnn_forward_np")
    expect_array(hs, "hs", shape=(T, N, H), dtype_kind="f")
    expect_true(hs.dtype == np.float64, "hs must be float64", f"got dtype {hs.dtype}")
    expect_true(type(cache) is tuple, "rnn_forward_np's cache must be a tuple", f"got {type(cache).__name__}")


# Two steps of one unit: x_0 = 1, x_1 = -1, h0 = 0, Wx = 0.5, Wh = 2, b = 0.1.
NP_X = np.array([[[1.0]], [[-1.0]]])
NP_ARGS = (NP_X, np.array([[0.0]]), np.array([[0.5]]), np.array([[2.0]]), np.array([0.1]))
NP_H0 = math.tanh(0.5 + 0.1)
NP_H1 = math.tanh(-0.5 + 2.0 * NP_H0 + 0.1)


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_rnn_forward_np_small_example(submission):
    """rnn_forward_np computes h_t = tanh(x_t Wx + h_{t-1} Wh + b): two steps of one unit by hand"""
    hs, _ = _results(submission.rnn.rnn_forward_np(*NP_ARGS), 2, "rnn_forward_np")
    expect_close(hs, np.array([NP_H0, NP_H1]).reshape(2, 1, 1), "hs of the small example")


# --- Task 6: rnn_backward_np ----------------------------------------------------------------


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_rnn_backward_np_shapes(submission):
    """rnn_backward_np returns (dx, dh0, dWx, dWh, db) with the shapes of x, h0, Wx, Wh and b"""
    g = np.random.default_rng(2)
    T, N, D, H = 3, 2, 4, 5
    args = (g.standard_normal((T, N, D)), g.standard_normal((N, H)), g.standard_normal((D, H)),
            g.standard_normal((H, H)), g.standard_normal(H))
    _, cache = _results(submission.rnn.rnn_forward_np(*args), 2, "rnn_forward_np")
    grads = _results(submission.rnn.rnn_backward_np(g.standard_normal((T, N, H)), cache), 5, "rnn_backward_np")
    for name, value, arg in zip(("dx", "dh0", "dWx", "dWh", "db"), grads, args):
        expect_array(value, name, shape=arg.shape, dtype_kind="f")


@pytest.mark.task(6)
@pytest.mark.points(2)
def test_rnn_backward_np_small_example(submission):
    """rnn_backward_np on two steps of one unit with dhs = 1 on both steps, by hand"""
    _, cache = _results(submission.rnn.rnn_forward_np(*NP_ARGS), 2, "rnn_forward_np")
    dx, dh0, dWx, dWh, db = _results(submission.rnn.rnn_backward_np(np.ones((2, 1, 1)), cache), 5,
                                     "rnn_backward_np")
    da1 = 1.0 * (1 - NP_H1 ** 2)  # step 1 gets only its own upstream gradient
    da0 = (1.0 + da1 * 2.0) * (1 - NP_H0 ** 2)  # step 0: its own, plus what step 1 sends back through Wh
    expect_close(dx, np.array([da0 * 0.5, da1 * 0.5]).reshape(2, 1, 1), "dx")
    expect_close(dh0, np.array([[da0 * 2.0]]), "dh0")
    expect_close(dWx, np.array([[da0 * 1.0 + da1 * -1.0]]), "dWx")
    expect_close(dWh, np.array([[da0 * 0.0 + da1 * NP_H0]]), "dWh")
    expect_close(db, np.array([da0 + da1]), "db")


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_rnn_backward_np_first_step_only(submission):
    """rnn_backward_np with an upstream gradient on the first step only: nothing reaches the later step"""
    _, cache = _results(submission.rnn.rnn_forward_np(*NP_ARGS), 2, "rnn_forward_np")
    dx, dh0, _, dWh, _ = _results(submission.rnn.rnn_backward_np(np.array([[[1.0]], [[0.0]]]), cache), 5,
                                  "rnn_backward_np")
    da0 = 1 - NP_H0 ** 2
    expect_close(dx, np.array([da0 * 0.5, 0.0]).reshape(2, 1, 1), "dx")
    expect_close(dh0, np.array([[da0 * 2.0]]), "dh0")
    expect_close(dWh, np.array([[0.0]]), "dWh (h0 = 0)")


# --- Task 7: clip_grad_norm -----------------------------------------------------------------

CLIP_GRADS = [[3.0, 4.0], [[12.0]]]  # global norm sqrt(9 + 16 + 144) = 13


def _clipped_list(clipped) -> list:
    expect_true(type(clipped) is list and len(clipped) == 2, "the clipped gradients must be a list of 2 tensors",
                f"got {type(clipped).__name__}")
    return clipped


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_clip_grad_norm_total(submission):
    """clip_grad_norm returns (clipped list, total norm); the norm is taken over all tensors together"""
    clipped, total = _results(submission.rnn.clip_grad_norm([_t(g) for g in CLIP_GRADS], 100.0), 2,
                              "clip_grad_norm")
    _clipped_list(clipped)
    expect_close(as_scalar(total, "the total norm"), np.float64(13.0), "the total norm of [3, 4] and [[12]]")


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_clip_grad_norm_below_the_bound(submission):
    """clip_grad_norm leaves gradients whose global norm is within max_norm unchanged"""
    clipped, _ = _results(submission.rnn.clip_grad_norm([_t(g) for g in CLIP_GRADS], 20.0), 2, "clip_grad_norm")
    _clipped_list(clipped)
    expect_close(clipped[0], np.array(CLIP_GRADS[0]), "the first gradient")
    expect_close(clipped[1], np.array(CLIP_GRADS[1]), "the second gradient")


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_clip_grad_norm_above_the_bound(submission):
    """clip_grad_norm scales every gradient by max_norm / (total + 1e-6) when the total is larger"""
    clipped, _ = _results(submission.rnn.clip_grad_norm([_t(g) for g in CLIP_GRADS], 6.5), 2, "clip_grad_norm")
    _clipped_list(clipped)
    scale = 6.5 / (13.0 + 1e-6)
    expect_close(clipped[0], scale * np.array(CLIP_GRADS[0]), "the first gradient")
    expect_close(clipped[1], scale * np.array(CLIP_GRADS[1]), "the second gradient")


# --- Task 8: build_lm -----------------------------------------------------------------------

V = 64


def _tokens(shape, seed) -> torch.Tensor:
    return torch.randint(0, V, shape, generator=torch.Generator().manual_seed(seed))


def _model(submission, got, what: str):
    """``got`` must be a torch module (it stays in your process; the tests reach it by a handle)."""
    expect_true(isinstance(got, ObjectProxy) and submission.driver("is_torch_module", got, on="char_lm") is True,
                f"{what} must return a torch module (an nn.Module)", f"got {type(got).__name__}")
    return got


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_lm_logits_shape(submission):
    """build_lm(64)'s model maps tokens (2, 5) to float32 logits (2, 5, 64)"""
    model = _model(submission, submission.char_lm.build_lm(V), "build_lm")
    logits = submission.driver("lm_logits", model, _tokens((2, 5), 1), on="char_lm")
    expect_array(logits, "logits", shape=(2, 5, V), dtype_kind="f")
    expect_true(logits.dtype == torch.float32, "the logits must be float32", f"got dtype {logits.dtype}")


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_lm_one_token(submission):
    """build_lm's model takes a batch of one sequence of one token: logits (1, 1, V)"""
    model = _model(submission, submission.char_lm.build_lm(V), "build_lm")
    logits = submission.driver("lm_logits", model, _tokens((1, 1), 2), on="char_lm")
    expect_array(logits, "logits", shape=(1, 1, V), dtype_kind="f")


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_lm_ignores_the_future(submission):
    """build_lm's model is causal: changing the last token leaves the logits before it unchanged"""
    model = _model(submission, submission.char_lm.build_lm(V), "build_lm")
    tokens = _tokens((1, 8), 3)
    changed = tokens.clone()
    changed[0, -1] = (changed[0, -1] + 1) % V
    first = submission.driver("lm_logits", model, tokens, on="char_lm")
    second = submission.driver("lm_logits", model, changed, on="char_lm")
    expect_array(first, "logits", shape=(1, 8, V), dtype_kind="f")
    expect_array(second, "logits", shape=(1, 8, V), dtype_kind="f")
    expect_close(second[:, :-1], first[:, :-1], "logits at positions 0..6")


# --- Task 9: perplexity ---------------------------------------------------------------------


@pytest.mark.task(9)
@pytest.mark.points(1)
def test_perplexity_of_a_uniform_model(submission):
    """perplexity of logits that are all equal is the vocabulary size"""
    got = submission.char_lm.perplexity(torch.zeros(2, 3, 10), torch.tensor([[1, 2, 3], [4, 5, 6]]))
    expect_close(as_scalar(got, "perplexity"), np.float64(10.0), "perplexity of uniform predictions over 10 tokens")


@pytest.mark.task(9)
@pytest.mark.points(1)
def test_perplexity_small_example(submission):
    """perplexity is exp of the mean cross-entropy in nats: probabilities 3/4 and 1/4 give 1 / sqrt(3/16)"""
    logits = torch.tensor([[[0.0, math.log(3.0)], [math.log(3.0), 0.0]]], dtype=F64)
    got = submission.char_lm.perplexity(logits, torch.tensor([[1, 1]]))
    expect_close(as_scalar(got, "perplexity"), np.float64(1.0 / math.sqrt(0.75 * 0.25)),
                 "perplexity of the small example")


# --- Task 10: train_lm ----------------------------------------------------------------------


@pytest.mark.task(10)
@pytest.mark.builds_on(8)
@pytest.mark.points(1)
def test_train_lm_returns_a_model(submission):
    """train_lm runs 5 steps on 300 tokens and returns a model that still gives (N, T, V) logits"""
    lm = submission.char_lm
    model = _model(submission, lm.build_lm(V), "build_lm")
    model = _model(submission, lm.train_lm(model, _tokens((300,), 4), steps=5, seq_len=16, seed=0), "train_lm")
    logits = submission.driver("lm_logits", model, _tokens((2, 7), 5), on="char_lm")
    expect_array(logits, "logits of the returned model", shape=(2, 7, V), dtype_kind="f")


@pytest.mark.task(10)
@pytest.mark.builds_on(8)
@pytest.mark.points(1)
def test_train_lm_changes_the_parameters(submission):
    """train_lm changes the model's parameters (5 steps on 300 tokens)"""
    lm = submission.char_lm
    model = _model(submission, lm.build_lm(V), "build_lm")
    before = submission.driver("state_dict", model, on="char_lm")
    trained = _model(submission, lm.train_lm(model, _tokens((300,), 6), steps=5, seq_len=16, seed=0), "train_lm")
    after = submission.driver("state_dict", trained, on="char_lm")
    changed = [name for name in before if name not in after or before[name].shape != after[name].shape
               or not torch.equal(before[name], after[name])]
    expect_true(bool(changed), "no parameter changed during training")


# --- Task 11: sample ------------------------------------------------------------------------


def _cycle_model(submission):
    """A stand-in over 3 tokens whose best next token is always (current + 1) mod 3."""
    A = torch.zeros(3, 3)
    A[0, 1] = A[1, 2] = A[2, 0] = 5.0
    return submission.driver("stand_in_lm", A, torch.zeros(4, 3), torch.zeros(3), on="char_lm")


@pytest.mark.task(11)
@pytest.mark.points(1)
def test_sample_shape(submission):
    """sample returns (len(prefix) + n,) int64 tokens that start with the prefix"""
    got = submission.char_lm.sample(_cycle_model(submission), torch.tensor([2, 0]), 6, temperature=1.0, seed=0)
    expect_array(got, "the sample", shape=(8,), dtype_kind="i")
    expect_true(got.dtype == torch.int64, "the sample must be int64", f"got dtype {got.dtype}")
    expect_equal(got[:2], torch.tensor([2, 0]), "the sample's first two tokens (the prefix)")


@pytest.mark.task(11)
@pytest.mark.points(1)
def test_sample_greedy(submission):
    """sample with temperature 0 takes the most likely token each time: 0 -> 1 -> 2 -> 0 -> 1"""
    got = submission.char_lm.sample(_cycle_model(submission), torch.tensor([0]), 4, temperature=0.0, seed=0)
    expect_equal(got, torch.tensor([0, 1, 2, 0, 1]), "the greedy continuation of [0]")


@pytest.mark.task(11)
@pytest.mark.points(1)
def test_sample_same_seed_same_sample(submission):
    """sample with the same seed gives the same tokens"""
    model = _cycle_model(submission)
    first = submission.char_lm.sample(model, torch.tensor([1]), 20, temperature=2.0, seed=3)
    second = submission.char_lm.sample(model, torch.tensor([1]), 20, temperature=2.0, seed=3)
    expect_array(first, "the first sample", shape=(21,), dtype_kind="i")
    expect_equal(second, first, "the second sample with the same seed")
