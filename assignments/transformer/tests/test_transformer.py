"""Public tests of Week 5 (``transformer.py``): wiring, shapes, dtypes and small examples by hand.

Run them with ``make test`` (all tasks) or ``make test TASK=3`` (one task). They are about a third of
the checks: passing them means your code is wired correctly, not that it is correct. The hidden
graders compare your attention, multi-head attention and layer norm with PyTorch's own operators
on random inputs, your block and model with the grader's implementation, check causality and
padding masks, and train your model on held-out sequence reversal.

Your code runs in a separate process: arguments reach it as copies and results come back as plain
tensors and Python values; your modules stay there and are reached through handles. The course's
public drivers (``module_forward``, ``parameter_info``, ``set_parameters``, ``mean_context_lm``,
``fixed_lm``, ``pool_task``, ...) run beside your code and return data.
"""

from __future__ import annotations

import math

import pytest
import torch

from coursekit.checks import expect_array, expect_close, expect_equal, expect_true
from coursekit.data import ReversalTask

F32 = torch.float32


def _tensor(value, what: str, shape=None, kind: str = "f") -> torch.Tensor:
    expect_true(not (type(value) is dict and "problem" in value), f"{what}: {value}")
    return torch.as_tensor(expect_array(value, what, shape=shape, dtype_kind=kind))


def _attend(submission, q, k, v, mask=None):
    got = submission.transformer.scaled_dot_product_attention(q, k, v, mask)
    expect_true(type(got) in (tuple, list) and len(got) == 2,
                "scaled_dot_product_attention must return a tuple (out, weights)", f"got {got!r:.200}")
    return got


def _params(submission, module) -> dict:
    info = submission.driver("parameter_info", module)
    expect_true("parameters" in info, "could not list the module's parameters", f"{info}")
    return {k: tuple(v) for k, v in info["parameters"].items()}


def _forward(submission, module, *inputs, what: str, shape=None):
    return _tensor(submission.driver("module_forward", module, *inputs), what, shape=shape)


# --- Task 1: scaled_dot_product_attention ---------------------------------------------------------


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_attention_shapes(submission):
    """attention returns out (..., Tq, dv) and weights (..., Tq, Tk), float32 for float32 inputs"""
    g = torch.Generator().manual_seed(1)
    q, k, v = torch.randn(2, 3, 4, 8, generator=g), torch.randn(2, 3, 6, 8, generator=g), \
        torch.randn(2, 3, 6, 5, generator=g)
    out, weights = _attend(submission, q, k, v)
    out = _tensor(out, "out", shape=(2, 3, 4, 5))
    weights = _tensor(weights, "weights", shape=(2, 3, 4, 6))
    expect_true(out.dtype == F32 and weights.dtype == F32, "out and weights must be float32 here",
                f"got {out.dtype} and {weights.dtype}")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_attention_equal_scores_average_the_values(submission):
    """with q = 0 every score is equal: the weights are uniform and out is the mean of the values"""
    v = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 1.0]])
    out, weights = _attend(submission, torch.zeros(2, 4), torch.ones(3, 4), v)
    expect_close(_tensor(weights, "weights", shape=(2, 3)), torch.full((2, 3), 1 / 3), "weights")
    expect_close(_tensor(out, "out", shape=(2, 2)), torch.tensor([[3.0, 3.0], [3.0, 3.0]]), "out")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_attention_small_example(submission):
    """one query, two keys, d = 2: scores 1/sqrt(2) and 0, weights softmax of them"""
    q, k = torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    v = torch.tensor([[10.0], [20.0]])
    a = math.exp(1 / math.sqrt(2))
    w = torch.tensor([[a / (a + 1), 1 / (a + 1)]])
    out, weights = _attend(submission, q, k, v)
    expect_close(_tensor(weights, "weights", shape=(1, 2)), w, "weights (the scores are divided by sqrt(d))")
    expect_close(_tensor(out, "out", shape=(1, 1)), w @ v, "out")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_attention_boolean_mask(submission):
    """a boolean mask with False at a key gives that key weight exactly 0 (True = may attend)"""
    q, k = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    v = torch.tensor([[10.0], [20.0]])
    mask = torch.tensor([[True, False], [True, True]])
    out, weights = _attend(submission, q, k, v, mask)
    weights = _tensor(weights, "weights", shape=(2, 2))
    expect_equal(weights[0], torch.tensor([1.0, 0.0]), "weights of the first query (its second key is masked)")
    expect_close(_tensor(out, "out", shape=(2, 1))[0], torch.tensor([10.0]), "out of the first query")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_attention_additive_mask(submission):
    """a float mask is added to the scores: equal scores plus [0, log 3] give weights [1/4, 3/4]"""
    q, k = torch.zeros(1, 3), torch.ones(2, 3)
    v = torch.tensor([[4.0], [8.0]])
    mask = torch.tensor([[0.0, math.log(3.0)]])
    out, weights = _attend(submission, q, k, v, mask)
    expect_close(_tensor(weights, "weights", shape=(1, 2)), torch.tensor([[0.25, 0.75]]), "weights")
    expect_close(_tensor(out, "out", shape=(1, 1)), torch.tensor([[7.0]]), "out")


