"""Public tests of Week 2 (``backprop.py``): wiring, shapes, dtypes and small examples by hand.

Run them with ``make test`` (all tasks) or ``make test TASK=3`` (one task). They are about a third of
the checks: passing them means your code is wired correctly, not that it is correct. The hidden
graders compare every forward and backward pass with PyTorch's autograd on random shapes, step your
optimizers next to ``torch.optim``, and train on the digits and on two spirals.

Your code runs in a separate process: arguments reach it as copies and results come back as plain
numpy arrays and Python values. What happens in place there (gradients written into a layer's
arrays, an optimizer stepping parameter arrays, a gradient checker given a Python function) is run
inside that process by the course's public drivers in ``drivers.py``, which also holds the stand-in
layers that task 6's tests build your ``Sequential`` from.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from coursekit.checks import (expect_array, expect_close, expect_equal, expect_object, expect_true, expect_type,
                             failing, upstream)
from coursekit.tolerances import CENTRAL_DIFFERENCE

# --- Task 1: initialization -----------------------------------------------------------------


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_initializer_shapes_and_dtypes(submission):
    """xavier_uniform and he_normal return float64 arrays of shape (fan_in, fan_out)"""
    for name, fan_in, fan_out in [("xavier_uniform", 3, 5), ("he_normal", 4, 2)]:
        # the driver calls name(fan_in, fan_out, rng=np.random.default_rng(0)) in your code's process
        W = submission.driver("call_with_rng", name, 0, fan_in, fan_out)
        expect_array(W, f"{name}({fan_in}, {fan_out}, rng)", shape=(fan_in, fan_out), dtype_kind="f")
        expect_true(W.dtype == np.float64, f"{name} must return float64", f"got dtype {W.dtype}")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_initializer_scales(submission):
    """xavier_uniform stays within ±sqrt(6 / (fan_in + fan_out)); he_normal has variance about 2 / fan_in"""
    W = expect_array(submission.driver("call_with_rng", "xavier_uniform", 1, 30, 20), "xavier_uniform(30, 20)",
                     shape=(30, 20), dtype_kind="f")
    bound = math.sqrt(6.0 / 50)
    expect_true(bool(np.all(np.abs(W) <= bound)), "xavier_uniform(30, 20) has weights outside ±sqrt(6/50)",
                f"largest |w| = {np.abs(W).max():.4f}, bound {bound:.4f}")
    W = expect_array(submission.driver("call_with_rng", "he_normal", 2, 1000, 50), "he_normal(1000, 50)",
                     shape=(1000, 50), dtype_kind="f")
    expect_true(abs(W.var() / (2.0 / 1000) - 1.0) < 0.1, "he_normal(1000, 50) does not have variance 2/1000",
                f"variance {W.var():.6f}, expected about {2.0 / 1000:.6f}")


# --- Task 2: Linear -------------------------------------------------------------------------

W_SMALL = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])  # (in=2, out=3)
B_SMALL = np.array([0.5, 0.0, -1.0])
X_SMALL = np.array([[1.0, 1.0], [2.0, -1.0]])  # (N=2, in=2)
DOUT_SMALL = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, -1.0]])  # (N=2, out=3)


def _small_linear(submission):
    layer = submission.backprop.Linear(2, 3)
    layer.W, layer.b = W_SMALL, B_SMALL
    return layer


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_linear_forward_small_example(submission):
    """Linear.forward computes x W + b on a small batch"""
    out = _small_linear(submission).forward(X_SMALL)
    expect_array(out, "forward(x)", shape=(2, 3), dtype_kind="f")
    expect_close(out, np.array([[1.5, 1.0, 2.0], [2.5, 5.0, -4.0]]), "forward(x)")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_linear_backward_small_example(submission):
    """Linear.backward returns dx = dout W^T and writes dW = x^T dout and db = dout summed over the batch"""
    layer = _small_linear(submission)
    layer.forward(X_SMALL)
    dx = layer.backward(DOUT_SMALL)
    expect_array(dx, "backward(dout)", shape=(2, 2), dtype_kind="f")
    expect_close(dx, np.array([[1.0, 3.0], [4.0, -5.0]]), "dx")
    expect_close(layer.dW, np.array([[1.0, 4.0, -1.0], [1.0, -2.0, 2.0]]), "dW")
    expect_close(layer.db, np.array([1.0, 2.0, 0.0]), "db (a sum over the batch, not a mean)")


@pytest.mark.task(2)
@pytest.mark.points(1)
def test_linear_gradients_in_place(submission):
    """backward writes into the layer's own dW and db arrays, overwriting them on every call"""
    report = submission.driver("gradients_in_place", _small_linear(submission), X_SMALL,
                               [DOUT_SMALL, DOUT_SMALL])
    expect_true(report["same_arrays"], "backward must write into self.dW and self.db in place "
                "(self.dW[...] = ...), not replace them with new arrays")
    (dW1, db1), (dW2, db2) = report["grads"]
    expect_true(bool(np.any(dW1 != 0)) and bool(np.any(db1 != 0)),
                "backward left dW and db at zero: compute the gradients into them")
    expect_close(dW2, dW1, "dW after a second identical backward (overwritten, not accumulated)")
    expect_close(db2, db1, "db after a second identical backward (overwritten, not accumulated)")


