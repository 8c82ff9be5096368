"""Hidden graders of task 3: MultiHeadAttention against ``nn.MultiheadAttention(batch_first=True)``.

The grader draws random weights, copies them into the student's module (by the parameter names of
``nn.MultiheadAttention``) and into PyTorch's, converts the student's module to float64, and
compares outputs without a mask, with (T, T) causal and additive masks, and with per-sequence
masks (N, T, T) and padding masks (N, 1, T); gradients against autograd; padding invariance. The
student's module is built on task 1's attention: a failure says so when task 1 is wrong too.
"""

from __future__ import annotations

import pytest
import torch
import transformer_oracle as oracle
from transformer_cases import (DTYPE, MHA_CASES, build, driver, expect_finite, expect_parameters, forward, gen, randn,
                               set_parameters, tensor, with_upstream)

from coursekit.checks import expect_close, expect_true, run_cases

pytestmark = pytest.mark.task(3)


def _module_with(submission, d: int, h: int, seed: int):
    """The student's MultiHeadAttention(d, h) holding the grader's weights, and those weights."""
    module = build(submission, "MultiHeadAttention", d, h)
    state = oracle.random_state(oracle.mha_parameter_shapes(d), seed)
    set_parameters(submission, module, state, "MultiHeadAttention")
    return module, state


def _check(submission, case, mask_of, what: str) -> None:
    N, T, d, h, seed = case
    module, state = _module_with(submission, d, h, seed)
    x = randn((N, T, d), seed + 1000)
    mask = mask_of(N, T, seed)
    got = forward(submission, module, x, mask, what=f"{what}: output", shape=(N, T, d), dtype="float64")
    expect_close(got, oracle.multi_head_attention(x, state, h, mask), f"{what}: output")


def _cases(submission, credit, mask_of, cases=MHA_CASES) -> None:
    with_upstream(submission, [1], lambda: run_cases(
        credit, cases, lambda k, case: _check(submission, case, mask_of, f"case {k}")))


def _padding(N: int, T: int, seed: int) -> torch.Tensor:
    """(N, 1, T) bool: the first ``length`` keys of each sequence are real, the rest padded."""
    lengths = torch.randint(1, T + 1, (N,), generator=gen(seed + 2000))
    lengths[0] = T
    return (torch.arange(T).reshape(1, -1) < lengths.reshape(-1, 1)).reshape(N, 1, T)


@pytest.mark.points(1)
def test_mha_parameters(submission):
    """MultiHeadAttention has exactly nn.MultiheadAttention's parameters: in_proj_weight, in_proj_bias, out_proj"""
    module = build(submission, "MultiHeadAttention", 12, 3)
    expect_parameters(submission, module, oracle.mha_parameter_shapes(12), "MultiHeadAttention(12, 3)")


@pytest.mark.points(1)
def test_mha_own_weights_copy_to_torch(submission):
    """MultiHeadAttention's own (initial) state dict loads into nn.MultiheadAttention and gives the same output"""
    module = build(submission, "MultiHeadAttention", 8, 2)
    expect_parameters(submission, module, oracle.mha_parameter_shapes(8), "MultiHeadAttention(8, 2)")
    values = driver(submission, "parameter_values", module, what="MultiHeadAttention(8, 2)")["values"]
    state = {k: tensor(v, f"parameter {k}").to(DTYPE) for k, v in values.items()}
    x = randn((2, 5, 8), 311)
    with_upstream(submission, [1], lambda: expect_close(
        forward(submission, module, x, what="output", shape=(2, 5, 8), dtype="float64"),
        oracle.multi_head_attention(x, state, 2), "output with its own initial weights"))


@pytest.mark.points(2)
def test_mha_without_mask(submission, credit):
    """MultiHeadAttention matches nn.MultiheadAttention with copied weights, no mask (1 to 8 heads, T = 1 included)"""
    _cases(submission, credit, lambda N, T, seed: None)


@pytest.mark.points(2)
def test_mha_shared_masks(submission, credit):
    """MultiHeadAttention with a (T, T) mask shared by all sequences: boolean causal and additive float"""
    def mask_of(N, T, seed):
        return oracle.causal(T) if seed % 2 else randn((T, T), seed + 3000)
    _cases(submission, credit, mask_of, MHA_CASES[:4])


@pytest.mark.points(2)
def test_mha_per_sequence_masks(submission, credit):
    """MultiHeadAttention with per-sequence masks: padding masks (N, 1, T) and boolean (N, T, T), for every head"""
    def mask_of(N, T, seed):
        if seed % 2:
            return _padding(N, T, seed)
        mask = torch.rand((N, T, T), generator=gen(seed + 4000)) < 0.5
        mask[..., 0] = True
        return mask
    _cases(submission, credit, mask_of, MHA_CASES[:4])


@pytest.mark.points(1)
def test_mha_ignores_padded_positions(submission):
    """changing the inputs at padded positions leaves MultiHeadAttention's output elsewhere unchanged"""
    N, T, d, h = 3, 7, 8, 2
    module, _ = _module_with(submission, d, h, 321)
    mask = _padding(N, T, 322)  # (N, 1, T)
    padded = ~mask.reshape(N, T)
    x = randn((N, T, d), 323)
    x2 = x.clone()
    x2[padded] = randn((int(padded.sum()), d), 324, scale=5.0)
    out = forward(submission, module, x, mask, what="output", shape=(N, T, d), dtype="float64")
    out2 = forward(submission, module, x2, mask, what="output", shape=(N, T, d), dtype="float64")
    expect_finite(out[~padded], "the output at real positions")
    with_upstream(submission, [1], lambda: expect_close(
        out2[~padded], out[~padded], "outputs at real positions after changing padded inputs"))


@pytest.mark.points(1)
def test_mha_gradients(submission):
    """MultiHeadAttention's gradients (input and every parameter) match autograd through nn.MultiheadAttention"""
    N, T, d, h = 2, 5, 8, 2
    module, state = _module_with(submission, d, h, 331)
    x, dout = randn((N, T, d), 332), randn((N, T, d), 333)
    got = driver(submission, "gradients", module, x, dout, dtype="float64", what="MultiHeadAttention")
    torch_module = torch.nn.MultiheadAttention(d, h, batch_first=True, dtype=DTYPE)
    torch_module.load_state_dict(state)
    xg = x.clone().requires_grad_(True)
    (torch_module(xg, xg, xg, need_weights=False)[0] * dout).sum().backward()
    expect_true(got["x"] is not None, "no gradient reached the input: is the output detached?")
    checks = [("the input", got["x"], xg.grad)] + [
        (f"parameter {name}", got["parameters"].get(name), p.grad) for name, p in torch_module.named_parameters()]

    def compare():
        for what, g, want in checks:
            expect_true(g is not None, f"no gradient for {what}")
            expect_close(tensor(g, f"gradient of {what}", shape=want.shape), want, f"gradient of {what}")
    with_upstream(submission, [1], compare)
