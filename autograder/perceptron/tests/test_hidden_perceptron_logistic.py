"""Hidden graders of tasks 5 to 8: sigmoid, the loss, its gradient, and gradient descent.

PyTorch (float64) is the reference for sigmoid, the loss and its gradient; the oracle runs gradient
descent. Stability is checked at logits of ±800 (where exp overflows) and ±1e4, with the
``call_with_warnings`` driver watching for numpy's overflow, divide and invalid-value warnings.
"""

from __future__ import annotations

import math

import numpy as np
import perceptron_oracle as oracle
import pytest
from perceptron_cases import (LOGREG_CASES, LOGREG_LR_CASES, binary_blobs,
                              check_logreg, logreg_explained, rng, unpack_logreg)
from coursekit.checks import as_scalar, expect_no_warnings, expect_unchanged, run_cases, unpack

from coursekit.checks import expect_array, expect_close, expect_true
from coursekit.tolerances import FLOAT64_RELATIVE, GRADCHECK

EXTREME_Z = np.array([1e4, -1e4, 800.0, -800.0, 745.0, -745.0, 710.0, -710.0, 0.0])

# --- Task 5: sigmoid ------------------------------------------------------------------------


@pytest.mark.task(5)
@pytest.mark.points(2)
def test_sigmoid_random_values(submission, credit):
    """sigmoid matches torch.sigmoid on random arrays of several shapes"""
    g = rng(501)
    cases = [g.normal(0.0, 6.0, size=shape) for shape in [(7,), (3, 4), (2, 3, 2), (1,)]]

    def check(k, z):
        got = submission.perceptron.sigmoid(z)
        expect_array(got, f"case {k}: sigmoid", shape=z.shape, dtype_kind="f")
        expect_close(got, oracle.torch_sigmoid(z), f"case {k}: sigmoid")

    run_cases(credit, cases, check)


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_sigmoid_tails_relative_accuracy(submission):
    """sigmoid keeps full relative accuracy far out in both tails (no 1 - sigma cancellation)"""
    z = np.concatenate([-np.linspace(20.0, 700.0, 35), np.linspace(20.0, 36.0, 9)])
    got = submission.perceptron.sigmoid(z)
    expect_close(got, oracle.torch_sigmoid(z), "sigmoid far in the tails", tolerance=FLOAT64_RELATIVE)


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_sigmoid_extreme_logits(submission):
    """sigmoid is finite and exact at logits of ±800 and ±1e4"""
    got = submission.perceptron.sigmoid(EXTREME_Z)
    expect_array(got, "sigmoid at extreme logits", shape=EXTREME_Z.shape, dtype_kind="f")
    expect_true(bool(np.all(np.isfinite(got))), "sigmoid at extreme logits is not finite")
    expect_close(got, oracle.sigmoid(EXTREME_Z), "sigmoid at extreme logits")


@pytest.mark.task(5)
@pytest.mark.points(2)
def test_sigmoid_no_overflow_warning(submission):
    """sigmoid raises no overflow warning at extreme logits"""
    report = submission.driver("call_with_warnings", "perceptron", "sigmoid", EXTREME_Z)
    expect_no_warnings(report, "sigmoid at extreme logits")


# --- Task 6: bce_with_logits ----------------------------------------------------------------

BCE_EXTREME = [  # (logits, labels): confident right, confident wrong, mixed
    (np.array([1e4, -1e4]), np.array([1.0, 0.0])),
    (np.array([1e4, -1e4, 1e4, -1e4]), np.array([0.0, 1.0, 1.0, 0.0])),
    (np.array([-1e4, 3.0, 1e4]), np.array([1, 0, 1])),
]
BCE_800 = [
    (np.array([800.0, -800.0, 800.0, -800.0]), np.array([1.0, 0.0, 0.0, 1.0])),
    (np.array([-800.0, 800.0, 0.5]), np.array([0, 0, 1])),
]


def _check_bce(pc, z, y01, what):
    got = as_scalar(pc.bce_with_logits(z, y01), what)
    expect_true(math.isfinite(got), f"{what}: the loss is not finite")
    expect_close(got, oracle.torch_bce(z, y01), what)


