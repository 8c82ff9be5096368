"""Hidden graders of task 6: the Sequential container, driven with the course's stand-in layers.

The container is graded apart from the student's layers (a mistake in a layer is charged to that
layer's task only): the ``stand_in_network`` driver builds the student's ``Sequential`` of the
stand-in layers of ``assignments/backprop/drivers.py`` (an elementwise affine map, a layer that
appends squares, the softsign), and the grader computes the same network itself with torch autograd.
Gradients are read through the pairs of one ``parameters()`` call made before the first pass, as an
optimizer built once reads them. Whether those pairs are the layers' own arrays, in order, shows in
values: after the first pass the driver writes new parameters through the pairs, and the second
pass must match the grader's network with those parameters.
"""

from __future__ import annotations

import backprop_oracle as oracle
import pytest
from backprop_cases import STAND_IN_CASES, expect_float_array, rng, stand_in_params

from coursekit.checks import GradeFailure, expect_close, expect_true, run_cases

pytestmark = pytest.mark.task(6)


def _run(submission, case):
    """Two passes of the student's Sequential of stand-ins (new parameters written through the pairs
    in between), and the grader's ``(out, dx, grads)`` of each."""
    width, spec, N, seed = case
    params, out_width = stand_in_params(width, spec, seed)
    second, _ = stand_in_params(width, spec, seed + 50)
    g = rng(seed + 100)
    x = g.standard_normal((N, width))
    douts = [g.standard_normal((N, out_width)) for _ in range(2)]
    passes = submission.driver("stand_in_network", spec, params, x, douts,
                               [a for pair in second for a in pair])
    expect_true(type(passes) is list and len(passes) == 2 and all(type(p) is dict for p in passes),
                "the report from your code's process is malformed")
    wants = [oracle.stand_in_network(spec, params, x, douts[0]),
             oracle.stand_in_network(spec, second, x, douts[1])]
    return passes, wants


def _check(passes, wants, what, part, which_pass=0):
    """Sequential's ``part`` ("out", "dx" or "grads") of one pass against the grader's network."""
    want = wants[which_pass][{"out": 0, "dx": 1, "grads": 2}[part]]
    got = passes[which_pass].get(part)
    if part == "grads":
        expect_true(type(got) is list and len(got) == len(want),
                    f"{what}: parameters() lists the wrong number of (param, grad) pairs")
        for i, (g, w) in enumerate(zip(got, want), start=1):
            expect_float_array(g, w.shape, f"{what}: gradient {i} in parameters()")
            expect_close(g, w, f"{what}: gradient {i} in parameters()")
        return
    if got is None:
        raise GradeFailure(f"{what}: {part} is missing")
    expect_float_array(got, want.shape, f"{what}: {part}")
    expect_close(got, want, f"{what}: {part}")


@pytest.mark.points(2)
def test_forward_through_random_networks(submission, credit):
    """Sequential.forward applies the layers in order (random networks of stand-in layers, a batch of one included)"""
    def check(k, case):
        passes, wants = _run(submission, case)
        _check(passes, wants, f"case {k}", "out")

    run_cases(credit, STAND_IN_CASES, check)


@pytest.mark.points(2)
def test_backward_through_random_networks(submission, credit):
    """Sequential.backward gives dx and every parameter gradient, last layer to first"""
    def check(k, case):
        passes, wants = _run(submission, case)
        _check(passes, wants, f"case {k}", "dx")
        _check(passes, wants, f"case {k}", "grads")

    run_cases(credit, STAND_IN_CASES, check)


@pytest.mark.points(1)
def test_parameters_are_the_layers_arrays_in_order(submission, credit):
    """parameters() lists each layer's pairs in layer order, as the arrays themselves"""
    def check(k, case):
        if case is None:  # layers without parameters: none to list
            bp = submission.backprop
            pairs = bp.Sequential(submission.driver("stand_in", "Softsign"),
                                  submission.driver("stand_in", "Widen")).parameters()
            expect_true(type(pairs) is list and not pairs,
                        f"case {k}: parameters() of a network without parameters is not an empty list")
            return
        passes, wants = _run(submission, case)
        try:
            _check(passes, wants, f"case {k}", "out", which_pass=1)
        except GradeFailure:
            raise GradeFailure(f"case {k}: parameters written through the pairs of parameters() did "
                               "not change the layers as they should: the pairs must be each layer's "
                               "own (param, grad) arrays, in layer order, not copies") from None

    run_cases(credit, [*STAND_IN_CASES, None], check)


@pytest.mark.points(1)
def test_gradients_of_a_second_pass(submission, credit):
    """after a second forward and backward, the pairs from one parameters() call hold the new gradients"""
    def check(k, case):
        passes, wants = _run(submission, case)
        _check(passes, wants, f"case {k}: second pass", "grads", which_pass=1)

    run_cases(credit, STAND_IN_CASES[:2], check)
