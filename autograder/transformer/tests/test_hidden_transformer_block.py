"""Hidden graders of task 6: TransformerBlock against the grader's pre-LN block built from PyTorch's
``nn.LayerNorm``, ``nn.MultiheadAttention``, ``nn.Linear`` and ``F.gelu``, in float64, with copied
weights.

The main check swaps PyTorch's own layers in for the block's ``ln1``, ``ln2`` and ``attn`` (the
``use_torch_parts`` driver), so it measures the block's own wiring (pre-LN, both residual
connections, the causal mask, the MLP) and not tasks 3 and 5; the expected output may use the
student's own ``causal_mask`` (task 2) when that differs from the true one. The block with its own
parts and its causality are checked too; a failure there names the earlier tasks that are wrong too.
"""

from __future__ import annotations

import pytest
import transformer_oracle as oracle
from transformer_cases import (BLOCK_CASES, build, driver, expect_close_any, expect_finite, expect_parameters,
                               forward, own_causal_mask, randn, set_parameters, with_upstream)

from coursekit.checks import expect_close, run_cases

pytestmark = pytest.mark.task(6)


def _block(submission, d: int, h: int, d_ff: int, seed: int, torch_parts: bool):
    """The student's block holding the grader's weights (with PyTorch's LayerNorm and attention in
    it when ``torch_parts``), and the weights in the oracle's naming."""
    module = build(submission, "TransformerBlock", d, h, d_ff)
    state = oracle.random_state(oracle.block_parameter_shapes(d, d_ff), seed)
    if torch_parts:
        driver(submission, "use_torch_parts", module, d, h, what="TransformerBlock")
        theirs = {(k.replace("attn.", "attn.inner.", 1) if k.startswith("attn.") else k): v
                  for k, v in state.items()}
        set_parameters(submission, module, theirs, "TransformerBlock")
    else:
        set_parameters(submission, module, state, "TransformerBlock")
    return module, state


def _check(submission, case, torch_parts: bool, what: str) -> None:
    """The block's output against the pre-LN block with the true causal mask or, when task 2's
    causal_mask differs from it, with that one (so a wrong task 2 costs task 2's points only)."""
    N, T, d, h, d_ff, seed = case
    module, state = _block(submission, d, h, d_ff, seed, torch_parts)
    x = randn((N, T, d), seed + 1000)
    got = forward(submission, module, x, what=f"{what}: output", shape=(N, T, d), dtype="float64")
    own = own_causal_mask(submission, T)
    wants = [oracle.block(x, state, h)] + ([oracle.block(x, state, h, mask=own)] if own is not None else [])
    expect_close_any(got, wants, f"{what}: output")


@pytest.mark.points(1)
def test_block_parameters(submission):
    """TransformerBlock has exactly the parameters of ln1, attn, ln2 and mlp (Linear, GELU, Linear) the handout names"""
    module = build(submission, "TransformerBlock", 12, 3, 40)
    expect_parameters(submission, module, oracle.block_parameter_shapes(12, 40), "TransformerBlock(12, 3, 40)")


@pytest.mark.points(3)
def test_block_wiring(submission, credit):
    """TransformerBlock computes x + attn(ln1(x)) with a causal mask, then + mlp(ln2(.)) (PyTorch's layers swapped in)"""
    run_cases(credit, BLOCK_CASES, lambda k, case: _check(submission, case, True, f"case {k}"))


@pytest.mark.points(2)
def test_block_with_its_own_parts(submission, credit):
    """TransformerBlock with its own LayerNorm and MultiHeadAttention matches the pre-LN block"""
    with_upstream(submission, [1, 3, 5], lambda: run_cases(
        credit, BLOCK_CASES[:3], lambda k, case: _check(submission, case, False, f"case {k}")))


@pytest.mark.points(2)
def test_block_is_causal(submission, credit):
    """changing the inputs after position t leaves TransformerBlock's outputs up to t unchanged"""
    N, T, d, h, d_ff = 2, 8, 8, 2, 32
    module, _ = _block(submission, d, h, d_ff, 651, False)
    x = randn((N, T, d), 652)
    base = forward(submission, module, x, what="output", shape=(N, T, d), dtype="float64")
    expect_finite(base, "the output")

    def case(k, t):
        x2 = x.clone()
        x2[:, t + 1:] = randn((N, T - t - 1, d), 660 + t, scale=3.0)
        out = forward(submission, module, x2, what=f"case {k}: output", shape=(N, T, d), dtype="float64")
        expect_close(out[:, :t + 1], base[:, :t + 1], f"case {k}: outputs up to the changed position")

    with_upstream(submission, [1, 2, 3], lambda: run_cases(credit, [0, 3, 6], case))