@pytest.mark.task(6)
@pytest.mark.points(2)
def test_bce_random_values(submission, credit):
    """bce_with_logits matches torch's binary_cross_entropy_with_logits on random logits"""
    g = rng(601)
    cases = []
    for n, as_int in [(10, False), (33, True), (1, False), (100, False)]:
        y01 = g.integers(0, 2, size=n)
        cases.append((g.uniform(-8.0, 8.0, size=n), y01 if as_int else y01.astype(np.float64)))

    def check(k, case):
        _check_bce(submission.perceptron, *case, f"case {k}: bce_with_logits")

    run_cases(credit, cases, check)


@pytest.mark.task(6)
@pytest.mark.points(2)
def test_bce_at_logits_1e4(submission, credit):
    """bce_with_logits is finite and exact at logits of ±1e4, right and wrong"""
    run_cases(credit, BCE_EXTREME,
              lambda k, case: _check_bce(submission.perceptron, *case, f"case {k}: bce_with_logits"))


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_bce_at_logits_800(submission, credit):
    """bce_with_logits is finite and exact at logits of ±800, where exp overflows"""
    run_cases(credit, BCE_800,
              lambda k, case: _check_bce(submission.perceptron, *case, f"case {k}: bce_with_logits"))


@pytest.mark.task(6)
@pytest.mark.points(2)
def test_bce_no_warnings(submission, credit):
    """bce_with_logits raises no overflow, divide or invalid-value warning at extreme logits"""
    def check(k, case):
        report = submission.driver("call_with_warnings", "perceptron", "bce_with_logits", *case)
        expect_no_warnings(report, f"case {k}: bce_with_logits")

    run_cases(credit, BCE_EXTREME + BCE_800, check)


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_bce_leaves_its_arguments(submission):
    """bce_with_logits does not change z or y"""
    g = rng(602)
    report = submission.driver("call_checking_arguments", "perceptron", "bce_with_logits",
                               g.normal(0.0, 3.0, size=12), g.integers(0, 2, size=12).astype(np.float64))
    expect_unchanged(report, "bce_with_logits")


# --- Task 7: bce_grad -----------------------------------------------------------------------


def _grad_case(seed: int, n: int, d: int, scale: float = 1.0):
    g = rng(seed)
    return (scale * g.standard_normal(d), float(g.standard_normal()), g.standard_normal((n, d)),
            g.integers(0, 2, size=n).astype(np.float64))


def _check_grad(pc, w, b, X, y01, what):
    got = unpack(pc.bce_grad(w, b, X, y01), 2, f"{what}: bce_grad")
    _, dw_want, db_want = oracle.torch_bce_and_grad(w, b, X, y01)
    expect_array(got[0], f"{what}: dw", shape=w.shape, dtype_kind="f")
    expect_close(got[0], dw_want, f"{what}: dw")
    expect_close(as_scalar(got[1], f"{what}: db"), db_want, f"{what}: db")


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_bce_grad_leaves_its_arguments(submission):
    """bce_grad does not change w, X or y"""
    report = submission.driver("call_checking_arguments", "perceptron", "bce_grad", *_grad_case(701, 15, 3))
    expect_unchanged(report, "bce_grad")


@pytest.mark.task(7)
@pytest.mark.points(4)
def test_bce_grad_against_autograd(submission, credit):
    """bce_grad matches torch autograd of the mean BCE in float64 on random data"""
    cases = [_grad_case(702, 20, 3), _grad_case(703, 7, 1), _grad_case(704, 50, 8), _grad_case(705, 2, 5)]
    run_cases(credit, cases, lambda k, case: _check_grad(submission.perceptron, *case, f"case {k}"))


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_bce_grad_one_sample(submission):
    """bce_grad matches autograd for a batch of a single sample"""
    _check_grad(submission.perceptron, *_grad_case(706, 1, 4), "one sample")


@pytest.mark.task(7)
@pytest.mark.points(2)
def test_bce_grad_large_logits(submission, credit):
    """bce_grad matches autograd where the logits reach about ±30"""
    cases = [_grad_case(707, 25, 3, scale=10.0), _grad_case(708, 40, 2, scale=15.0)]
    run_cases(credit, cases, lambda k, case: _check_grad(submission.perceptron, *case, f"case {k}"))