# --- Task 2: causal_mask --------------------------------------------------------------------------


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_causal_mask_3(submission):
    """causal_mask(3) is a bool (3, 3) tensor, True on and below the diagonal"""
    got = _tensor(submission.transformer.causal_mask(3), "causal_mask(3)", shape=(3, 3), kind="b")
    expect_equal(got, torch.tensor([[True, False, False], [True, True, False], [True, True, True]]),
                 "causal_mask(3)")


# --- Task 3: MultiHeadAttention -------------------------------------------------------------------


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_mha_parameters(submission):
    """MultiHeadAttention(8, 2) has in_proj_weight (24, 8), in_proj_bias (24,) and out_proj (8 -> 8)"""
    got = _params(submission, submission.transformer.MultiHeadAttention(8, 2))
    want = {"in_proj_weight": (24, 8), "in_proj_bias": (24,), "out_proj.weight": (8, 8), "out_proj.bias": (8,)}
    expect_equal(got, want, "parameter names and shapes")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_mha_attributes(submission):
    """MultiHeadAttention(8, 2) keeps d_model = 8 and n_heads = 2 as attributes"""
    module = submission.transformer.MultiHeadAttention(8, 2)
    expect_equal(module.d_model, 8, "d_model")
    expect_equal(module.n_heads, 2, "n_heads")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_mha_output_shape(submission):
    """MultiHeadAttention maps x (2, 5, 8) to float32 (2, 5, 8)"""
    module = submission.transformer.MultiHeadAttention(8, 2)
    x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(3))
    out = _forward(submission, module, x, what="output", shape=(2, 5, 8))
    expect_true(out.dtype == F32, "the output must be float32", f"got {out.dtype}")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_mha_causal_first_position(submission):
    """with a causal (T, T) mask, the first position's output is the output for the first token alone"""
    module = submission.transformer.MultiHeadAttention(8, 2)
    x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(4))
    mask = torch.ones(5, 5, dtype=torch.bool).tril()
    full = _forward(submission, module, x, mask, what="output", shape=(2, 5, 8))
    expect_true(bool(torch.isfinite(full).all()), "the output contains NaN or infinity")
    first = _forward(submission, module, x[:, :1], what="output for one token", shape=(2, 1, 8))
    expect_close(full[:, 0], first[:, 0], "output at position 0")


