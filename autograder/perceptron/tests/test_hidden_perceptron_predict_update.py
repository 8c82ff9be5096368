"""Hidden graders of tasks 1 and 2: predict and one perceptron update, against the oracle."""

from __future__ import annotations

import numpy as np
import perceptron_oracle as oracle
import pytest
from perceptron_cases import PREDICT_CASES, UPDATE_LRS, UPDATE_SEEDS, rng
from coursekit.checks import as_scalar, expect_unchanged, run_cases, unpack

from coursekit.checks import expect_array, expect_close, expect_equal, expect_true

# --- Task 1: predict ------------------------------------------------------------------------


def _check_predict(pc, w, b, X, what):
    got = pc.predict(w, b, X)
    expect_array(got, what, shape=(X.shape[0],), dtype_kind="i")
    expect_equal(got, oracle.predict(w, b, X), what)


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_predict_random_batches(submission, credit):
    """predict matches sign(Xw + b) on random batches"""
    def check(k, case):
        n, d, seed = case
        g = rng(seed)
        w, b, X = g.standard_normal(d), float(g.standard_normal()), g.standard_normal((n, d))
        _check_predict(submission.perceptron, w, b, X, f"case {k}: predict")

    run_cases(credit, PREDICT_CASES, check)


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_predict_edge_shapes(submission):
    """predict handles one sample, one feature, and returns one label per row"""
    pc = submission.perceptron
    g = rng(111)
    _check_predict(pc, g.standard_normal(4), 0.3, g.standard_normal((1, 4)), "predict on one sample")
    _check_predict(pc, np.array([-1.5]), 0.25, g.standard_normal((6, 1)), "predict with one feature")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_predict_on_the_boundary(submission):
    """predict labels every point exactly on the boundary +1 (integer data with zero scores)"""
    g = rng(112)
    X = g.integers(-2, 3, size=(60, 3)).astype(np.float64)
    w, b = np.array([1.0, -1.0, 2.0]), 1.0
    assert np.sum(X @ w + b == 0) >= 5, "grader self-check: the boundary case has too few zero scores"
    _check_predict(submission.perceptron, w, b, X, "predict with scores exactly 0")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_predict_leaves_its_arguments(submission):
    """predict does not change w or X"""
    g = rng(113)
    report = submission.driver("call_checking_arguments", "perceptron", "predict",
                               g.standard_normal(3), 0.5, g.standard_normal((8, 3)))
    expect_unchanged(report, "predict")


# --- Task 2: perceptron_update --------------------------------------------------------------


def _random_sample(seed: int, mistake: bool):
    """Random (w, b, x, y, lr) with y(w·x + b) < 0 (a mistake) or > 0, well away from 0."""
    g = rng(seed)
    d = int(g.integers(1, 7))
    w, b, x = g.standard_normal(d), float(g.standard_normal()), g.standard_normal(d)
    score = float(w @ x + b)
    if abs(score) < 0.05:  # keep the margin clearly off the boundary
        b += 0.5 if score >= 0 else -0.5
        score = float(w @ x + b)
    y = -1 if (score > 0) == mistake else 1
    lr = float(g.choice(UPDATE_LRS))
    return w, b, x, y, lr


def _check_update(pc, w, b, x, y, lr, what):
    got = unpack(pc.perceptron_update(w, b, x, y, lr), 2, f"{what}: perceptron_update")
    w_want, b_want = oracle.update(w, b, x, y, lr)
    expect_array(got[0], f"{what}: new w", shape=w.shape, dtype_kind="f")
    expect_close(got[0], w_want, f"{what}: new w")
    expect_close(as_scalar(got[1], f"{what}: new b"), b_want, f"{what}: new b")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_update_random_mistakes(submission, credit):
    """perceptron_update applies w + lr*y*x, b + lr*y on random misclassified samples"""
    def check(k, seed):
        _check_update(submission.perceptron, *_random_sample(seed, mistake=True), f"case {k}")

    run_cases(credit, UPDATE_SEEDS, check)


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_update_random_correct_samples(submission, credit):
    """perceptron_update leaves w and b as they were on random correctly classified samples"""
    def check(k, seed):
        _check_update(submission.perceptron, *_random_sample(seed, mistake=False), f"case {k}")

    run_cases(credit, UPDATE_SEEDS, check)


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_update_on_the_boundary(submission, credit):
    """perceptron_update treats y(w·x + b) = 0 as a mistake (integer data, learning rate 1)"""
    g = rng(211)
    cases = []
    for _ in range(5):
        d = int(g.integers(2, 6))
        w, x = g.integers(-3, 4, size=d).astype(np.float64), g.integers(-3, 4, size=d).astype(np.float64)
        cases.append((w, -float(w @ x), x, int(g.choice([-1, 1]))))  # b = -w·x: score exactly 0
    cases.append((np.zeros(3), 0.0, np.array([2.0, -1.0, 0.5]), 1))

    def check(k, case):
        _check_update(submission.perceptron, *case, 1.0, f"case {k}")

    run_cases(credit, cases, check)


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_update_returns_new_arrays(submission, credit):
    """perceptron_update never modifies w or x and always returns a new weight array"""
    def check(k, case):
        seed, mistake = case
        report = submission.driver("call_checking_arguments", "perceptron", "perceptron_update",
                                   *_random_sample(seed, mistake))
        expect_unchanged(report, f"case {k}: perceptron_update")
        expect_true(not report["returns_argument"],
                    f"case {k}: perceptron_update returned its input array w (or a view of it)")

    run_cases(credit, [(UPDATE_SEEDS[0], True), (UPDATE_SEEDS[1], False), (UPDATE_SEEDS[2], True),
                       (UPDATE_SEEDS[3], False)], check)
