"""Hidden graders of task 11: sample, on the grader's stand-in language models.

A stand-in (``drivers_rnn.StandInLM``) is a fixed, causal model whose logits depend on the last two
tokens, built in the worker from tables the grader sends; the grader computes the same logits
itself. So ``sample`` is judged on its own, whatever the student's model does: with temperature 0
it must give the greedy continuation the grader computes; with a positive temperature, on a
stand-in whose logits ``z`` are the same at every position, the frequencies of many sampled tokens
must be close to ``softmax(z / temperature)`` (total-variation distance within the handout's
bound); and the same seed must give the same sample, another seed another one.
"""

from __future__ import annotations

import numpy as np
import pytest
import rnn_oracle as oracle
import torch
from rnn_lm_cases import context_tables, expect_sample, greedy_case, stand_in, unigram_tables

from coursekit.checks import expect_equal, expect_true, run_cases

pytestmark = pytest.mark.task(11)

#: Greedy cases: (seed of the tables and prefix, vocabulary size, prefix length, tokens to add).
GREEDY_CASES = [(1101, 9, 1, 30), (1102, 7, 4, 25), (1103, 12, 9, 20)]
#: The logits of the distribution stand-in, and how many tokens each distribution test draws.
UNIGRAM_LOGITS = [2.0, 1.2, 0.5, 0.0, -0.6, -1.5]
DRAWS = 4000


def _check_greedy(submission, case, what):
    seed, V, prefix_len, n = case
    tables, prefix, want = greedy_case(seed, V, prefix_len, n)
    got = submission.char_lm.sample(stand_in(submission, tables), torch.from_numpy(prefix), n,
                                    temperature=0.0, seed=0)
    arr = expect_sample(got, prefix, n, V, f"{what}: the sample")
    expect_equal(arr, want, f"{what}: the greedy continuation")


@pytest.mark.points(2)
def test_sample_greedy(submission, credit):
    """sample with temperature 0 gives the greedy continuation the grader computes from the model's logits"""
    run_cases(credit, GREEDY_CASES, lambda k, case: _check_greedy(submission, case, f"case {k}"))


def _distribution(submission, week, temperature, seed):
    V = len(UNIGRAM_LOGITS)
    prefix = np.array([0], dtype=np.int64)
    got = submission.char_lm.sample(stand_in(submission, unigram_tables(UNIGRAM_LOGITS)),
                                    torch.from_numpy(prefix), DRAWS, temperature=temperature, seed=seed)
    tokens = expect_sample(got, prefix, DRAWS, V, f"the sample at temperature {temperature:g}")[1:]
    distance = oracle.total_variation(tokens, oracle.softmax(np.asarray(UNIGRAM_LOGITS), temperature))
    bound = week.thresholds["sample_tv_bound"]
    expect_true(distance <= bound,
                f"at temperature {temperature:g}, the frequencies of {DRAWS} sampled tokens are "
                f"{distance:.3f} (total variation) from softmax(z / temperature); the bound is {bound:g}")


@pytest.mark.points(1)
def test_sample_temperature_one(submission, week):
    """sample at temperature 1 draws tokens with the frequencies of softmax(z)"""
    _distribution(submission, week, 1.0, 11)


@pytest.mark.points(1)
def test_sample_low_temperature(submission, week):
    """sample at temperature 0.5 draws tokens with the frequencies of softmax(z / 0.5)"""
    _distribution(submission, week, 0.5, 12)


@pytest.mark.points(1)
def test_sample_high_temperature(submission, week):
    """sample at temperature 2 draws tokens with the frequencies of softmax(z / 2)"""
    _distribution(submission, week, 2.0, 13)


@pytest.mark.points(2)
def test_sample_seed(submission):
    """sample is reproducible: the same seed gives the same sample, another seed another sample"""
    V, n = 9, 60
    model = stand_in(submission, context_tables(1131, V))
    prefix = np.array([3, 1, 4], dtype=np.int64)
    runs = [expect_sample(submission.char_lm.sample(model, torch.from_numpy(prefix), n, temperature=1.0,
                                                    seed=seed), prefix, n, V, f"the sample with seed {seed}")
            for seed in (5, 5, 6)]
    expect_true(bool(np.array_equal(runs[0], runs[1])), "two samples with the same seed differ")
    expect_true(not np.array_equal(runs[0], runs[2]), "samples with different seeds are identical: "
                "the seed must seed the generator that draws the tokens")
