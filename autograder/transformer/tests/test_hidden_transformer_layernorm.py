"""Hidden graders of task 5: LayerNorm against ``nn.LayerNorm`` with copied weight and bias, in float64:
several input shapes, a custom eps that matters, rows of zero variance, and gradients.
"""

from __future__ import annotations

import pytest
import torch
import transformer_oracle as oracle
from transformer_cases import DTYPE, LN_SHAPES, build, driver, forward, randn, set_parameters, tensor

from coursekit.checks import expect_close, expect_true, run_cases

pytestmark = pytest.mark.task(5)


def _layer_norm(submission, d: int, seed: int, eps: float | None = None):
    """The student's LayerNorm(d[, eps]) with the grader's random weight and bias."""
    module = build(submission, "LayerNorm", d) if eps is None else build(submission, "LayerNorm", d, eps)
    state = {"weight": 1.0 + randn((d,), seed, scale=0.3), "bias": randn((d,), seed + 1, scale=0.3)}
    state = {k: v.float().to(DTYPE) for k, v in state.items()}
    set_parameters(submission, module, state, "LayerNorm")
    return module, state


def _check(submission, shape, seed: int, what: str, eps: float = 1e-5, scale: float = 1.0) -> None:
    module, state = _layer_norm(submission, shape[-1], seed, None if eps == 1e-5 else eps)
    x = 0.5 + randn(shape, seed + 100, scale=scale)
    got = forward(submission, module, x, what=f"{what}: output", shape=shape, dtype="float64")
    expect_close(got, oracle.layer_norm(x, state["weight"], state["bias"], eps), f"{what}: output")


@pytest.mark.points(2)
def test_layernorm_matches_torch(submission, credit):
    """LayerNorm matches nn.LayerNorm with the same weight and bias over the last axis (2-D to 4-D inputs)"""
    run_cases(credit, LN_SHAPES,
              lambda k, shape: _check(submission, shape, 501 + 10 * k, f"case {k}"))


@pytest.mark.points(1)
def test_layernorm_custom_eps(submission):
    """LayerNorm(d, eps) adds eps to the variance inside the square root, as nn.LayerNorm does"""
    _check(submission, (5, 8), 551, "eps = 0.01 on inputs of small variance", eps=1e-2, scale=0.05)


@pytest.mark.points(1)
def test_layernorm_constant_rows(submission):
    """LayerNorm maps a row of equal values to the bias (finite, no division by zero)"""
    module, state = _layer_norm(submission, 6, 561)
    x = torch.tensor([[2.0] * 6, [-3.5] * 6], dtype=DTYPE)
    got = forward(submission, module, x, what="output for constant rows", shape=(2, 6), dtype="float64")
    expect_close(got, oracle.layer_norm(x, state["weight"], state["bias"]), "output for constant rows")


@pytest.mark.points(1)
def test_layernorm_gradients(submission):
    """LayerNorm's gradients with respect to the input, weight and bias match autograd through nn.LayerNorm"""
    module, state = _layer_norm(submission, 7, 571)
    x, dout = randn((4, 3, 7), 572), randn((4, 3, 7), 573)
    got = driver(submission, "gradients", module, x, dout, dtype="float64", what="LayerNorm")
    dx, dw, db = oracle.layer_norm_gradients(x, state["weight"], state["bias"], dout)
    for name, g, want in (("the input", got["x"], dx), ("weight", got["parameters"].get("weight"), dw),
                          ("bias", got["parameters"].get("bias"), db)):
        expect_true(g is not None, f"no gradient for {name}: is the output detached?")
        expect_close(tensor(g, f"gradient of {name}", shape=want.shape), want, f"gradient of {name}")
