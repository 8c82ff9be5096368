"""Hidden graders of task 8: generate, with small stand-in language models the grader defines.

The stand-ins (built in the worker by the ``mean_context_lm`` and ``fixed_lm`` drivers from the
grader's weights) are not the student's DecoderLM, so these points depend on generate alone. The
grader computes greedy decoding itself from the stand-in's formula in float64; sampled tokens are
judged by a goodness-of-fit test against softmax(z / τ) whose significance level is
``coursekit.tolerances.SAMPLING_SIGNIFICANCE``.
"""

from __future__ import annotations

import pytest
import torch
import transformer_oracle as oracle
from transformer_cases import (DTYPE, GEN_DIM, GEN_GREEDY, GEN_VOCAB, SAMPLING_DRAWS,
                               SAMPLING_LOGITS, SAMPLING_TEMPERATURES, gen, randn, tensor)

from coursekit import tolerances
from coursekit.checks import expect_equal, expect_true, run_cases

pytestmark = pytest.mark.task(8)

#: Greedy decoding must not hinge on near-ties: the grader checks its own inputs (self-check).
MIN_TOP_GAP = 1e-3


def _stand_in(submission, seed: int):
    """A MeanContextLM in the worker and a function giving its logits here (float64)."""
    A, B = randn((GEN_VOCAB, GEN_DIM), seed, 1.5), randn((GEN_VOCAB, GEN_DIM), seed + 1, 1.5)
    W, b = randn((GEN_DIM, GEN_VOCAB), seed + 2, 2.0), randn((GEN_VOCAB,), seed + 3, 0.5)
    model = submission.driver("mean_context_lm", A, B, W, b)
    return model, lambda tokens: oracle.mean_context_logits(tokens, A, B, W, b)


def _generated(got, prefix: torch.Tensor, n: int, what: str) -> torch.Tensor:
    out = tensor(got, what, shape=(len(prefix) + n,), kind="iu")
    expect_true(out.dtype == torch.int64, f"{what}: the tokens must be int64")
    return out


def _greedy_case(submission, k: int, length: int, seed: int, n: int = 10) -> None:
    model, logits_of = _stand_in(submission, seed)
    prefix = torch.randint(0, GEN_VOCAB, (length,), generator=gen(seed + 4))
    want = oracle.greedy(logits_of, prefix.reshape(1, -1), n)
    steps = torch.stack([logits_of(want[:, :p])[0, -1] for p in range(length, length + n)])
    assert oracle.smallest_top_gap(steps) > MIN_TOP_GAP, "grader self-check: a near-tie in greedy decoding"
    assert len(set(want[0, length:].tolist())) >= 3, "grader self-check: a dull greedy continuation"
    got = _generated(submission.transformer.generate(model, prefix, n, temperature=0.0),
                     prefix, n, f"case {k}")
    expect_equal(got, want[0], f"case {k}: the generated tokens")


@pytest.mark.points(3)
def test_greedy_decoding(submission, credit):
    """generate with temperature 0 equals greedy decoding of the model's last-position logits (prefixes of 1 to 6 tokens)"""
    run_cases(credit, GEN_GREEDY, lambda k, case: _greedy_case(submission, k, *case))


@pytest.mark.points(1)
def test_generate_keeps_the_prefix_and_its_argument(submission):
    """generate returns the prefix followed by n tokens (n = 0 included) and leaves its prefix argument unchanged"""
    model, _ = _stand_in(submission, 841)
    prefix = torch.tensor([3, 1, 4, 1, 5], dtype=torch.int64)
    for n in (0, 4):
        report = submission.driver("call_checking_arguments", "transformer", "generate", model, prefix, n,
                                   temperature=0.0)
        got = _generated(report["value"], prefix, n, f"generate with n = {n}")
        expect_equal(got[:len(prefix)], prefix, f"generate with n = {n}: the prefix part")
        expect_true(not report["args_changed"][1], "generate changed its prefix argument in place")


@pytest.mark.points(2)
def test_sampling_distribution(submission, credit):
    """generate with temperature τ > 0 draws each token from softmax(z / τ) (τ = 0.5 and 2)"""
    model = submission.driver("fixed_lm", SAMPLING_LOGITS)
    prefix = torch.tensor([0], dtype=torch.int64)

    def case(k, temperature):
        got = _generated(submission.transformer.generate(model, prefix, SAMPLING_DRAWS, temperature=temperature,
                                                         seed=850 + k), prefix, SAMPLING_DRAWS, f"τ = {temperature}")
        drawn = got[1:]
        expect_true(bool(((drawn >= 0) & (drawn < len(SAMPLING_LOGITS))).all()),
                    f"τ = {temperature}: a token outside the vocabulary")
        counts = torch.bincount(drawn, minlength=len(SAMPLING_LOGITS))
        probs = torch.softmax(SAMPLING_LOGITS / temperature, dim=0)
        p_value = oracle.chi_square_p_value(counts, probs)
        expect_true(p_value >= tolerances.SAMPLING_SIGNIFICANCE,
                    f"τ = {temperature}: the tokens' frequencies do not follow softmax(z / τ)",
                    f"p-value {p_value:.3g}")

    run_cases(credit, SAMPLING_TEMPERATURES, case)


@pytest.mark.points(1)
def test_sampling_seeds(submission):
    """generate with τ > 0 gives the same tokens for the same seed and different tokens for another seed"""
    model = submission.driver("fixed_lm", torch.zeros(6, dtype=DTYPE))
    prefix = torch.tensor([2], dtype=torch.int64)
    tf = submission.transformer
    first = _generated(tf.generate(model, prefix, 40, temperature=1.0, seed=7), prefix, 40, "seed 7")
    again = _generated(tf.generate(model, prefix, 40, temperature=1.0, seed=7), prefix, 40, "seed 7 again")
    other = _generated(tf.generate(model, prefix, 40, temperature=1.0, seed=8), prefix, 40, "seed 8")
    expect_equal(again, first, "two runs with seed 7")
    expect_true(not torch.equal(other, first), "seeds 7 and 8 gave the same 40 tokens: is the seed used?")
