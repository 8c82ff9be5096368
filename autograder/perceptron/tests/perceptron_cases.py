"""Week 1's hidden inputs and the judging steps the hidden tests share.

The seeds of every multi-case test are defined here; a single-case test names its seed inline.
Seeds follow one scheme, so none is reused by accident: 1xx for task 1, 2xx for task 2, and so on.
Failure messages name the check and what differed, never an expected value or an input: the
checks in :mod:`coursekit.checks` keep values in their ``detail``, which hidden tests do not show.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import perceptron_oracle as oracle

from coursekit import tolerances
from coursekit.checks import GradeFailure, as_scalar, expect_array, expect_close, expect_equal, expect_true
from coursekit.data import noisy_blobs, separable_blobs

F64 = tolerances.for_dtype(np.dtype(np.float64))  # a dtype, not the scalar type

# --- seeds and data -------------------------------------------------------------------------

#: (n, d, seed) of random (w, b, X) batches for predict.
PREDICT_CASES = [(25, 3, 101), (40, 6, 102), (17, 1, 103)]
#: Seeds of the random single samples for perceptron_update, and their learning rates.
UPDATE_SEEDS = [201, 202, 203, 204, 205, 206]
UPDATE_LRS = [0.1, 0.5, 2.0, 3.0]
#: (n, d, margin, data seed, order seed) for exact training sequences on separable data.
TRAIN_SEPARABLE = [(40, 5, 0.2, 302, 2), (50, 3, 0.1, 303, 3), (40, 2, 0.05, 305, 4)]
#: Novikoff's bound and the early stop, on separable data: (n, d, margin, data seed, order seed).
NOVIKOFF_CASES = [(60, 2, 0.05, 311, 0), (80, 4, 0.1, 312, 5), (40, 3, 0.2, 313, 7)]
NOVIKOFF_EPOCHS = 200
#: Non-separable data (noisy blobs): (n, d, data seed, order seed, epochs).
EPOCH_CAP_CASES = [(40, 3, 321, 0, 12), (25, 2, 322, 4, 7)]
#: Training with lr != 1: (kind, n, d, data seed, order seed, epochs, lr).
TRAIN_LR_CASES = [("noisy", 30, 2, 331, 6, 8, 0.5), ("separable", 40, 3, 332, 8, 100, 2.0)]
#: Multi-class blobs: (n, d, K, data seed, order seed, epochs).
MULTICLASS_CASES = [(60, 4, 3, 401, 0, 10), (80, 5, 5, 402, 3, 6), (45, 2, 4, 403, 9, 8)]
#: Digits: the configured run of the handout.
DIGITS_FIT = {"epochs": 10, "seed": 0}
#: Logistic regression: (n, d, data seed, lr, steps).
LOGREG_CASES = [(60, 3, 801, 0.1, 200), (40, 2, 802, 0.1, 150)]
LOGREG_LR_CASES = [(50, 3, 811, 0.5, 50), (30, 4, 812, 0.02, 300)]
#: XOR data sets: (n, seed).
XOR_CASES = [(80, 901), (120, 902), (60, 903)]
XOR_EPOCHS = 500


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def class_blobs(n: int, d: int, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, one per class around random centres: X (n, d) float64, y (n,) int64."""
    g = rng(seed)
    centres = g.normal(0.0, 2.0, size=(n_classes, d))
    y = g.integers(0, n_classes, size=n)
    return centres[y] + g.standard_normal((n, d)), y.astype(np.int64)


