"""Hidden graders of tasks 5 and 6: the student's CNN, built and trained in the worker.

torch's global generator is seeded in the worker before ``build_model()`` (the ``set_seed``
driver), so initialization is reproducible. The configured run of the handout,
``train(build_model(), X_train, y_train, epochs=20, seed=0)`` on the digits' training split, runs
once per grading (a module-scoped fixture); its logits on the held-out test split come back as data
through the ``model_logits`` driver (evaluation mode, no gradients) and the grader computes the
accuracy. Parameters are counted by the grader, from the state dict it receives; a network built
afresh under another seed must compute other logits (its outputs depend on its own weights) until it
loads only that state, and then the same ones, so a state dict or ``parameters()`` that leaves
something out, or weights kept outside the module, cannot pass. The trained network is checked the
same way before its accuracy counts.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cnn_cases import MODEL_SEED, TRAIN_RUN, rng

from coursekit.checks import GradeFailure, expect_array, expect_close, expect_true
from coursekit.data import load_digits_images
from coursekit.grading.client import ObjectProxy


def _build(submission):
    submission.driver("set_seed", MODEL_SEED, on="cnn")
    model = submission.cnn.build_model()
    expect_true(isinstance(model, ObjectProxy), "build_model must return a torch module (an nn.Module)")
    return model


def _logits(submission, model, X, what):
    logits = submission.driver("model_logits", model, torch.from_numpy(np.ascontiguousarray(X)), on="cnn")
    return expect_array(logits, what, shape=(len(X), 10), dtype_kind="f")


#: The seed of the fresh network that must reproduce a network from its state dict alone.
FRESH_SEED = 9001


def _counted_state(submission, model, X, logits, what: str) -> int:
    """The number of scalars in ``model``'s state dict, after proving that the state holds all the
    network's outputs depend on: a fresh network built under another seed must compute other logits
    on ``X`` (its outputs depend on its own weights) until it loads the state, and then ``logits``."""
    state = submission.driver("state_dict", model, on="cnn")
    expect_true(type(state) is dict and all(type(v) is torch.Tensor for v in state.values()),
                f"{what}: state_dict must map names to tensors")
    count = int(sum(v.numel() for v in state.values() if v.is_floating_point()))
    submission.driver("set_seed", FRESH_SEED, on="cnn")
    fresh = submission.cnn.build_model()
    before = _logits(submission, fresh, X, f"{what}: logits of a freshly built network")
    submission.driver("load_state_dict", fresh, state, on="cnn")
    again = _logits(submission, fresh, X, f"{what}: logits of a fresh network given its state dict")
    expect_true(not np.allclose(before, logits),
                f"{what}: a freshly built network under another seed computes the same logits: the "
                "outputs must come from the network's own weights (nothing kept outside the module)")
    try:
        expect_close(again, logits, f"{what}: logits of a fresh network given its state dict")
    except GradeFailure:
        raise GradeFailure(f"{what}: a fresh network given only the state dict does not compute the same "
                           "logits: the state dict must hold every parameter and buffer the network "
                           "uses (no weights kept outside the module)") from None
    return count


# --- Task 5: build_model --------------------------------------------------------------------


@pytest.mark.task(5)
@pytest.mark.points(2)
def test_model_batch_sizes(submission):
    """build_model's network maps batches of 1, 7 and 64 images to (N, 10) logits"""
    model = _build(submission)
    g = rng(501)
    for n in (1, 7, 64):
        X = g.random((n, 1, 8, 8)).astype(np.float32)
        _logits(submission, model, X, f"logits for a batch of {n}")


@pytest.mark.task(5)
@pytest.mark.points(2)
def test_model_has_a_convolution(submission):
    """build_model's network has a convolution (a trainable 4-D kernel)"""
    shapes = submission.driver("parameter_shapes", _build(submission), on="cnn")
    expect_true(any(len(s) == 4 for s in shapes),
                "the network has no convolution: no trainable parameter is a 4-D kernel (use nn.Conv2d)")


