"""Public tests of Week 1 (``perceptron.py``): wiring, shapes, dtypes and small examples by hand.

Run them with ``make test`` (all tasks) or ``make test TASK=3`` (one task). They are about a third of
the checks: passing them means your functions are wired correctly, not that they are correct. The
hidden graders compare your results with an independent implementation on random data from
several seeds, check the properties the handout states, and train on the digits.

Your code runs in a separate process: arguments reach it as copies and results come back as plain
numpy arrays and Python values. Whether your code changes its arguments is checked inside that
process by the course's public driver ``call_checking_arguments``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from coursekit.checks import expect_array, expect_close, expect_equal, expect_true, expect_type


def _results(got, count: int, what: str) -> tuple:
    """``got`` must be a tuple of ``count`` values (what ``what`` returns)."""
    expect_true(type(got) is tuple and len(got) == count,
                f"{what} must return a tuple of {count} values", f"got {got!r:.200}")
    return got


def _expect_unchanged(report: dict, what: str) -> None:
    """``report`` comes from the ``call_checking_arguments`` driver: a call that returned nothing
    has nothing to keep."""
    expect_true(report["value"] is not None, f"{what} returned None, so there is nothing to check yet")
    changed = [i for i, flag in enumerate(report["args_changed"]) if flag]
    changed += [name for name, flag in report["kwargs_changed"].items() if flag]
    expect_true(not changed, f"{what} changed its arguments; work on copies instead",
                f"arguments changed: {changed}")


# --- Task 1: predict ------------------------------------------------------------------------

@pytest.mark.task(1)
@pytest.mark.points(1)
def test_predict_small_example(submission):
    """predict labels a small batch by the side of the hyperplane, as int64 -1/+1"""
    w, b = np.array([1.0, -2.0]), 0.5
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0], [-1.0, -1.0]])  # scores 1.5, -1.5, -1.5, 1.5
    got = submission.perceptron.predict(w, b, X)
    expect_array(got, "predict(w, b, X)", shape=(4,), dtype_kind="i")
    expect_true(got.dtype == np.int64, "predict must return int64 labels", f"got dtype {got.dtype}")
    expect_equal(got, np.array([1, -1, -1, 1]), "predict(w, b, X)")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_predict_sign_of_zero(submission):
    """predict gives +1 to points exactly on the boundary (sign(0) = +1)"""
    pc = submission.perceptron
    expect_equal(pc.predict(np.zeros(2), 0.0, np.ones((3, 2))), np.ones(3, dtype=np.int64),
                 "predict with zero weights and bias")
    X = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])  # scores 0, -2, 2
    expect_equal(pc.predict(np.array([1.0, 1.0]), -2.0, X), np.array([1, -1, 1]),
                 "predict with w = (1, 1), b = -2")


# --- Task 2: perceptron_update --------------------------------------------------------------

@pytest.mark.task(2)
@pytest.mark.points(1)
def test_update_on_a_mistake(submission):
    """perceptron_update moves w by lr*y*x and b by lr*y on a misclassified sample"""
    w, b, x = np.array([1.0, -1.0]), 0.0, np.array([1.0, 2.0])  # y (w·x + b) = -1
    got = _results(submission.perceptron.perceptron_update(w, b, x, 1, 0.5), 2, "perceptron_update")
    expect_close(got[0], np.array([1.5, 0.0]), "new w")
    expect_close(got[1], 0.5, "new b")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_update_leaves_a_correct_sample(submission):
    """perceptron_update changes nothing on a correctly classified sample, returns (float64 array, float)"""
    w, b, x = np.array([1.0, -1.0]), 0.25, np.array([2.0, 1.0])  # y (w·x + b) = 1.25 > 0
    new_w, new_b = _results(submission.perceptron.perceptron_update(w, b, x, 1, 1.0), 2,
                            "perceptron_update")
    expect_array(new_w, "new w", shape=(2,), dtype_kind="f")
    expect_true(new_w.dtype == np.float64, "new w must be float64", f"got dtype {new_w.dtype}")
    expect_type(new_b, (float, np.float64), "new b")
    expect_equal(new_w, w, "new w")
    expect_equal(new_b, b, "new b")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_update_on_the_boundary(submission):
    """perceptron_update counts a sample on the boundary (y (w·x + b) = 0) as a mistake"""
    pc = submission.perceptron
    new_w, new_b = _results(pc.perceptron_update(np.zeros(3), 0.0, np.array([1.0, 2.0, 3.0]), -1), 2,
                            "perceptron_update")
    expect_close(new_w, np.array([-1.0, -2.0, -3.0]), "new w from zero weights")
    expect_close(new_b, -1.0, "new b from zero weights")
    new_w, new_b = _results(pc.perceptron_update(np.array([1.0, 1.0]), -3.0, np.array([1.0, 2.0]), 1), 2,
                            "perceptron_update")
    expect_close(new_w, np.array([2.0, 3.0]), "new w with w·x + b = 0")
    expect_close(new_b, -2.0, "new b with w·x + b = 0")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_update_returns_new_arrays(submission):
    """perceptron_update leaves its arguments unchanged and never returns the input array itself"""
    for x, y in [(np.array([1.0, 2.0]), 1), (np.array([2.0, 1.0]), 1)]:  # a mistake, then not
        report = submission.driver("call_checking_arguments", "perceptron", "perceptron_update",
                                   np.array([1.0, -1.0]), 0.0, x, y, 1.0)
        _expect_unchanged(report, "perceptron_update")
        expect_true(not report["returns_argument"],
                    "perceptron_update returned the input array w (or a view of it); return a new array")


# --- Task 3: train_perceptron ---------------------------------------------------------------

# Two well-separated groups: x1 > 0 is +1, x1 < 0 is -1.
TOY_X = np.array([[2.0, 1.0], [1.5, -1.0], [3.0, 0.5], [-2.0, 0.5], [-1.0, -1.5], [-2.5, 1.0]])
TOY_Y = np.array([1, 1, 1, -1, -1, -1])


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_train_returns_weights_bias_and_mistakes(submission):
    """train_perceptron returns (float64 w of shape (d,), float b, list of ints) with one count per epoch"""
    got = submission.perceptron.train_perceptron(TOY_X, TOY_Y, epochs=20, lr=1.0, seed=0)
    w, b, mistakes = _results(got, 3, "train_perceptron")
    expect_array(w, "w", shape=(2,), dtype_kind="f")
    expect_true(w.dtype == np.float64, "w must be float64", f"got dtype {w.dtype}")
    expect_type(b, (float, np.float64), "b")
    expect_type(mistakes, list, "mistakes")
    expect_true(all(isinstance(m, (int, np.integer)) for m in mistakes),
                "mistakes must hold integers (one count per epoch)")
    expect_true(1 <= len(mistakes) <= 20, "mistakes needs one entry per epoch run, at most `epochs`",
                f"got {len(mistakes)} entries")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_train_on_one_sample(submission):
    """train_perceptron on one sample: one update in epoch 1, none in epoch 2, then it stops"""
    # Epoch 1: y (w·x + b) = 0 from zeros, so w = (1, 2), b = 1. Epoch 2: 1 + 4 + 1 = 6 > 0.
    got = submission.perceptron.train_perceptron(np.array([[1.0, 2.0]]), np.array([1]), epochs=10, lr=1.0,
                                                 seed=0)
    w, b, mistakes = _results(got, 3, "train_perceptron")
    expect_close(w, np.array([1.0, 2.0]), "w")
    expect_close(b, 1.0, "b")
    expect_equal(mistakes, [1, 0], "mistakes")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_train_stops_at_the_epoch_cap(submission):
    """train_perceptron runs exactly `epochs` epochs on XOR's four corners, with mistakes in each"""
    X = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    y = np.array([1, 1, -1, -1])
    got = submission.perceptron.train_perceptron(X, y, epochs=5, lr=1.0, seed=0)
    _, _, mistakes = _results(got, 3, "train_perceptron")
    expect_equal(len(mistakes), 5, "number of epochs run on non-separable data")
    expect_true(all(m >= 1 for m in mistakes), "every epoch on non-separable data has a mistake",
                f"mistakes = {mistakes}")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_train_leaves_its_arguments(submission):
    """train_perceptron does not change X or y (no in-place shuffling)"""
    report = submission.driver("call_checking_arguments", "perceptron", "train_perceptron",
                               TOY_X, TOY_Y, epochs=20, lr=1.0, seed=0)
    _expect_unchanged(report, "train_perceptron")


