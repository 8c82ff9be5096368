"""Hidden graders of task 4: the multi-class perceptron against the oracle, and on the digits."""

from __future__ import annotations

import numpy as np
import perceptron_oracle as oracle
import pytest
from perceptron_cases import DIGITS_FIT, MULTICLASS_CASES, class_blobs, rng
from coursekit.checks import expect_unchanged, run_cases

from coursekit.checks import expect_array, expect_close, expect_equal, expect_true
from coursekit.data import load_digits

pytestmark = pytest.mark.task(4)


def _fit(pc, X, y, n_classes, epochs, seed):
    model = pc.MulticlassPerceptron(X.shape[1], n_classes)
    model.fit(X, y, epochs=epochs, seed=seed)
    return model


def _expect_weights(model, X, y, n_classes, epochs, seed, what):
    W_want, b_want = oracle.multiclass_fit(X, y, n_classes, epochs, seed)
    W, b = model.W, model.b
    expect_array(W, f"{what}: W", shape=W_want.shape, dtype_kind="f")
    expect_array(b, f"{what}: b", shape=b_want.shape, dtype_kind="f")
    expect_close(W, W_want, f"{what}: W after fit")
    expect_close(b, b_want, f"{what}: b after fit")


@pytest.mark.points(1)
def test_multiclass_leaves_its_arguments(submission):
    """fit and predict do not change X or y"""
    X, y = class_blobs(30, 3, 3, 411)
    model = submission.perceptron.MulticlassPerceptron(3, 3)
    expect_unchanged(submission.driver("call_checking_arguments", model, "fit", X, y, epochs=3, seed=0),
                     "fit")
    expect_unchanged(submission.driver("call_checking_arguments", model, "predict", X), "predict")


@pytest.mark.points(1)
def test_multiclass_predict_random_weights(submission):
    """predict takes the argmax of X W^T + b for random weights"""
    g = rng(412)
    W, b, X = g.standard_normal((6, 5)), g.standard_normal(6), g.standard_normal((40, 5))
    model = submission.perceptron.MulticlassPerceptron(5, 6)
    model.W, model.b = W, b
    got = model.predict(X)
    expect_array(got, "predict", shape=(40,), dtype_kind="i")
    expect_equal(got, oracle.multiclass_predict(W, b, X), "predict with given W and b")


@pytest.mark.points(1)
def test_multiclass_predict_ties(submission):
    """predict breaks ties between equal class scores by the lowest class index"""
    g = rng(413)
    W = g.integers(-1, 2, size=(4, 3)).astype(np.float64)
    W[2] = W[0]  # classes 0 and 2 always tie
    X = g.integers(-2, 3, size=(50, 3)).astype(np.float64)
    model = submission.perceptron.MulticlassPerceptron(3, 4)
    model.W, model.b = W, np.zeros(4)
    expect_equal(model.predict(X), oracle.multiclass_predict(W, np.zeros(4), X), "predict with ties")


@pytest.mark.points(4)
def test_multiclass_fit_random_blobs(submission, credit):
    """after fit on random blobs, W and b match the multi-class perceptron's run"""
    def check(k, case):
        n, d, n_classes, data_seed, seed, epochs = case
        X, y = class_blobs(n, d, n_classes, data_seed)
        model = _fit(submission.perceptron, X, y, n_classes, epochs, seed)
        _expect_weights(model, X, y, n_classes, epochs, seed, f"case {k}")

    run_cases(credit, MULTICLASS_CASES, check)


@pytest.mark.points(1)
def test_multiclass_fit_one_epoch(submission):
    """fit with epochs=1 makes exactly one pass over the data"""
    X, y = class_blobs(50, 3, 4, 414)
    model = _fit(submission.perceptron, X, y, 4, 1, 2)
    _expect_weights(model, X, y, 4, 1, 2, "one epoch")


@pytest.mark.points(3)
def test_multiclass_fit_digits_weights(submission):
    """after fit on the digits' training split, W and b match the multi-class perceptron's run"""
    X, y = load_digits("train")
    model = _fit(submission.perceptron, X, y, 10, DIGITS_FIT["epochs"], DIGITS_FIT["seed"])
    _expect_weights(model, X, y, 10, DIGITS_FIT["epochs"], DIGITS_FIT["seed"], "digits")


@pytest.mark.points(3)
def test_multiclass_digits_accuracy(submission, week):
    """fit(epochs=10, seed=0) on the digits reaches the handout's accuracy on the held-out test split"""
    threshold = week.thresholds["digits_test_accuracy"]
    X, y = load_digits("train")
    X_test, y_test = load_digits("test")
    model = _fit(submission.perceptron, X, y, 10, DIGITS_FIT["epochs"], DIGITS_FIT["seed"])
    labels = expect_array(model.predict(X_test), "predict on the test split", shape=y_test.shape,
                          dtype_kind="iu")
    accuracy = float(np.mean(labels == y_test))
    expect_true(accuracy >= threshold,
                f"held-out accuracy {accuracy:.3f} is below the required {threshold:.2f}")
