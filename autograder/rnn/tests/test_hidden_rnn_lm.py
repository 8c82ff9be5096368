"""Hidden graders of tasks 8 to 10: the character language model, its perplexity, and its training.

Task 8 builds untrained models (torch seeded in the worker first) and checks their logits' shapes
for several batch sizes, lengths and vocabularies, that they are causal, and that they are
recurrent networks with trainable parameters. Task 9 compares the student's ``perplexity`` with
the exponential of the mean log-softmax cross-entropy on the grader's own logits.

Task 10 runs the handout's configured training once per grading (a module-scoped fixture) on the
corpus's training split, then streams the held-out text, original scenes published nowhere, to the
model one position at a time (see ``rnn_lm_cases``): the logits the grader scores were all computed
before the model received the characters they predict, and no model can have memorized the text.
The grader computes the perplexity from those logits. It counts only when the trained model is
causal (the same logits when the text is fed whole; the logits before a cut unchanged when the
public text after it changes), when it does not learn from the scored text as it is fed (rebuilt
from its weights in a new worker that has seen none of the text, it gives the same logits on a few
segments chosen at random, given its weights from before the evaluation), and not below the floor that no model trained in seconds reaches on
text it has never seen.
"""

from __future__ import annotations

import numpy as np
import pytest
import rnn_oracle as oracle
import torch
from rnn_lm_cases import (CAUSAL_SEED_TRAINED, CAUSAL_SEED_UNTRAINED, TRAIN_RUN, build, expect_causal,
                          expect_module, expect_same_in_a_fresh_worker, expect_same_when_whole, heldout_segments,
                          logits_of, public_chunks, random_tokens, streamed_logits, weights_of)

from coursekit.checks import GradeFailure, as_scalar, expect_close, expect_true, run_cases
from coursekit.data import load_corpus
from coursekit.grading.client import StudentError, WorkerFailure

# --- Task 8: build_lm -----------------------------------------------------------------------


@pytest.mark.task(8)
@pytest.mark.points(2)
def test_lm_logits_shapes(submission, credit):
    """build_lm's model maps (N, T) tokens to (N, T, V) logits for several N, T (up to 256) and V"""
    cases = [(64, 1, 1, 811), (64, 3, 17, 812), (64, 2, 256, 813), (11, 5, 9, 814)]

    def check(k, case):
        V, N, T, seed = case
        logits_of(submission, build(submission, V), random_tokens(seed, (N, T), V), V,
                  f"case {k}: logits")

    run_cases(credit, cases, check)


@pytest.mark.task(8)
@pytest.mark.points(2)
def test_lm_is_causal(submission):
    """build_lm's model is causal: logits at position t depend on tokens 0..t of their own row only"""
    V = 64
    model = build(submission, V)
    tokens = random_tokens(821, (6, 48), V)
    logits = logits_of(submission, model, tokens, V, "logits")
    expect_causal(submission, model, tokens, logits, V, CAUSAL_SEED_UNTRAINED, "the untrained model")


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_lm_is_a_recurrent_network(submission):
    """build_lm's model has trainable parameters, a recurrent weight matrix, and logits that depend on the text"""
    V = 64
    model = build(submission, V)
    shapes = submission.driver("lm_parameter_shapes", model, on="char_lm")
    expect_true(bool(shapes), "the model has no trainable parameters")
    recurrent = [s for s in shapes if len(s) == 2 and s[1] >= 2 and s[0] in (s[1], 3 * s[1], 4 * s[1])]
    expect_true(bool(recurrent), "the model has no recurrent weight matrix (hidden to hidden, (G·H, H)); "
                "use nn.LSTM, nn.GRU or nn.RNN, or your own cells with nn.Parameter weights")
    tokens = random_tokens(831, (2, 30), V)
    logits = logits_of(submission, model, tokens, V, "logits")
    expect_true(bool(np.ptp(logits[:, -1], axis=0).max() > 0),
                "the logits are the same whatever the text: the model ignores its input")


# --- Task 9: perplexity ---------------------------------------------------------------------

#: (N, T, V, dtype, scale of the logits, seed)
PPL_CASES = [(2, 5, 7, "float64", 1.0, 901), (3, 8, 64, "float32", 2.0, 902), (4, 3, 10, "float64", 3.0, 903)]
PPL_SMALL = [(1, 1, 5, "float64", 1.5, 911), (1, 6, 3, "float32", 1.0, 912)]
#: Large logits: the log of a softmax underflows to log(0) here; a log-softmax does not.
PPL_LARGE = [(2, 6, 9, "float64", 25.0, 921), (2, 4, 12, "float32", 25.0, 922)]


def _check_perplexity(submission, case, what):
    N, T, V, dtype, scale, seed = case
    g = np.random.default_rng(seed)
    logits = (scale * g.standard_normal((N, T, V))).astype(dtype)
    targets = g.integers(0, V, size=(N, T)).astype(np.int64)
    got = submission.char_lm.perplexity(torch.from_numpy(logits), torch.from_numpy(targets))
    value = as_scalar(got, f"{what}: perplexity")
    want = np.asarray(oracle.perplexity(logits, targets), dtype=dtype)  # the tolerance of the dtype
    expect_close(np.asarray(value), want, f"{what}: perplexity")