# --- Task 4: MulticlassPerceptron -----------------------------------------------------------

@pytest.mark.task(4)
@pytest.mark.points(1)
def test_multiclass_predict_small_example(submission):
    """MulticlassPerceptron.predict takes the best class score, ties to the lowest index"""
    m = submission.perceptron.MulticlassPerceptron(2, 3)
    m.W = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    m.b = np.zeros(3)
    X = np.array([[2.0, 1.0], [0.0, 3.0], [-1.0, -1.0]])  # scores (2, 2, 1), (0, 0, 3), (-1, -1, -1)
    got = m.predict(X)
    expect_array(got, "predict(X)", shape=(3,), dtype_kind="i")
    expect_true(got.dtype == np.int64, "predict must return int64 labels", f"got dtype {got.dtype}")
    expect_equal(got, np.array([0, 2, 0]), "predict(X)")


@pytest.mark.task(4)
@pytest.mark.points(2)
def test_multiclass_fit_one_sample(submission):
    """MulticlassPerceptron.fit on one sample adds x to the true class, subtracts it from the predicted one"""
    # Epoch 1: all scores are 0, so class 0 is predicted for a sample of class 2: W[2] += x,
    # b[2] += 1, W[0] -= x, b[0] -= 1. Epoch 2: scores (-6, 0, 6), no mistake: stop.
    m = submission.perceptron.MulticlassPerceptron(2, 3)
    returned = m.fit(np.array([[1.0, 2.0]]), np.array([2]), epochs=10, seed=0)
    expect_true(submission.driver("same_object", returned, m), "fit must return self")
    expect_close(m.W, np.array([[-1.0, -2.0], [0.0, 0.0], [1.0, 2.0]]), "W after fit")
    expect_close(m.b, np.array([-1.0, 0.0, 1.0]), "b after fit")


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_multiclass_shapes_after_fit(submission):
    """after fit, W is (K, d), b is (K,) and predict returns int64 labels in 0..K-1"""
    X = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5], [0.5, 0.5, 1.0], [1.0, 1.0, 0.0]])
    y = np.array([0, 1, 2, 3])
    m = submission.perceptron.MulticlassPerceptron(3, 4)
    m.fit(X, y, epochs=5, seed=1)
    expect_array(m.W, "W", shape=(4, 3), dtype_kind="f")
    expect_array(m.b, "b", shape=(4,), dtype_kind="f")
    labels = m.predict(X)
    expect_array(labels, "predict(X)", shape=(4,), dtype_kind="i")
    expect_true(bool(np.all((labels >= 0) & (labels < 4))), "predicted labels must lie in 0..K-1",
                f"got {labels}")


