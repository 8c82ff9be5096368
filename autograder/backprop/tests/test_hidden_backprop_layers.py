"""Hidden graders of tasks 2 and 3: the Linear layer and the activations against torch autograd.

Every forward and backward pass runs on random shapes, a batch of one included, and is compared in
float64 with PyTorch's own operators differentiated by autograd (``backprop_oracle``). Whether
``backward`` writes into the same gradient arrays every time is observed in the worker by the
``gradients_in_place`` driver.
"""

from __future__ import annotations

import backprop_oracle as oracle
import numpy as np
import pytest
from backprop_cases import (ACTIVATION_CASES, LINEAR_CASES, check_linear_parameters, expect_float_array, rng,
                            run_layer)
from coursekit.checks import run_cases

from coursekit.checks import expect_close, expect_true

# --- Task 2: Linear -------------------------------------------------------------------------


def _linear_case(case):
    N, n_in, n_out, seed = case
    g = rng(seed)
    W, b = g.standard_normal((n_in, n_out)), g.standard_normal(n_out)
    return W, b, g.standard_normal((N, n_in)), g.standard_normal((N, n_out))


def _check_linear(submission, case, what, parts):
    W, b, x, dout = _linear_case(case)
    got = run_layer(submission.backprop, "Linear", x, dout, W, b)
    want = dict(zip(["out", "dx", "dW", "db"], oracle.linear(W, b, x, dout)))
    for part in parts:
        expect_float_array(got[part], want[part].shape, f"{what}: {part}")
        expect_close(got[part], want[part], f"{what}: {part}")


@pytest.mark.task(2)
@pytest.mark.points(2)
def test_linear_forward(submission, credit):
    """Linear.forward computes x W + b (against torch on random shapes)"""
    run_cases(credit, LINEAR_CASES, lambda k, case: _check_linear(submission, case, f"case {k}", ["out"]))


@pytest.mark.task(2)
@pytest.mark.points(2)
def test_linear_backward_input_gradient(submission, credit):
    """Linear.backward returns dx = dout W^T (against torch autograd)"""
    run_cases(credit, LINEAR_CASES, lambda k, case: _check_linear(submission, case, f"case {k}", ["dx"]))


@pytest.mark.task(2)
@pytest.mark.points(2)
def test_linear_weight_gradient(submission, credit):
    """Linear.backward writes dW = x^T dout (against torch autograd)"""
    run_cases(credit, LINEAR_CASES, lambda k, case: _check_linear(submission, case, f"case {k}", ["dW"]))


@pytest.mark.task(2)
@pytest.mark.points(2)
def test_linear_bias_gradient(submission, credit):
    """Linear.backward writes db, the sum of dout over the batch (against torch autograd)"""
    run_cases(credit, LINEAR_CASES, lambda k, case: _check_linear(submission, case, f"case {k}", ["db"]))


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_linear_batch_of_one(submission):
    """Linear's forward and backward keep their shapes for a batch of a single sample"""
    _check_linear(submission, (1, 7, 3, 211), "a batch of one", ["out", "dx", "dW", "db"])


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_linear_gradients_overwrite_the_same_arrays(submission, credit):
    """Linear.backward overwrites the same dW and db arrays on every call, never accumulating"""
    def check(k, case):
        W, b, x, dout = _linear_case(case)
        layer = submission.backprop.Linear(*W.shape)
        layer.W, layer.b = W, b
        # Gradients are linear in dout: after a pass with 2·dout they must be exactly twice those
        # of the pass with dout (accumulating gives three times).
        report = submission.driver("gradients_in_place", layer, x, [dout, 2.0 * dout])
        expect_true(report["same_arrays"],
                    f"case {k}: backward replaced the arrays dW or db; write into them in place "
                    "(self.dW[...] = ...)")
        (dW1, db1), (dW2, db2) = report["grads"]
        expect_true(bool(np.any(dW1)) and bool(np.any(db1)),
                    f"case {k}: the arrays dW and db the layer started with were never written")
        expect_close(dW2, 2.0 * dW1, f"case {k}: dW after a second backward (overwritten, not added)")
        expect_close(db2, 2.0 * db1, f"case {k}: db after a second backward (overwritten, not added)")

    run_cases(credit, [LINEAR_CASES[0], LINEAR_CASES[2]], check)


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_linear_parameters_are_its_own_arrays(submission):
    """Linear.parameters() returns [(W, dW), (b, db)], the layer's own arrays (as the stencil gives it)"""
    check_linear_parameters(submission, "Linear.parameters()")


# --- Task 3: activations --------------------------------------------------------------------


def _check_activation(submission, kind, x, dout, what):
    got = run_layer(submission.backprop, kind, x, dout)
    out_want, dx_want = oracle.activation(kind, x, dout)
    expect_float_array(got["out"], x.shape, f"{what}: {kind}.forward")
    expect_close(got["out"], out_want, f"{what}: {kind}.forward")
    expect_float_array(got["dx"], x.shape, f"{what}: {kind}.backward")
    expect_close(got["dx"], dx_want, f"{what}: {kind}.backward")


def _random_activation_case(case, scale):
    shape, seed = case
    g = rng(seed)
    return scale * g.standard_normal(shape), g.standard_normal(shape)


@pytest.mark.task(3)
@pytest.mark.points(2)
def test_relu_against_autograd(submission, credit):
    """ReLU's forward and backward match torch.relu with autograd on random shapes"""
    run_cases(credit, ACTIVATION_CASES, lambda k, case: _check_activation(
        submission, "ReLU", *_random_activation_case(case, 3.0), f"case {k}"))


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_relu_gradient_at_zero(submission):
    """ReLU's gradient is 0 where the input is exactly 0, as in PyTorch"""
    g = rng(311)
    x = g.integers(-2, 3, size=(6, 5)).astype(np.float64)
    x.flat[::4] = 0.0  # at least 8 exact zeros among positive and negative inputs
    _check_activation(submission, "ReLU", x, g.standard_normal((6, 5)), "inputs with exact zeros")


@pytest.mark.task(3)
@pytest.mark.points(2)
def test_sigmoid_against_autograd(submission, credit):
    """Sigmoid's forward and backward match torch.sigmoid with autograd on random shapes"""
    run_cases(credit, ACTIVATION_CASES, lambda k, case: _check_activation(
        submission, "Sigmoid", *_random_activation_case(case, 4.0), f"case {k}"))


@pytest.mark.task(3)
@pytest.mark.points(2)
def test_tanh_against_autograd(submission, credit):
    """Tanh's forward and backward match torch.tanh with autograd on random shapes"""
    run_cases(credit, ACTIVATION_CASES, lambda k, case: _check_activation(
        submission, "Tanh", *_random_activation_case(case, 2.0), f"case {k}"))