@pytest.mark.task(9)
@pytest.mark.points(2)
def test_perplexity(submission, credit):
    """perplexity equals exp of the mean natural-log cross-entropy, in float32 and float64"""
    run_cases(credit, PPL_CASES, lambda k, case: _check_perplexity(submission, case, f"case {k}"))


@pytest.mark.task(9)
@pytest.mark.points(1)
def test_perplexity_single_row(submission, credit):
    """perplexity is right for a batch of one, and for a single position"""
    run_cases(credit, PPL_SMALL, lambda k, case: _check_perplexity(submission, case, f"case {k}"))


@pytest.mark.task(9)
@pytest.mark.points(1)
def test_perplexity_large_logits(submission, credit):
    """perplexity is finite and right for large logits (a stable log-softmax)"""
    run_cases(credit, PPL_LARGE, lambda k, case: _check_perplexity(submission, case, f"case {k}"))


# --- Task 10: train_lm ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(submission, device):
    """The configured training run, once: the held-out perplexity of the trained model, from logits
    streamed so that none was computed after the model received its target, whether the model
    is causal (checked only afterwards, so the checks cannot show it the scored text first), and
    whether, rebuilt in a fresh worker from its weights before the evaluation, it gives the same
    logits on a few segments."""
    tokens, vocab = load_corpus("train")
    V = len(vocab)
    model = build(submission, V)
    result = submission.char_lm.train_lm(model, torch.from_numpy(tokens), **TRAIN_RUN)
    expect_module(submission, result, "train_lm")
    segments = heldout_segments()
    weights, replay_failure = None, None
    try:  # the weights it is scored with, before it is sent any of the scored text
        weights = weights_of(submission, result, "the trained model")
    except GradeFailure as failure:
        replay_failure = failure.summary
    except StudentError:
        replay_failure = "the trained model could not be rebuilt from its weights: its state_dict() raised an exception"
    streamed = streamed_logits(submission, result, segments, V, "the trained model's logits on the held-out text")
    causal_failure = None
    try:
        expect_same_when_whole(submission, result, segments, streamed, V, device, "the trained model")
        public = public_chunks()
        logits = logits_of(submission, result, public, V, "the trained model's logits on public text")
        expect_causal(submission, result, public, logits, V, CAUSAL_SEED_TRAINED, "the trained model")
    except GradeFailure as failure:  # reported by every test that needs a causal model
        causal_failure = failure.summary
    try:  # last, in another worker: nothing here changes the model the evaluation above used
        if replay_failure is None:
            expect_same_in_a_fresh_worker(submission, weights, V, segments, streamed, device, "the trained model")
    except GradeFailure as failure:
        replay_failure = failure.summary
    except (StudentError, WorkerFailure) as failure:
        what = "ended its process" if isinstance(failure, WorkerFailure) else "raised an exception"
        replay_failure = (f"the trained model could not be rebuilt from its weights in a new process: "
                          f"build_lm, load_state_dict or the model {what} there")
    return {"perplexity": oracle.perplexity(streamed, segments[:, 1:]), "causal_failure": causal_failure,
            "replay_failure": replay_failure}


def _scored_perplexity(trained, week) -> float:
    """The held-out perplexity, if it may be scored: from a causal model, not below the floor."""
    expect_true(trained["causal_failure"] is None,
                f"{trained['causal_failure']}; the held-out perplexity of a model whose logits depend on "
                "later tokens is not scored")
    expect_true(trained["replay_failure"] is None,
                f"{trained['replay_failure']}; the held-out perplexity is scored only for a model whose logits "
                "depend on its weights and the characters before them alone")
    ppl = trained["perplexity"]
    floor = week.thresholds["heldout_perplexity_floor"]
    expect_true(ppl >= floor, f"the held-out perplexity {ppl:.2f} is below {floor:g}, which no model "
                "trained in seconds reaches on text it has never seen")
    return ppl


@pytest.mark.task(10)
@pytest.mark.builds_on(8)
@pytest.mark.points(7)
def test_trained_lm_reaches_the_target(trained, week):
    """after train_lm(steps=500, seq_len=64, seed=0), the held-out perplexity reaches the handout's target"""
    target = week.thresholds["heldout_perplexity"]
    ppl = _scored_perplexity(trained, week)
    expect_true(ppl <= target, f"held-out perplexity {ppl:.2f} is above the required {target:g}")


@pytest.mark.task(10)
@pytest.mark.builds_on(8)
@pytest.mark.points(4)
def test_trained_lm_learns(trained, week):
    """after train_lm(steps=500, seq_len=64, seed=0), the held-out perplexity reaches the partial-credit level"""
    partial = week.thresholds["heldout_partial_perplexity"]
    ppl = _scored_perplexity(trained, week)
    expect_true(ppl <= partial, f"held-out perplexity {ppl:.2f} is above even the partial-credit {partial:g}")


@pytest.mark.task(10)
@pytest.mark.builds_on(8)
@pytest.mark.points(1)
def test_trained_lm_stays_causal(trained):
    """the trained model is still causal on the held-out text"""
    expect_true(trained["causal_failure"] is None, str(trained["causal_failure"]))