# --- Task 5: sigmoid ------------------------------------------------------------------------

@pytest.mark.task(5)
@pytest.mark.points(1)
def test_sigmoid_keeps_the_shape(submission):
    """sigmoid returns float64 of the input's shape; sigmoid(0) = 1/2"""
    pc = submission.perceptron
    # A 0-d result travels back as a one-element array, so only its value is checked here.
    at_zero = expect_array(pc.sigmoid(0.0), "sigmoid(0.0)", dtype_kind="f")
    expect_true(at_zero.size == 1, "sigmoid of a single number must be a single number",
                f"got shape {at_zero.shape}")
    expect_close(float(at_zero.reshape(())), 0.5, "sigmoid(0.0)")
    z = np.array([[0.0, 1.0, -1.0], [0.0, -2.0, 2.0]])
    got = pc.sigmoid(z)
    expect_array(got, "sigmoid of a (2, 3) array", shape=(2, 3), dtype_kind="f")
    expect_true(got.dtype == np.float64, "sigmoid must return float64", f"got dtype {got.dtype}")
    expect_close(got[:, [0]], np.full((2, 1), 0.5), "sigmoid(0) entries")


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_sigmoid_small_values(submission):
    """sigmoid(±log 3) = 3/4 and 1/4"""
    got = submission.perceptron.sigmoid(np.array([math.log(3.0), -math.log(3.0), 0.0]))
    expect_close(got, np.array([0.75, 0.25, 0.5]), "sigmoid([log 3, -log 3, 0])")