# --- Task 3: activations --------------------------------------------------------------------


def _forward_backward(layer, x, dout):
    return layer.forward(x), layer.backward(dout)


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_relu_small_example(submission):
    """ReLU passes positive inputs and their gradients, and zeroes the rest (gradient 0 at exactly 0)"""
    x = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.0]])
    out, dx = _forward_backward(submission.backprop.ReLU(), x, np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]))
    expect_close(out, np.array([[0.0, 0.0, 2.0], [3.0, 0.0, 0.0]]), "ReLU.forward")
    expect_close(dx, np.array([[0.0, 0.0, 3.0], [1.0, 0.0, 0.0]]), "ReLU.backward")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_sigmoid_small_example(submission):
    """Sigmoid at 0 and ±log 3 gives 1/2, 3/4, 1/4, with gradient y (1 - y)"""
    x = np.array([0.0, math.log(3.0), -math.log(3.0)])
    out, dx = _forward_backward(submission.backprop.Sigmoid(), x, np.array([1.0, 1.0, 2.0]))
    expect_close(out, np.array([0.5, 0.75, 0.25]), "Sigmoid.forward")
    expect_close(dx, np.array([0.25, 0.1875, 0.375]), "Sigmoid.backward")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_tanh_small_example(submission):
    """Tanh at 0 and atanh(1/2) gives 0 and 1/2, with gradient 1 - y^2"""
    x = np.array([[0.0, math.atanh(0.5)]])
    out, dx = _forward_backward(submission.backprop.Tanh(), x, np.array([[2.0, 1.0]]))
    expect_close(out, np.array([[0.0, 0.5]]), "Tanh.forward")
    expect_close(dx, np.array([[2.0, 0.75]]), "Tanh.backward")


# --- Task 4: MSELoss ------------------------------------------------------------------------

PRED = np.array([[1.0, 2.0], [3.0, 4.0]])
TARGET = np.array([[1.0, 0.0], [0.0, 4.0]])  # differences (0, 2, 3, 0)


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_mse_small_example(submission):
    """MSELoss.forward returns the mean of the squared differences over all elements, as a float"""
    value = submission.backprop.MSELoss().forward(PRED, TARGET)
    expect_type(value, (float, np.float64), "MSELoss.forward's result")
    expect_close(value, 3.25, "MSELoss.forward")


@pytest.mark.task(4)
@pytest.mark.points(1)
def test_mse_gradient_small_example(submission):
    """MSELoss.backward returns 2 (pred - target) / M, M the number of elements"""
    loss = submission.backprop.MSELoss()
    loss.forward(PRED, TARGET)
    expect_close(loss.backward(), np.array([[0.0, 1.0], [1.5, 0.0]]), "MSELoss.backward")


# --- Task 5: SoftmaxCrossEntropy ------------------------------------------------------------


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_cross_entropy_of_equal_logits(submission):
    """with equal logits the loss is log C and the gradient (1/C - onehot) / N"""
    loss = submission.backprop.SoftmaxCrossEntropy()
    value = loss.forward(np.zeros((2, 3)), np.array([0, 2]))
    expect_close(value, math.log(3.0), "the loss of zero logits")
    expect_close(loss.backward(), np.array([[-1.0, 0.5, 0.5], [0.5, 0.5, -1.0]]) / 3.0, "the gradient")


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_cross_entropy_small_example(submission):
    """logits (0, log 3) give probabilities (1/4, 3/4): loss log(4/3) for label 1, gradient (1/4, -1/4)"""
    loss = submission.backprop.SoftmaxCrossEntropy()
    value = loss.forward(np.array([[0.0, math.log(3.0)]]), np.array([1]))
    expect_close(value, math.log(4.0 / 3.0), "the loss")
    expect_close(loss.backward(), np.array([[0.25, -0.25]]), "the gradient")


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_cross_entropy_types_and_large_logits(submission):
    """forward returns a float, backward an (N, C) array; both stay finite at logits of ±1000"""
    loss = submission.backprop.SoftmaxCrossEntropy()
    value = loss.forward(np.array([[1000.0, -1000.0, 0.0], [0.0, 0.0, 1000.0]]), np.array([0, 1]))
    expect_type(value, (float, np.float64), "SoftmaxCrossEntropy.forward's result")
    expect_true(math.isfinite(value), "the loss at logits of ±1000 is not finite", f"got {value}")
    expect_close(value, 500.0, "the loss (the second sample's is 1000: log-sum-exp 1000 minus logit 0)")
    grad = expect_array(loss.backward(), "backward()", shape=(2, 3), dtype_kind="f")
    expect_true(bool(np.all(np.isfinite(grad))), "the gradient at logits of ±1000 is not finite")