# --- Task 4: sinusoidal_positions -----------------------------------------------------------------


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_positions_small_example(submission):
    """sinusoidal_positions(3, 4): columns sin(p), cos(p), sin(p / 100), cos(p / 100)"""
    got = _tensor(submission.transformer.sinusoidal_positions(3, 4), "PE", shape=(3, 4))
    want = torch.tensor([[math.sin(p), math.cos(p), math.sin(p / 100), math.cos(p / 100)] for p in range(3)])
    expect_true(got.dtype == F32, "the encoding must be float32", f"got {got.dtype}")
    expect_close(got, want, "sinusoidal_positions(3, 4)")


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_positions_odd_d(submission):
    """sinusoidal_positions(4, 5): shape (4, 5), and the last column is sin(p / 10000^(4/5))"""
    got = _tensor(submission.transformer.sinusoidal_positions(4, 5), "PE", shape=(4, 5))
    expect_close(got[:, 4], torch.tensor([math.sin(p / 10000 ** 0.8) for p in range(4)]), "the last column")


# --- Task 5: LayerNorm ----------------------------------------------------------------------------


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_layernorm_small_example(submission):
    """LayerNorm(3) maps [1, 2, 3] to (x - 2) / sqrt(2/3 + eps) (biased variance)"""
    module = submission.transformer.LayerNorm(3)
    got = _forward(submission, module, torch.tensor([[1.0, 2.0, 3.0]]), what="output", shape=(1, 3))
    s = math.sqrt(2 / 3 + 1e-5)
    expect_close(got, torch.tensor([[-1 / s, 0.0, 1 / s]]), "LayerNorm([1, 2, 3])")


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_layernorm_parameters(submission):
    """LayerNorm(4) has weight (4,) starting at ones and bias (4,) starting at zeros"""
    module = submission.transformer.LayerNorm(4)
    expect_equal(_params(submission, module), {"weight": (4,), "bias": (4,)}, "parameter names and shapes")
    state = submission.driver("state_dict", module)
    expect_equal(state["weight"], torch.ones(4), "initial weight")
    expect_equal(state["bias"], torch.zeros(4), "initial bias")


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_layernorm_shapes(submission):
    """LayerNorm(4) normalizes the last axis of a (2, 3, 4) float32 input: each row gets mean 0"""
    x = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(5)) * 3 + 1
    out = _forward(submission, submission.transformer.LayerNorm(4), x, what="output", shape=(2, 3, 4))
    expect_true(out.dtype == F32, "the output must be float32", f"got {out.dtype}")
    expect_close(out.mean(dim=-1), torch.zeros(2, 3), "the mean of each output row")


# --- Task 6: TransformerBlock ---------------------------------------------------------------------


def _block_params(d: int, d_ff: int) -> dict:
    return {"ln1.weight": (d,), "ln1.bias": (d,), "attn.in_proj_weight": (3 * d, d), "attn.in_proj_bias": (3 * d,),
            "attn.out_proj.weight": (d, d), "attn.out_proj.bias": (d,), "ln2.weight": (d,), "ln2.bias": (d,),
            "mlp.0.weight": (d_ff, d), "mlp.0.bias": (d_ff,), "mlp.2.weight": (d, d_ff), "mlp.2.bias": (d,)}


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_block_parameters(submission):
    """TransformerBlock(8, 2, 32) has the parameters of ln1, attn, ln2 and mlp = (Linear, GELU, Linear)"""
    got = _params(submission, submission.transformer.TransformerBlock(8, 2, 32))
    expect_equal(dict(sorted(got.items())), dict(sorted(_block_params(8, 32).items())), "parameter names and shapes")


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_block_output_shape(submission):
    """TransformerBlock maps x (2, 5, 8) to float32 (2, 5, 8)"""
    x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(6))
    out = _forward(submission, submission.transformer.TransformerBlock(8, 2, 32), x, what="output", shape=(2, 5, 8))
    expect_true(out.dtype == F32, "the output must be float32", f"got {out.dtype}")


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_block_with_zero_weights_is_the_identity(submission):
    """with every parameter zero, both branches give 0 and the residual connections return x itself"""
    block = submission.transformer.TransformerBlock(8, 2, 32)
    # The course's LayerNorm and attention replace ln1, ln2 and attn (so only this task's code counts).
    result = submission.driver("use_torch_parts", block, 8, 2)
    expect_true(result == {"ok": True}, "the block lacks ln1, attn, ln2 or mlp", f"{result}")
    zeros = {k.replace("attn.", "attn.inner.", 1): torch.zeros(s) for k, s in _block_params(8, 32).items()}
    result = submission.driver("set_parameters", block, zeros)
    expect_true(result == {"ok": True}, "could not set the block's parameters", f"{result}")
    x = torch.randn(2, 4, 8, generator=torch.Generator().manual_seed(7))
    expect_close(_forward(submission, block, x, what="output", shape=(2, 4, 8)), x, "output with zero weights")


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_block_is_causal(submission):
    """TransformerBlock's output at position 0 does not change when the later positions change"""
    block = submission.transformer.TransformerBlock(8, 2, 32)
    # The course's LayerNorm and attention replace ln1, ln2 and attn: the block's causal mask counts.
    result = submission.driver("use_torch_parts", block, 8, 2)
    expect_true(result == {"ok": True}, "the block lacks ln1, attn, ln2 or mlp", f"{result}")
    x = torch.randn(1, 6, 8, generator=torch.Generator().manual_seed(8))
    x2 = x.clone()
    x2[:, 1:] = torch.randn(1, 5, 8, generator=torch.Generator().manual_seed(18)) * 3
    a = _forward(submission, block, x, what="output", shape=(1, 6, 8))
    b = _forward(submission, block, x2, what="output", shape=(1, 6, 8))
    expect_true(bool(torch.isfinite(a).all()), "the output contains NaN or infinity")
    expect_close(b[:, 0], a[:, 0], "output at position 0 (is the causal mask applied, True on and below the diagonal?)")