# --- Task 6: bce_with_logits ----------------------------------------------------------------

@pytest.mark.task(6)
@pytest.mark.points(1)
def test_bce_at_zero_logits(submission):
    """bce_with_logits returns a float; at logit 0 the loss is log 2 for either label"""
    got = submission.perceptron.bce_with_logits(np.zeros(2), np.array([1.0, 0.0]))
    expect_type(got, (float, np.float64), "bce_with_logits's result")
    expect_close(got, math.log(2.0), "bce_with_logits(0, y)")


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_bce_small_example(submission):
    """bce_with_logits is the mean of softplus(z) - y z: ((log 2) + (log 4)) / 2 for a small pair"""
    z = np.array([0.0, math.log(3.0)])  # softplus(log 3) = log 4, and y = 0 there
    got = submission.perceptron.bce_with_logits(z, np.array([1, 0]))
    expect_close(got, 1.5 * math.log(2.0), "bce_with_logits(z, y)")


# --- Task 7: bce_grad -----------------------------------------------------------------------

GRAD_X = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 1.0]])
GRAD_Y = np.array([1.0, 0.0, 0.0])


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_bce_grad_shapes(submission):
    """bce_grad returns (float64 dw of shape (d,), float db)"""
    got = _results(submission.perceptron.bce_grad(np.array([0.5, -0.5]), 0.1, GRAD_X, GRAD_Y), 2, "bce_grad")
    expect_array(got[0], "dw", shape=(2,), dtype_kind="f")
    expect_true(got[0].dtype == np.float64, "dw must be float64", f"got dtype {got[0].dtype}")
    expect_type(got[1], (float, np.float64), "db")


@pytest.mark.task(7)
@pytest.mark.points(2)
def test_bce_grad_at_zero(submission):
    """bce_grad at w = 0, b = 0 is X^T (1/2 - y) / n and mean(1/2 - y)"""
    # sigma(0) = 1/2, residuals (-1/2, 1/2, 1/2): dw = (1/3, -1/3), db = 1/6.
    dw, db = _results(submission.perceptron.bce_grad(np.zeros(2), 0.0, GRAD_X, GRAD_Y), 2, "bce_grad")
    expect_close(dw, np.array([1.0 / 3.0, -1.0 / 3.0]), "dw at zero")
    expect_close(db, 1.0 / 6.0, "db at zero")


# --- Task 8: train_logreg -------------------------------------------------------------------

@pytest.mark.task(8)
@pytest.mark.points(1)
def test_logreg_zero_steps(submission):
    """train_logreg with steps=0 returns the starting point: float64 zeros of shape (d,) and 0.0"""
    w, b = _results(submission.perceptron.train_logreg(GRAD_X, GRAD_Y, lr=0.1, steps=0), 2, "train_logreg")
    expect_array(w, "w", shape=(2,), dtype_kind="f")
    expect_type(b, (float, np.float64), "b")
    expect_close(w, np.zeros(2), "w after 0 steps")
    expect_close(b, 0.0, "b after 0 steps")


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_logreg_one_step(submission):
    """one step of train_logreg from zero is -lr times your bce_grad at zero"""
    pc = submission.perceptron
    w, b = _results(pc.train_logreg(GRAD_X, GRAD_Y, lr=0.5, steps=1), 2, "train_logreg")
    dw, db = _results(pc.bce_grad(np.zeros(2), 0.0, GRAD_X, GRAD_Y), 2, "bce_grad")
    expect_close(w, -0.5 * np.asarray(dw), "w after 1 step")
    expect_close(b, -0.5 * float(db), "b after 1 step")


# --- Task 9: xor_features -------------------------------------------------------------------

@pytest.mark.task(9)
@pytest.mark.points(1)
def test_xor_features_small_example(submission):
    """xor_features maps (x1, x2) to float64 (x1, x2, x1*x2)"""
    X = np.array([[1.0, 2.0], [-1.0, 3.0], [0.5, -4.0]])
    got = submission.perceptron.xor_features(X)
    expect_array(got, "xor_features(X)", shape=(3, 3), dtype_kind="f")
    expect_close(got, np.array([[1.0, 2.0, 2.0], [-1.0, 3.0, -3.0], [0.5, -4.0, -2.0]]),
                 "xor_features(X)")