def binary_blobs(n: int, d: int, seed: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian blobs with labels 0/1 (float64), centred at ``shift``."""
    g = rng(seed)
    y01 = (g.random(n) < 0.5).astype(np.float64)
    direction = g.standard_normal(d)
    X = g.standard_normal((n, d)) + np.outer(2.0 * y01 - 1.0, direction) + shift
    return X, y01


def training_data(kind: str, n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``("separable" | "noisy", n, d, seed)`` → X, y in {-1, +1}."""
    if kind == "separable":
        return separable_blobs(n, d, 0.1, seed)[:2]
    return noisy_blobs(n, seed=seed, d=d)


# --- judging helpers ------------------------------------------------------------------------


def unpack_training(got: Any, d: int, what: str) -> tuple[np.ndarray, float, list[int]]:
    """Check train_perceptron's ``(w, b, mistakes)`` structure; return it in plain types."""
    expect_true(type(got) in (tuple, list) and len(got) == 3,
                f"{what}: train_perceptron must return a tuple (w, b, mistakes)")
    w = expect_array(got[0], f"{what}: w", shape=(d,), dtype_kind="f")
    b = as_scalar(got[1], f"{what}: b")
    counts = got[2]
    expect_true(type(counts) in (list, tuple) and all(
        isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in counts),
        f"{what}: mistakes must be a list of integers")
    return w, b, [int(c) for c in counts]


def _same_training(a: tuple, b: tuple) -> bool:
    return (list(a[2]) == list(b[2]) and a[0].shape == b[0].shape
            and bool(np.allclose(a[0], b[0], rtol=F64.rtol, atol=F64.atol))
            and bool(np.isclose(a[1], b[1], rtol=F64.rtol, atol=F64.atol)))


def training_explained(pc: Any, got: tuple, X: np.ndarray, y: np.ndarray, epochs: int, lr: float,
                       seed: int) -> bool:
    """Whether ``got`` is the right training run, or the right loop driven by the student's own
    ``perceptron_update`` (a task 2 mistake is charged in task 2 only)."""
    if _same_training(got, oracle.train(X, y, epochs, lr, seed)):
        return True
    replay = oracle.replay_train(pc.perceptron_update, X, y, epochs, lr, seed)
    return replay is not None and _same_training(got, replay)


def check_training_sequence(pc: Any, X: np.ndarray, y: np.ndarray, epochs: int, lr: float,
                            seed: int, what: str) -> None:
    """train_perceptron's (w, b, mistakes) against the oracle, step by step."""
    got = unpack_training(pc.train_perceptron(X, y, epochs=epochs, lr=lr, seed=seed), X.shape[1], what)
    if training_explained(pc, got, X, y, epochs, lr, seed):
        return
    w_want, b_want, counts_want = oracle.train(X, y, epochs, lr, seed)
    expect_equal(len(got[2]), len(counts_want), f"{what}: number of epochs run")
    expect_equal(got[2], counts_want, f"{what}: mistakes per epoch")
    expect_close(got[0], w_want, f"{what}: final weights")
    expect_close(got[1], b_want, f"{what}: final bias")
    raise GradeFailure(f"{what}: the result differs from the perceptron's training run")


def logreg_explained(pc: Any, w: np.ndarray, b: float, X: np.ndarray, y01: np.ndarray, lr: float,
                     steps: int) -> bool:
    """Whether ``(w, b)`` is gradient descent from zero, with the true gradient or with the
    student's own ``bce_grad`` (a task 7 mistake is charged in task 7 only)."""
    def close(want: tuple) -> bool:
        return (bool(np.allclose(w, want[0], rtol=F64.rtol, atol=F64.atol))
                and bool(np.isclose(b, want[1], rtol=F64.rtol, atol=F64.atol)))

    if close(oracle.train_logreg(X, y01, lr, steps)):
        return True
    replay = oracle.replay_logreg(pc.bce_grad, X, y01, lr, steps)
    return replay is not None and close(replay)


def unpack_logreg(got: Any, d: int, what: str) -> tuple[np.ndarray, float]:
    expect_true(type(got) in (tuple, list) and len(got) == 2,
                f"{what}: train_logreg must return a tuple (w, b)")
    return expect_array(got[0], f"{what}: w", shape=(d,), dtype_kind="f"), as_scalar(got[1], f"{what}: b")


def check_logreg(pc: Any, X: np.ndarray, y01: np.ndarray, lr: float, steps: int, what: str) -> None:
    """train_logreg's (w, b) against gradient descent from zero."""
    w, b = unpack_logreg(pc.train_logreg(X, y01, lr=lr, steps=steps), X.shape[1], what)
    if logreg_explained(pc, w, b, X, y01, lr, steps):
        return
    w_want, b_want = oracle.train_logreg(X, y01, lr, steps)
    expect_close(w, w_want, f"{what}: weights after gradient descent")
    expect_close(b, b_want, f"{what}: bias after gradient descent")
    raise GradeFailure(f"{what}: the result differs from gradient descent")


