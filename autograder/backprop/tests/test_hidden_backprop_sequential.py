"""Hidden graders of task 6: the Sequential container on random networks against torch autograd.

The ``sequential_pass`` driver runs the same network twice in the worker: as the student's
``Sequential`` and as the student's layers called one by one. A result is right when it matches
torch, or when it matches those layers one by one (then any difference from torch is a layer's
mistake, charged in the layer's own task, not again here). Gradients are read through the pairs of
one ``parameters()`` call made before the first pass, as an optimizer built once reads them.
"""

from __future__ import annotations

import backprop_oracle as oracle
import numpy as np
import pytest
from backprop_cases import F64, NETWORK_CASES, expect_float_array, network_weights, rng
from coursekit.checks import run_cases

from coursekit.checks import GradeFailure, expect_close, expect_true

pytestmark = pytest.mark.task(6)


def _run(submission, case, passes=1):
    spec, N, seed = case
    weights = network_weights(spec, seed)
    g = rng(seed + 50)
    x = g.standard_normal((N, spec[0][1]))
    douts = [g.standard_normal((N, spec[-1][2])) for _ in range(passes)]
    report = submission.driver("sequential_pass", spec, weights, x, douts)
    wants = [oracle.network(spec, weights, x, dout) for dout in douts]
    return report, wants


def _close(got, want) -> bool:
    got = np.asarray(got)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=F64.rtol, atol=F64.atol))


def _check(report, wants, what, part, which_pass=0):
    """Sequential's ``part`` ("out", "dx" or "grads") of one pass: like torch, or like the layers
    one by one; otherwise the comparison with torch says what differed."""
    seq, own = report["sequential"], report["layers"]
    index = {"out": 0, "dx": 1, "grads": 2}[part]
    want = wants[which_pass][index]
    got = seq[part][which_pass]
    if part == "grads":
        expect_true(type(got) is list and len(got) == len(want),
                    f"{what}: parameters() lists the wrong number of (param, grad) pairs")
        if all(_close(g, w) for g, w in zip(got, want)):
            return
        if all(_close(g, o) for g, o in zip(got, own[part][which_pass])):
            return
        for i, (g, w) in enumerate(zip(got, want), start=1):
            expect_float_array(g, w.shape, f"{what}: gradient {i} in parameters()")
            expect_close(g, w, f"{what}: gradient {i} in parameters()")
        return
    if _close(got, want) or _close(got, own[part][which_pass]):
        return
    expect_float_array(got, want.shape, f"{what}: {part}")
    expect_close(got, want, f"{what}: {part}")
    raise GradeFailure(f"{what}: {part} differs from torch's")


@pytest.mark.points(2)
def test_forward_through_random_networks(submission, credit):
    """Sequential.forward applies the layers in order (random networks, a batch of one included)"""
    def check(k, case):
        report, wants = _run(submission, case)
        _check(report, wants, f"case {k}", "out")

    run_cases(credit, NETWORK_CASES, check)


@pytest.mark.points(2)
def test_backward_through_random_networks(submission, credit):
    """Sequential.backward gives dx and every parameter gradient, last layer to first"""
    def check(k, case):
        report, wants = _run(submission, case)
        _check(report, wants, f"case {k}", "dx")
        _check(report, wants, f"case {k}", "grads")

    run_cases(credit, NETWORK_CASES, check)


@pytest.mark.points(1)
def test_parameters_are_the_layers_arrays_in_order(submission, credit):
    """parameters() lists each Linear's (W, dW) then (b, db), in layer order, as the arrays themselves"""
    def check(k, case):
        if case is None:  # activations only: no parameters
            bp = submission.backprop
            pairs = bp.Sequential(bp.Tanh(), bp.ReLU()).parameters()
            expect_true(type(pairs) is list and not pairs,
                        f"case {k}: parameters() of a network without Linear layers is not an empty list")
            return
        report, _ = _run(submission, case)
        expect_true(report["pairs_are_layer_arrays"],
                    f"case {k}: parameters() is not exactly [(W, dW), (b, db)] of each Linear layer in "
                    "order (the arrays themselves, not copies)")

    run_cases(credit, [*NETWORK_CASES, None], check)


@pytest.mark.points(1)
def test_gradients_of_a_second_pass(submission, credit):
    """after a second forward and backward, the pairs from one parameters() call hold the new gradients"""
    def check(k, case):
        report, wants = _run(submission, case, passes=2)
        _check(report, wants, f"case {k}: second pass", "grads", which_pass=1)

    run_cases(credit, NETWORK_CASES[:2], check)