@pytest.mark.task(5)
@pytest.mark.points(3)
def test_model_parameter_budget(submission, week):
    """build_model's network has at most the handout's number of parameters, counted by the grader"""
    budget = int(week.thresholds["max_parameters"])
    X = rng(502).random((16, 1, 8, 8)).astype(np.float32)
    model = _build(submission)
    logits = _logits(submission, model, X, "logits of 16 images")
    count = _counted_state(submission, model, X, logits, "build_model's network")
    expect_true(count <= budget, f"the network has {count} parameters; the budget is {budget}")


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_model_logits_depend_on_the_image(submission):
    """build_model's logits are finite and differ between different digits"""
    X, _ = load_digits_images("val")
    logits = _logits(submission, _build(submission), X[:20], "logits of 20 digits")
    expect_true(bool(np.all(np.isfinite(logits))), "the logits contain NaN or infinity")
    expect_true(bool(np.ptp(logits, axis=0).max() > 0), "the logits are the same for every image")


# --- Task 6: train --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(submission):
    """The configured training run, once: whether the returned model was left in training mode, and
    its logits on the test split (the ``model_logits`` driver switches it to evaluation mode)."""
    X, y = load_digits_images("train")
    model = _build(submission)
    result = submission.cnn.train(model, torch.from_numpy(X), torch.from_numpy(y), **TRAIN_RUN)
    expect_true(isinstance(result, ObjectProxy), "train must return the trained model (an nn.Module)")
    left_training = result.training
    X_test, _ = load_digits_images("test")
    logits = _logits(submission, result, X_test, "logits on the test split")
    try:
        _counted_state(submission, result, X_test, logits, "the trained network")
        problem = None
    except GradeFailure as failure:
        problem = failure.summary
    return {"training": left_training, "logits": logits, "state_problem": problem}


def _accuracy(trained) -> float:
    """Held-out accuracy of the trained network's logits, which must come from its state alone."""
    expect_true(trained["state_problem"] is None, str(trained["state_problem"]))
    _, y_test = load_digits_images("test")
    return float(np.mean(np.argmax(trained["logits"], axis=1) == y_test))


@pytest.mark.task(6)
@pytest.mark.builds_on(5)
@pytest.mark.points(10)
def test_trained_cnn_reaches_the_target(trained, week):
    """after train(epochs=20, seed=0), the CNN reaches the handout's held-out accuracy"""
    threshold = week.thresholds["digits_test_accuracy"]
    accuracy = _accuracy(trained)
    expect_true(accuracy >= threshold,
                f"held-out accuracy {accuracy:.3f} is below the required {threshold:.2f}")


@pytest.mark.task(6)
@pytest.mark.builds_on(5)
@pytest.mark.points(6)
def test_trained_cnn_learns(trained, week):
    """after train(epochs=20, seed=0), the CNN reaches the handout's partial-credit accuracy"""
    threshold = week.thresholds["digits_partial_accuracy"]
    accuracy = _accuracy(trained)
    expect_true(accuracy >= threshold,
                f"held-out accuracy {accuracy:.3f} is below even the partial-credit {threshold:.2f}")


@pytest.mark.task(6)
@pytest.mark.builds_on(5)
@pytest.mark.points(1)
def test_trained_cnn_logits_are_finite(trained):
    """the trained CNN's logits on the test split are finite"""
    expect_true(bool(np.all(np.isfinite(trained["logits"]))),
                "the trained model's logits contain NaN or infinity")


@pytest.mark.task(6)
@pytest.mark.builds_on(5)
@pytest.mark.points(1)
def test_trained_cnn_is_in_evaluation_mode(trained):
    """train leaves the model in evaluation mode (model.eval())"""
    expect_true(trained["training"] is False,
                "the returned model is still in training mode; call model.eval() before returning it")
