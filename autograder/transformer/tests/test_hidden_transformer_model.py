"""Hidden graders of task 7: DecoderLM, the decoder-only language model.

The main check swaps stand-ins in for the model's blocks (causal mixers that are not transformer
blocks) and PyTorch's ``nn.LayerNorm`` for ``ln_f`` (the ``use_mixer_blocks`` driver), so it
measures the model's own wiring: token embeddings plus sinusoidal positions, the blocks in order,
the final norm and the head (the expected logits may use the student's own
``sinusoidal_positions`` when that differs from the closed form, so task 4 is judged on its own). The model with its own blocks is checked against the grader's full
implementation, and for causality; a failure there names the earlier tasks that are wrong as well.
Logits are compared at float32 tolerance (the model is float32).
"""

from __future__ import annotations

import pytest
import torch
import transformer_oracle as oracle
from transformer_cases import (MODEL_CASES, build, driver, expect_close_any, expect_finite, expect_parameters,
                               forward, gen, own_positions, set_parameters, with_upstream)

from coursekit.checks import expect_close, run_cases

pytestmark = pytest.mark.task(7)


def _tokens(N: int, T: int, vocab: int, seed: int) -> torch.Tensor:
    return torch.randint(0, vocab, (N, T), generator=gen(seed))


def _mixer_model(submission, case):
    N, T, vocab, d, h, layers, max_len, seed = case
    model = build(submission, "DecoderLM", vocab, d, h, layers, max_len)
    driver(submission, "use_mixer_blocks", model, d, layers, what="DecoderLM")
    shapes = {"tok_emb.weight": (vocab, d), "ln_f.weight": (d,), "ln_f.bias": (d,),
              "head.weight": (vocab, d), "head.bias": (vocab,),
              **{f"blocks.{i}.weight": (d, d) for i in range(layers)}}
    state = oracle.random_state(shapes, seed)
    set_parameters(submission, model, state, "DecoderLM")
    return model, state


def _check_mixers(submission, case, T: int, what: str) -> None:
    """Logits against the grader's computation with the true positional encoding or, when task 4's
    sinusoidal_positions differs from it, with that one (a wrong task 4 costs task 4 only)."""
    N, _, vocab, d, h, layers, max_len, seed = case
    model, state = _mixer_model(submission, case)
    tokens = _tokens(N, T, vocab, seed + 1000)
    got = forward(submission, model, tokens, what=f"{what}: logits", shape=(N, T, vocab))
    own = own_positions(submission, max_len, d)
    wants = [oracle.decoder(tokens, state, None, layers, mixers=True, pe=pe).float()
             for pe in [None] + ([own] if own is not None else [])]
    expect_close_any(got, wants, f"{what}: logits")


def _own_model(submission, case):
    N, T, vocab, d, h, layers, max_len, seed = case
    model = build(submission, "DecoderLM", vocab, d, h, layers, max_len)
    state = oracle.random_state(oracle.decoder_parameter_shapes(vocab, d, layers), seed + 2000)
    set_parameters(submission, model, state, "DecoderLM")
    return model, state


@pytest.mark.points(1)
def test_model_parameters(submission):
    """DecoderLM has exactly the parameters of tok_emb, blocks, ln_f and head (positions are not learned)"""
    model = build(submission, "DecoderLM", 11, 16, 4, 2, 13)
    expect_parameters(submission, model, oracle.decoder_parameter_shapes(11, 16, 2), "DecoderLM(11, 16, 4, 2, 13)")


@pytest.mark.points(3)
def test_model_wiring(submission, credit):
    """DecoderLM computes head(ln_f(blocks(tok_emb(tokens) + PE))) (stand-in blocks and nn.LayerNorm swapped in)"""
    run_cases(credit, MODEL_CASES, lambda k, case: _check_mixers(submission, case, case[1], f"case {k}"))


@pytest.mark.points(1)
def test_model_sequence_lengths(submission, credit):
    """DecoderLM handles one token and max_len tokens (stand-in blocks swapped in)"""
    case = MODEL_CASES[0]
    run_cases(credit, [1, case[6]], lambda k, T: _check_mixers(submission, case, T, f"T = {T}"))


@pytest.mark.points(1)
def test_model_with_its_own_blocks(submission, credit):
    """DecoderLM with its own blocks and LayerNorm matches the grader's implementation of the architecture"""
    def case(k, spec):
        N, T, vocab, d, h, layers, max_len, seed = spec
        model, state = _own_model(submission, spec)
        tokens = _tokens(N, T, vocab, seed + 3000)
        got = forward(submission, model, tokens, what=f"case {k}: logits", shape=(N, T, vocab))
        own = own_positions(submission, max_len, d)
        wants = [oracle.decoder(tokens, state, [h] * layers, layers, pe=pe).float()
                 for pe in [None] + ([own] if own is not None else [])]
        expect_close_any(got, wants, f"case {k}: logits")
    with_upstream(submission, [1, 2, 3, 5, 6], lambda: run_cases(credit, MODEL_CASES[:2], case))


@pytest.mark.points(2)
def test_model_is_causal(submission, credit):
    """changing the tokens after position t leaves DecoderLM's logits up to t unchanged (its own blocks)"""
    spec = MODEL_CASES[0]
    N, T, vocab = spec[0], spec[1], spec[2]
    model, _ = _own_model(submission, spec)
    tokens = _tokens(N, T, vocab, 751)
    base = forward(submission, model, tokens, what="logits", shape=(N, T, vocab))
    expect_finite(base, "the logits")

    def case(k, t):
        changed = tokens.clone()
        changed[:, t + 1:] = (tokens[:, t + 1:] + 1 + _tokens(N, T - t - 1, vocab - 1, 760 + t)) % vocab
        assert bool((changed[:, t + 1:] != tokens[:, t + 1:]).all()), "grader self-check: a token did not change"
        out = forward(submission, model, changed, what=f"case {k}: logits", shape=(N, T, vocab))
        expect_close(out[:, :t + 1], base[:, :t + 1], f"case {k}: logits up to the changed position")

    with_upstream(submission, [1, 2, 3, 6], lambda: run_cases(credit, [0, 2, 5], case))