# --- Task 6: Sequential ---------------------------------------------------------------------
# The container is tested with the course's stand-in layers (drivers.py: StandInScale, StandInWiden,
# StandInSoftsign), not with your layers, so that a mistake in a layer costs only the layer's task.


def _stand_in_scale(submission, gain, shift):
    """The stand-in y = x * gain + shift (per feature), built in your code's process."""
    return submission.driver("stand_in", "Scale", np.array(gain), np.array(shift))


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_sequential_small_example(submission):
    """Sequential runs Scale, Widen, Scale in order forward, and back in reverse order"""
    first = _stand_in_scale(submission, [2.0, 1.0], [0.0, -1.0])
    second = _stand_in_scale(submission, [1.0, -1.0, 0.5, 2.0], [0.0, 0.0, 0.0, 1.0])
    model = submission.backprop.Sequential(first, submission.driver("stand_in", "Widen"), second)
    # first: (2, 1), (-2, -1); widened with the squares: (2, 1, 4, 1), (-2, -1, 4, 1)
    out = model.forward(np.array([[1.0, 2.0], [-1.0, 0.0]]))
    expect_close(out, np.array([[2.0, -1.0, 2.0, 3.0], [-2.0, 1.0, 2.0, 3.0]]), "Sequential.forward")
    dx = model.backward(np.ones((2, 4)))  # (1, -1, 0.5, 2) per row, then d + 2 h d², then times (2, 1)
    expect_close(dx, np.array([[6.0, 3.0], [-2.0, -5.0]]), "Sequential.backward")


@pytest.mark.task(6)
@pytest.mark.points(1)
def test_sequential_parameters_order(submission):
    """parameters() lists every layer's (param, grad) pairs in layer order"""
    gains, shifts = [np.array([1.0, 2.0, 3.0]), np.arange(6.0)], [np.array([-1.0, -2.0, -3.0]), -np.arange(6.0)]
    model = submission.backprop.Sequential(_stand_in_scale(submission, gains[0], shifts[0]),
                                           submission.driver("stand_in", "Widen"),
                                           _stand_in_scale(submission, gains[1], shifts[1]))
    pairs = model.parameters()
    expect_true(type(pairs) is list and len(pairs) == 4, "parameters() must return a list of 4 pairs here",
                f"got {type(pairs).__name__} of length {len(pairs) if hasattr(pairs, '__len__') else '?'}")
    for i, (pair, want) in enumerate(zip(pairs, [gains[0], shifts[0], gains[1], shifts[1]]), start=1):
        expect_true(type(pair) in (list, tuple) and len(pair) == 2, f"entry {i} of parameters() is not a pair")
        expect_close(pair[0], want, f"the parameter of pair {i} (each Scale gives (gain, dgain) then (shift, dshift))")


# --- Task 7: SGD ----------------------------------------------------------------------------


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_sgd_one_plain_step(submission):
    """one SGD step moves each parameter array by -lr times its gradient, in place"""
    got = submission.driver("optimizer_trajectory", "SGD", [np.array([1.0, -2.0, 3.0])],
                            [[np.array([2.0, 0.0, -4.0])]], lr=0.5)
    expect_close(got[0][0], np.array([0.0, -2.0, 5.0]), "parameters after one step")


@pytest.mark.task(7)
@pytest.mark.points(1)
def test_sgd_two_momentum_steps(submission):
    """SGD with momentum 0.9: the velocity adds up the gradients (v = 0.9 v + g, p -= lr v)"""
    params = [np.array([1.0]), np.array([0.0, 0.0])]
    grads = [[np.array([1.0]), np.array([2.0, -1.0])], [np.array([1.0]), np.array([0.0, 0.0])]]
    got = submission.driver("optimizer_trajectory", "SGD", params, grads, lr=0.1, momentum=0.9)
    expect_close(got[0][0], np.array([0.9]), "first parameter after step 1")
    expect_close(got[1][0], np.array([0.71]), "first parameter after step 2 (velocity 1.9)")
    expect_close(got[1][1], np.array([-0.38, 0.19]), "second parameter after step 2 (zero gradient)")