@pytest.mark.task(7)
@pytest.mark.points(2)
def test_bce_grad_is_a_mean(submission):
    """bce_grad does not change when every sample is repeated (the gradient of a mean, not a sum)"""
    pc = submission.perceptron
    w, b, X, y01 = _grad_case(709, 12, 3)
    dw1, db1 = unpack(pc.bce_grad(w, b, X, y01), 2, "bce_grad")
    dw2, db2 = unpack(pc.bce_grad(w, b, np.concatenate([X, X, X]), np.concatenate([y01, y01, y01])), 2,
                      "bce_grad")
    expect_close(dw2, np.asarray(dw1), "dw on the data repeated three times vs once")
    expect_close(as_scalar(db2, "db"), as_scalar(db1, "db"), "db on the data repeated three times vs once")


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_bce_grad_central_differences(submission):
    """bce_grad agrees with central differences of the mean loss"""
    w, b, X, y01 = _grad_case(710, 30, 4)
    dw, db = unpack(submission.perceptron.bce_grad(w, b, X, y01), 2, "bce_grad")
    dw_num, db_num = oracle.numerical_grad(w, b, X, y01)
    expect_close(dw, dw_num, "dw against central differences", tolerance=GRADCHECK)
    expect_close(as_scalar(db, "db"), db_num, "db against central differences",
                 tolerance=GRADCHECK)


# --- Task 8: train_logreg -------------------------------------------------------------------


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_logreg_leaves_its_arguments(submission):
    """train_logreg does not change X or y"""
    X, y01 = binary_blobs(30, 2, 801)
    report = submission.driver("call_checking_arguments", "perceptron", "train_logreg", X, y01,
                               lr=0.1, steps=20)
    expect_unchanged(report, "train_logreg")


@pytest.mark.task(8)
@pytest.mark.points(3)
def test_logreg_gradient_descent(submission, credit):
    """train_logreg's weights and bias match full-batch gradient descent from zero"""
    def check(k, case):
        n, d, seed, lr, steps = case
        X, y01 = binary_blobs(n, d, seed)
        check_logreg(submission.perceptron, X, y01, lr, steps, f"case {k}")

    run_cases(credit, LOGREG_CASES, check)


@pytest.mark.task(8)
@pytest.mark.points(2)
def test_logreg_other_step_sizes(submission, credit):
    """train_logreg matches gradient descent for other step sizes and step counts"""
    def check(k, case):
        n, d, seed, lr, steps = case
        X, y01 = binary_blobs(n, d, seed)
        check_logreg(submission.perceptron, X, y01, lr, steps, f"case {k}")

    run_cases(credit, LOGREG_LR_CASES, check)


@pytest.mark.task(8)
@pytest.mark.points(2)
def test_logreg_learns_the_bias(submission):
    """train_logreg learns the bias on data shifted away from the origin"""
    X, y01 = binary_blobs(60, 2, 821, shift=3.0)
    check_logreg(submission.perceptron, X, y01, 0.1, 200, "shifted data")


@pytest.mark.task(8)
@pytest.mark.points(2)
def test_logreg_reduces_the_loss(submission):
    """train_logreg lowers the mean BCE well below log 2 and classifies most training samples"""
    X, y01 = binary_blobs(80, 3, 831)
    pc = submission.perceptron
    w, b = unpack_logreg(pc.train_logreg(X, y01, lr=0.5, steps=300), 3, "train_logreg")
    if logreg_explained(pc, w, b, X, y01, 0.5, 300):
        return
    z = X @ w + b
    expect_true(bool(np.all(np.isfinite(z))), "train_logreg's weights are not finite")
    expect_true(oracle.mean_bce(z, y01) < 0.8 * math.log(2.0),
                "the mean loss after training is not clearly below its value at the start (log 2)")
    expect_true(float(np.mean((z >= 0) == (y01 == 1))) >= 0.8,
                "the trained model misclassifies more than a fifth of its training data")
