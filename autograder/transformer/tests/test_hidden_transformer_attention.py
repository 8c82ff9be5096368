"""Hidden graders of tasks 1 and 2: scaled_dot_product_attention against
``F.scaled_dot_product_attention`` (its weights against the closed form softmax(q kᵀ / √d + M)) in
float64, with boolean and additive masks broadcast over batch and head axes; padding invariance;
stability; and causal_mask against the lower triangle.
"""

from __future__ import annotations

import pytest
import torch
import transformer_oracle as oracle
from transformer_cases import ATTN_PLAIN, DTYPE, expect_finite, gen, randn, tensor

from coursekit.checks import expect_close, expect_equal, expect_true, expect_unchanged, run_cases, unpack


def _attend(tf, q, k, v, mask, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's ``(out, weights)`` with their shapes checked."""
    out, weights = unpack(tf.scaled_dot_product_attention(q, k, v, mask), 2,
                          f"{what}: scaled_dot_product_attention")
    Tq, Tk = q.shape[-2], k.shape[-2]
    out = tensor(out, f"{what}: out", shape=(*q.shape[:-1], v.shape[-1]))
    weights = tensor(weights, f"{what}: weights", shape=(*q.shape[:-2], Tq, Tk))
    return out, weights


def _check(tf, q, k, v, mask, what: str) -> None:
    want_out, want_weights = oracle.attention(q, k, v, mask)
    out, weights = _attend(tf, q, k, v, mask, what)
    expect_close(out, want_out, f"{what}: out")
    expect_close(weights, want_weights, f"{what}: weights")


def _qkv(case):
    q_shape, k_shape, v_shape, seed = case
    return randn(q_shape, seed), randn(k_shape, seed + 1000), randn(v_shape, seed + 2000)


def _bool_mask(shape, seed: int) -> torch.Tensor:
    """A random boolean mask of ``shape`` that keeps at least one key in every query row."""
    mask = torch.rand(shape, generator=gen(seed)) < 0.6
    mask[..., 0] = True
    return mask


# --- Task 1: scaled_dot_product_attention --------------------------------------------------------

@pytest.mark.task(1)
@pytest.mark.points(2)
def test_attention_without_mask(submission, credit):
    """attention matches F.scaled_dot_product_attention without a mask (3-D and 4-D inputs, Tq != Tk, dv != d)"""
    run_cases(credit, ATTN_PLAIN,
              lambda k, case: _check(submission.transformer, *_qkv(case), None, f"case {k}"))


@pytest.mark.task(1)
@pytest.mark.points(2)
def test_attention_boolean_masks(submission, credit):
    """attention with boolean masks (True = may attend) broadcast over batch and head axes"""
    tf = submission.transformer

    def case(k, spec):
        seed, mask_shape = spec
        q, kk, v = _qkv(ATTN_PLAIN[1][:3] + (seed,))
        _check(tf, q, kk, v, _bool_mask(mask_shape, seed + 3000), f"case {k}")

    # q (2, 3, 4, 8), k and v (2, 3, 6, ·): masks (Tq, Tk), (N, 1, 1, Tk), (N, 1, Tq, Tk), (N, h, Tq, Tk).
    run_cases(credit, [(111, (4, 6)), (112, (2, 1, 1, 6)), (113, (2, 1, 4, 6)), (114, (2, 3, 4, 6))], case)


@pytest.mark.task(1)
@pytest.mark.points(2)
def test_attention_additive_masks(submission, credit):
    """attention with additive float masks (added to the scores), -inf entries included"""
    tf = submission.transformer
    q, k, v = _qkv(((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 6), 121))
    causal_additive = torch.zeros(5, 5, dtype=DTYPE).masked_fill(~oracle.causal(5), float("-inf"))
    masks = [randn((5, 5), 122), randn((2, 1, 5, 5), 123, scale=3.0), causal_additive,
             randn((2, 3, 1, 5), 124)]
    run_cases(credit, masks, lambda i, mask: _check(tf, q, k, v, mask, f"case {i}"))


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_attention_weights_are_a_distribution_over_the_keys(submission):
    """attention's weights sum to 1 over the keys and are exactly 0 where a boolean mask is False"""
    q, k, v = _qkv(((2, 6, 4), (2, 7, 4), (2, 7, 4), 131))
    mask = _bool_mask((2, 6, 7), 132)
    _, weights = _attend(submission.transformer, q, k, v, mask, "a masked case")
    expect_close(weights.sum(dim=-1), torch.ones(2, 6, dtype=DTYPE), "the sum of each query's weights")
    expect_equal(weights[~mask], torch.zeros(int((~mask).sum()), dtype=DTYPE),
                 "the weights of masked-out keys")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_attention_ignores_masked_keys(submission):
    """changing keys and values that a padding mask removes changes neither out nor weights"""
    tf = submission.transformer
    q, k, v = _qkv(((3, 2, 5, 4), (3, 2, 8, 4), (3, 2, 8, 3), 141))
    lengths = torch.tensor([8, 5, 2])
    mask = (torch.arange(8).reshape(1, -1) < lengths.reshape(-1, 1)).reshape(3, 1, 1, 8)
    padded = ~mask.expand(3, 2, 1, 8).squeeze(2)  # (3, 2, 8): True at padded keys
    k2, v2 = k.clone(), v.clone()
    k2[padded] = randn((int(padded.sum()), 4), 142, scale=10.0)
    v2[padded] = randn((int(padded.sum()), 3), 143, scale=10.0)
    out, weights = _attend(tf, q, k, v, mask, "padded keys")
    out2, weights2 = _attend(tf, q, k2, v2, mask, "padded keys changed")
    expect_finite(out, "out with a padding mask")
    expect_close(out2, out, "out after changing masked-out keys and values")
    expect_close(weights2, weights, "weights after changing masked-out keys")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_attention_is_stable_for_large_scores(submission):
    """attention stays finite and correct when the scores are in the thousands"""
    q, k, v = _qkv(((2, 4, 8), (2, 6, 8), (2, 6, 8), 151))
    _check(submission.transformer, 40.0 * q, 40.0 * k, v, _bool_mask((4, 6), 152), "large scores")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_attention_float32_and_arguments(submission):
    """attention keeps float32 inputs float32 and does not change its arguments"""
    q, k, v = (t.float() for t in _qkv(((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4), 161)))
    mask = _bool_mask((5, 5), 162)
    report = submission.driver("call_checking_arguments", "transformer", "scaled_dot_product_attention",
                               q, k, v, mask)
    out, weights = unpack(report["value"], 2, "scaled_dot_product_attention")
    want_out, want_weights = oracle.attention(q.double(), k.double(), v.double(), mask)
    for name, got, want in (("out", out, want_out), ("weights", weights, want_weights)):
        got = tensor(got, f"float32 inputs: {name}", shape=want.shape)
        expect_true(got.dtype == torch.float32, f"float32 inputs: {name} is not float32")
        expect_close(got, want.float(), f"float32 inputs: {name}")
    expect_unchanged(report, "scaled_dot_product_attention")


# --- Task 2: causal_mask -------------------------------------------------------------------------

@pytest.mark.task(2)
@pytest.mark.points(2)
def test_causal_mask_values(submission, credit):
    """causal_mask(T) is True exactly on and below the diagonal (T = 1, 2, 5, 17)"""
    def case(k, T):
        got = tensor(submission.transformer.causal_mask(T), f"causal_mask({T})", shape=(T, T), kind="b")
        expect_equal(got, oracle.causal(T), f"causal_mask({T})")
    run_cases(credit, [1, 2, 5, 17], case)


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_causal_mask_is_boolean(submission):
    """causal_mask returns a torch bool tensor of shape (T, T)"""
    got = submission.transformer.causal_mask(4)
    expect_true(isinstance(got, torch.Tensor), "causal_mask must return a torch tensor")
    expect_true(got.dtype == torch.bool and tuple(got.shape) == (4, 4),
                "causal_mask(4) must be a bool tensor of shape (4, 4)")
