"""Hidden graders of task 9: the student's XOR features make XOR-labelled data linearly separable.

The grader trains its own perceptron on the student's features: on separable data it must reach an
epoch without mistakes (Novikoff), and the result must classify every point correctly.
"""

from __future__ import annotations

import numpy as np
import perceptron_oracle as oracle
import pytest
from perceptron_cases import XOR_CASES, XOR_EPOCHS
from coursekit.checks import expect_unchanged, run_cases

from coursekit.checks import expect_array, expect_close, expect_true
from coursekit.data import xor

pytestmark = pytest.mark.task(9)

#: More features than this would make almost any labelling separable without solving XOR.
MAX_FEATURES = 16


def _features(pc, X, what):
    F = expect_array(pc.xor_features(X), what, dtype_kind="fiu")
    expect_true(F.ndim == 2 and F.shape[0] == X.shape[0],
                f"{what}: expected one row of features per point, got shape {F.shape}")
    expect_true(F.shape[1] <= MAX_FEATURES, f"{what}: more than {MAX_FEATURES} features per point")
    expect_true(bool(np.all(np.isfinite(F))), f"{what}: features are not finite")
    return F.astype(np.float64)


@pytest.mark.points(3)
def test_xor_becomes_separable(submission, credit):
    """a perceptron trained on xor_features separates XOR-labelled data"""
    def check(k, case):
        n, seed = case
        X, y = xor(n, seed=seed)
        F = _features(submission.perceptron, X, f"case {k}: xor_features")
        w, b, counts = oracle.train(F, y, XOR_EPOCHS, 1.0, 0)
        expect_true(counts[-1] == 0 and oracle.separates(w, b, F, y),
                    f"case {k}: a perceptron could not separate XOR data in these features")

    run_cases(credit, XOR_CASES, check)


@pytest.mark.points(1)
def test_xor_features_row_by_row(submission):
    """xor_features maps each point on its own (the features of a subset are a subset of the features)"""
    X, _ = xor(40, seed=911)
    pc = submission.perceptron
    whole = _features(pc, X, "xor_features")
    part = _features(pc, X[7:19], "xor_features on a subset")
    expect_close(part, whole[7:19], "features of a subset of the points")


@pytest.mark.points(1)
def test_xor_features_leave_their_argument(submission):
    """xor_features does not change X"""
    X, _ = xor(20, seed=912)
    expect_unchanged(submission.driver("call_checking_arguments", "perceptron", "xor_features", X),
                     "xor_features")