# --- Task 8: Adam ---------------------------------------------------------------------------


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_adam_first_step(submission):
    """Adam's first step is lr * g / (|g| + eps) after bias correction: about lr in every entry"""
    p, g = np.array([1.0, -1.0, 0.5]), np.array([3.0, -0.2, 1e-3])
    got = submission.driver("optimizer_trajectory", "Adam", [p], [[g]], lr=0.01)
    expect_close(got[0][0], p - 0.01 * g / (np.abs(g) + 1e-8), "parameters after one step")


@pytest.mark.task(8)
@pytest.mark.points(1)
def test_adam_defaults(submission):
    """Adam's defaults are lr=1e-3, betas=(0.9, 0.999), eps=1e-8: two steps with the same gradient"""
    p, g = np.array([0.5, 2.0]), np.array([-4.0, 1.0])
    got = submission.driver("optimizer_trajectory", "Adam", [p], [[g], [g]])
    # with a constant gradient both bias-corrected moments are exact: each step is lr * g / (|g| + eps)
    step = 1e-3 * g / (np.abs(g) + 1e-8)
    expect_close(got[0][0], p - step, "parameters after step 1")
    expect_close(got[1][0], p - 2 * step, "parameters after step 2")


# --- Task 9: gradient checking --------------------------------------------------------------


@pytest.mark.task(9)
@pytest.mark.points(1)
def test_numerical_gradient_of_a_quadratic(submission):
    """central differences are exact for sum(x**2): the gradient 2x even with eps = 1e-3"""
    x = np.array([1.0, -2.0, 0.5])
    report = submission.driver("numerical_gradient_of", "sum_of_squares", x, eps=1e-3)
    grad = expect_array(report["grad"], "numerical_gradient", shape=(3,), dtype_kind="f")
    expect_close(grad, 2.0 * x, "numerical_gradient of sum(x**2) with eps=1e-3 (central, not one-sided)",
                 tolerance=CENTRAL_DIFFERENCE)


@pytest.mark.task(9)
@pytest.mark.points(1)
def test_numerical_gradient_restores_x(submission):
    """numerical_gradient works on a 2-D x and leaves it exactly as it was"""
    x = np.array([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]])
    report = submission.driver("numerical_gradient_of", "sin_cos", x)  # sum(sin(x) cos(2x)), default eps
    expect_array(report["grad"], "numerical_gradient", shape=(2, 3), dtype_kind="f")
    expect_equal(report["x_after"], x, "x after numerical_gradient")


@pytest.mark.task(9)
@pytest.mark.points(1)
def test_relative_error_small_example(submission):
    """relative_error takes the largest |a - b| / max(|a| + |b|, 1e-8) over the entries"""
    got = submission.backprop.relative_error(np.array([1.0, 2.0, 0.0]), np.array([1.1, 2.0, 0.0]))
    expect_type(got, (float, np.float64), "relative_error's result")
    expect_close(got, 0.1 / 2.1, "relative_error([1, 2, 0], [1.1, 2, 0])")


# --- Task 10: train_mlp ---------------------------------------------------------------------


def _training_upstream(submission) -> list[str]:
    """The public tests of the tasks train_mlp builds on that fail (named in its feedback)."""
    return failing([
        ("Task 2 (Linear layer)", lambda: (test_linear_forward_small_example(submission),
                                           test_linear_backward_small_example(submission))),
        ("Task 3 (Activations): ReLU", lambda: test_relu_small_example(submission)),
        ("Task 5 (Softmax cross-entropy)", lambda: test_cross_entropy_small_example(submission)),
        ("Task 6 (Sequential container)", lambda: (test_sequential_small_example(submission),
                                                   test_sequential_parameters_order(submission))),
        ("Task 7 (SGD with momentum and weight decay)", lambda: test_sgd_two_momentum_steps(submission)),
    ])


@pytest.mark.task(10)
@pytest.mark.points(1)
def test_train_mlp_on_two_blobs(submission):
    """train_mlp returns a model whose forward gives (n, C) logits; it separates two distant blobs"""
    # Training runs your layers, loss, container and optimizer: when it fails, the feedback also
    # names those whose own public tests fail.
    with upstream(lambda: _training_upstream(submission)):
        g = np.random.default_rng(3)
        y = np.arange(60) % 2
        X = np.where(y[:, None] == 1, 2.0, -2.0) + g.standard_normal((60, 2))
        model = submission.backprop.train_mlp(X, y, hidden=(8,), epochs=20, lr=0.1, seed=0)
        expect_object(model, "what train_mlp returns")
        logits = expect_array(model.forward(X), "model.forward(X)", shape=(60, 2), dtype_kind="f")
        accuracy = float(np.mean(np.argmax(logits, axis=1) == y))
        expect_true(accuracy >= 0.9, "the trained model misclassifies more than a tenth of its training data",
                    f"training accuracy {accuracy:.3f}")