# --- Task 7: DecoderLM ----------------------------------------------------------------------------


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_model_logits_shape(submission):
    """DecoderLM(11, 16, 4, 2, 13) maps tokens (3, 13) int64 to float32 logits (3, 13, 11)"""
    model = submission.transformer.DecoderLM(11, 16, 4, 2, 13)
    tokens = torch.randint(0, 11, (3, 13), generator=torch.Generator().manual_seed(9))
    logits = _forward(submission, model, tokens, what="logits", shape=(3, 13, 11))
    expect_true(logits.dtype == F32, "the logits must be float32", f"got {logits.dtype}")


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_model_parameters(submission):
    """DecoderLM(11, 16, 4, 1, 13): tok_emb, blocks.0, ln_f and head, and no learned positions"""
    got = _params(submission, submission.transformer.DecoderLM(11, 16, 4, 1, 13))
    want = {"tok_emb.weight": (11, 16), "ln_f.weight": (16,), "ln_f.bias": (16,), "head.weight": (11, 16),
            "head.bias": (11,), **{f"blocks.0.{k}": s for k, s in _block_params(16, 64).items()}}
    expect_equal(dict(sorted(got.items())), dict(sorted(want.items())), "parameter names and shapes")


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_model_one_token(submission):
    """DecoderLM works on a single token: (2, 1) tokens give (2, 1, 11) logits"""
    model = submission.transformer.DecoderLM(11, 16, 4, 2, 13)
    _forward(submission, model, torch.tensor([[3], [7]]), what="logits", shape=(2, 1, 11))


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_model_is_causal(submission):
    """DecoderLM's logits at position 0 do not change when the later tokens change (stand-in causal blocks)"""
    model = submission.transformer.DecoderLM(11, 16, 4, 2, 13)
    # The course's stand-in blocks (causal by construction) and layer norm replace blocks and ln_f,
    # so this checks the model's own wiring only.
    result = submission.driver("use_mixer_blocks", model, 16, 2)
    expect_true(result == {"ok": True}, "the model lacks tok_emb, blocks, ln_f or head", f"{result}")
    tokens = torch.tensor([[1, 2, 3, 4, 5, 6]])
    a = _forward(submission, model, tokens, what="logits", shape=(1, 6, 11))
    b = _forward(submission, model, torch.tensor([[1, 9, 9, 9, 9, 9]]), what="logits", shape=(1, 6, 11))
    expect_true(bool(torch.isfinite(a).all()), "the logits contain NaN or infinity")
    expect_close(b[:, 0], a[:, 0], "logits at position 0")
    expect_true(not torch.allclose(b[:, 1:], a[:, 1:]), "the logits do not depend on the tokens at all")


