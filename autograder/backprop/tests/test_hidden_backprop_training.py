"""Hidden graders of task 10: train_mlp's held-out accuracy on the digits and on two spirals.

The runs and the thresholds are the handout's (``DIGITS_RUN``, ``SPIRAL_*`` in ``backprop_cases``,
the thresholds in week.toml). The trained model stays in the worker; the grader asks it for logits
on held-out data and counts the correct labels itself.

Training runs the student's own layers, loss, container and optimizer, so it cannot be graded apart
from them: each test scores what the training reached, and when it fails, its feedback names the
tasks train_mlp builds on that fail a quick check of their own (``training_upstream``).
"""

from __future__ import annotations

import numpy as np
import pytest
from backprop_cases import (DIGITS_RUN, SPIRAL_RUN, SPIRAL_TEST, SPIRAL_TRAIN, expect_float_array, rng,
                            training_upstream)

from coursekit.checks import expect_equal, expect_object, expect_true, upstream
from coursekit.data import load_digits, spirals

pytestmark = pytest.mark.task(10)


def _accuracy(model, X, y, n_classes, what):
    expect_object(model, f"{what}: what train_mlp returns")
    logits = expect_float_array(model.forward(X), (len(X), n_classes), f"{what}: the model's logits")
    return float(np.mean(np.argmax(logits, axis=1) == y))


def _blobs(n, d, n_classes, seed):
    g = rng(seed)
    centres = g.normal(0.0, 3.0, size=(n_classes, d))
    y = np.arange(n) % n_classes
    return centres[y] + g.standard_normal((n, d)), y.astype(np.int64)


@pytest.mark.points(5)
def test_digits_accuracy(submission, week):
    """train_mlp on the digits' training split reaches the handout's accuracy on the held-out test split"""
    with upstream(lambda: training_upstream(submission, week)):
        threshold = week.thresholds["digits_test_accuracy"]
        X, y = load_digits("train")
        X_test, y_test = load_digits("test")
        model = submission.backprop.train_mlp(X, y, **DIGITS_RUN)
        accuracy = _accuracy(model, X_test, y_test, 10, "digits")
        expect_true(accuracy >= threshold,
                    f"held-out digits accuracy {accuracy:.3f} is below the required {threshold:.2f}")


@pytest.mark.points(4)
def test_spiral_accuracy(submission, week):
    """train_mlp on two interleaved spirals reaches the handout's accuracy on held-out spiral points"""
    with upstream(lambda: training_upstream(submission, week)):
        threshold = week.thresholds["spiral_accuracy"]
        X, y = spirals(**SPIRAL_TRAIN)
        X_test, y_test = spirals(**SPIRAL_TEST)
        model = submission.backprop.train_mlp(X, y, **SPIRAL_RUN)
        accuracy = _accuracy(model, X_test, y_test, 2, "spirals")
        expect_true(accuracy >= threshold,
                    f"held-out spiral accuracy {accuracy:.3f} is below the required {threshold:.2f}")


@pytest.mark.points(1)
def test_same_seed_same_model(submission, week):
    """train_mlp is deterministic: the same seed gives the same model, another seed another one"""
    with upstream(lambda: training_upstream(submission, week)):
        X, y = _blobs(90, 4, 3, 1001)
        train = submission.backprop.train_mlp
        runs = [expect_object(train(X, y, hidden=(16,), epochs=3, lr=0.1, seed=s), "what train_mlp returns")
                for s in (7, 7, 8)]
        logits = [expect_float_array(m.forward(X), (90, 3), "the model's logits") for m in runs]
        expect_equal(logits[1], logits[0], "logits of two models trained with the same seed")
        expect_true(not np.array_equal(logits[2], logits[0]), "models trained with different seeds are identical")


@pytest.mark.points(1)
def test_hidden_widths_and_classes(submission, week):
    """train_mlp builds its network from `hidden` and the number of classes in y"""
    with upstream(lambda: training_upstream(submission, week)):
        X, y = _blobs(80, 5, 4, 1002)
        model = expect_object(submission.backprop.train_mlp(X, y, hidden=(16, 8), epochs=2, lr=0.05, seed=0),
                              "what train_mlp returns")
        expect_float_array(model.forward(X[:7]), (7, 4), "logits of a 4-class model with hidden=(16, 8)")
        X2, y2 = _blobs(30, 2, 2, 1003)
        model = expect_object(submission.backprop.train_mlp(X2, y2, hidden=(), epochs=2, lr=0.05, seed=0),
                              "what train_mlp returns")
        expect_float_array(model.forward(X2), (30, 2), "logits of a 2-class model with no hidden layer")
