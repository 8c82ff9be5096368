"""Hidden graders of task 3: train_perceptron's runs step by step, and the theory's guarantees.

Exact runs accept either the oracle's result or the same loop driven by the student's own
``perceptron_update`` (see ``perceptron_cases.training_explained``), so a mistake in task 2 is not
charged again here.
"""

from __future__ import annotations

import perceptron_oracle as oracle
import pytest
from perceptron_cases import (EPOCH_CAP_CASES, NOVIKOFF_CASES, NOVIKOFF_EPOCHS, TRAIN_LR_CASES,
                              TRAIN_SEPARABLE, check_training_sequence, training_data,
                              training_explained, unpack_training)
from coursekit.checks import run_cases

from coursekit.checks import expect_true
from coursekit.data import noisy_blobs, separable_blobs

pytestmark = pytest.mark.task(3)


@pytest.mark.points(6)
def test_training_runs_on_separable_data(submission, credit):
    """train_perceptron's weights, bias and mistakes per epoch match on separable data"""
    def check(k, case):
        n, d, margin, data_seed, seed = case
        X, y = separable_blobs(n, d, margin, data_seed)[:2]
        check_training_sequence(submission.perceptron, X, y, 100, 1.0, seed, f"case {k}")

    run_cases(credit, TRAIN_SEPARABLE, check)


@pytest.mark.points(3)
def test_training_runs_with_other_learning_rates(submission, credit):
    """train_perceptron's runs match with learning rates other than 1"""
    def check(k, case):
        kind, n, d, data_seed, seed, epochs, lr = case
        X, y = training_data(kind, n, d, data_seed)
        check_training_sequence(submission.perceptron, X, y, epochs, lr, seed, f"case {k}")

    run_cases(credit, TRAIN_LR_CASES, check)


def _run(pc, X, y, epochs, seed, what):
    got = unpack_training(pc.train_perceptron(X, y, epochs=epochs, lr=1.0, seed=seed), X.shape[1], what)
    return got, training_explained(pc, got, X, y, epochs, 1.0, seed)


@pytest.mark.points(2)
def test_novikoff_bound(submission, credit):
    """on separable data with a known margin, the number of updates stays within (R/gamma)^2"""
    def check(k, case):
        n, d, margin, data_seed, seed = case
        X, y, _, _, R, gamma = separable_blobs(n, d, margin, data_seed)
        (w, b, counts), explained = _run(submission.perceptron, X, y, NOVIKOFF_EPOCHS, seed, f"case {k}")
        if explained:
            return
        expect_true(sum(counts) <= (R / gamma) ** 2,
                    f"case {k}: more updates than Novikoff's bound (R/gamma)^2 allows")
        expect_true(len(counts) > 0 and counts[-1] == 0,
                    f"case {k}: training did not reach an epoch without mistakes on separable data")
        expect_true(oracle.separates(w, b, X, y),
                    f"case {k}: the final weights do not separate the training data")

    run_cases(credit, NOVIKOFF_CASES, check)


@pytest.mark.points(2)
def test_epoch_cap_on_non_separable_data(submission, credit):
    """on non-separable data training runs exactly `epochs` epochs, each with at least one mistake"""
    def check(k, case):
        n, d, data_seed, seed, epochs = case
        X, y = noisy_blobs(n, seed=data_seed, d=d)
        (_, _, counts), explained = _run(submission.perceptron, X, y, epochs, seed, f"case {k}")
        if explained:
            return
        expect_true(len(counts) == epochs,
                    f"case {k}: the number of epochs run differs from the epoch cap")
        expect_true(all(c >= 1 for c in counts),
                    f"case {k}: an epoch on non-separable data reports no mistake")

    run_cases(credit, EPOCH_CAP_CASES, check)


@pytest.mark.points(1)
def test_stops_after_the_first_clean_epoch(submission, credit):
    """training stops right after the first epoch without mistakes"""
    def check(k, case):
        n, d, margin, data_seed, seed = case
        X, y = separable_blobs(n, d, margin, data_seed)[:2]
        (w, b, counts), explained = _run(submission.perceptron, X, y, NOVIKOFF_EPOCHS, seed, f"case {k}")
        if explained:
            return
        expect_true(len(counts) > 0 and counts[-1] == 0,
                    f"case {k}: the last epoch run had mistakes, though the data are separable")
        expect_true(all(c > 0 for c in counts[:-1]),
                    f"case {k}: training went on after an epoch without mistakes")
        expect_true(oracle.separates(w, b, X, y),
                    f"case {k}: the final weights do not separate the training data")

    run_cases(credit, NOVIKOFF_CASES, check)