# --- Task 8: generate -----------------------------------------------------------------------------


def _fixed(submission, logits):
    return submission.driver("fixed_lm", torch.tensor(logits, dtype=torch.float64))


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_generate_shape_and_prefix(submission):
    """generate returns (len(prefix) + n,) int64 starting with the prefix"""
    g = torch.Generator().manual_seed(10)
    model = submission.driver("mean_context_lm", *(torch.randn(shape, generator=g, dtype=torch.float64)
                                                   for shape in [(5, 3), (5, 3), (3, 5), (5,)]))
    prefix = torch.tensor([1, 4, 2])
    got = _tensor(submission.transformer.generate(model, prefix, 4), "generate's output", shape=(7,), kind="iu")
    expect_true(got.dtype == torch.int64, "the tokens must be int64", f"got {got.dtype}")
    expect_equal(got[:3], prefix, "the prefix part of the output")


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_generate_greedy(submission):
    """with temperature 0, a model whose next-token logits are always [0, 3, 1] gives token 1 every time"""
    got = submission.transformer.generate(_fixed(submission, [0.0, 3.0, 1.0]), torch.tensor([0]), 5, temperature=0.0)
    expect_equal(_tensor(got, "generate's output", shape=(6,), kind="iu"), torch.tensor([0, 1, 1, 1, 1, 1]),
                 "greedy tokens")


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_generate_seed(submission):
    """with temperature 1, the same seed gives the same tokens"""
    model = _fixed(submission, [0.0, 0.0, 0.0, 0.0])
    a = submission.transformer.generate(model, torch.tensor([0]), 12, temperature=1.0, seed=3)
    b = submission.transformer.generate(model, torch.tensor([0]), 12, temperature=1.0, seed=3)
    expect_equal(_tensor(b, "second run", shape=(13,), kind="iu"), _tensor(a, "first run", shape=(13,), kind="iu"),
                 "two runs with seed 3")


# --- Task 9: train_on_task ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def short_run(submission):
    """train_on_task on 3-digit reversal for 5 steps (wiring only; the hidden graders train for real)."""
    sequences = ReversalTask(3).sample(256, torch.Generator().manual_seed(11))
    task = submission.driver("pool_task", sequences, 3)
    model = submission.transformer.train_on_task(task, steps=5, seed=0)
    return {"model": model, "training": getattr(model, "training", None)}


@pytest.mark.task(9)
@pytest.mark.builds_on(1, 2, 3, 4, 5, 6, 7)
@pytest.mark.points(1)
def test_train_returns_a_model(short_run, submission):
    """train_on_task(ReversalTask(3), steps=5) returns a model giving (N, 7, 11) logits"""
    _forward(submission, short_run["model"], torch.tensor([[1, 2, 3, 10, 3, 2, 1]] * 2), what="logits", shape=(2, 7, 11))


@pytest.mark.task(9)
@pytest.mark.builds_on(1, 2, 3, 4, 5, 6, 7)
@pytest.mark.points(1)
def test_train_returns_a_decoder_lm(short_run, submission):
    """train_on_task returns a DecoderLM: its parameters are named as the handout says"""
    got = _params(submission, short_run["model"])
    expect_true({"tok_emb.weight", "ln_f.weight", "head.weight", "blocks.0.attn.in_proj_weight"} <= set(got),
                "the returned model's parameters are not those of a DecoderLM", f"{sorted(got)[:12]}")
    expect_equal(got["tok_emb.weight"][0], 11, "tok_emb's vocabulary size (the task's vocab_size)")


@pytest.mark.task(9)
@pytest.mark.builds_on(1, 2, 3, 4, 5, 6, 7)
@pytest.mark.points(1)
def test_train_returns_eval_mode(short_run):
    """train_on_task returns the model in evaluation mode (model.eval())"""
    expect_true(short_run["training"] is False, "the returned model is still in training mode")
