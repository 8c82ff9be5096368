"""Public tests of Week 3 (``conv.py`` and ``cnn.py``): wiring, shapes, dtypes and small examples by hand.

Run them with ``make test`` (all tasks) or ``make test TASK=3`` (one task). They are about a third of
the checks: passing them means your functions are wired correctly, not that they are correct. The
hidden graders compare your convolution and pooling, and all their gradients, with PyTorch's on
random shapes, strides and paddings, time your convolution, and train your CNN on the digits.

Your code runs in a separate process: arguments reach it as copies and results come back as plain
numpy arrays, tensors and Python values; your torch model stays there and is reached through a
handle. The course's public drivers (``model_logits``, ``parameter_count``) run beside your code and
return data; timings are taken by the test itself (``submission.timed``), never by your process.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit.checks import expect_array, expect_close, expect_equal, expect_object, expect_true, expect_type


def _results(got, count: int, what: str) -> tuple:
    """``got`` must be a tuple of ``count`` values (what ``what`` returns)."""
    expect_true(type(got) is tuple and len(got) == count,
                f"{what} must return a tuple of {count} values", f"got {got!r:.200}")
    return got


def _conv(submission, x, w, b, stride=1, pad=0):
    out, cache = _results(submission.conv.conv2d_forward(x, w, b, stride=stride, pad=pad), 2,
                          "conv2d_forward")
    expect_type(cache, (tuple,), "conv2d_forward's cache")
    return out, cache


# x[0, 0] = [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and one 2x2 kernel [[1, 2], [0, -1]] with bias 0.5:
# out[i, j] = x[i, j] + 2 x[i, j+1] - x[i+1, j+1] + 0.5 = 6i + 2j - 1.5.
SMALL_X = np.arange(9.0).reshape(1, 1, 3, 3)
SMALL_W = np.array([[1.0, 2.0], [0.0, -1.0]]).reshape(1, 1, 2, 2)
SMALL_B = np.array([0.5])

# --- Task 1: conv2d_forward -----------------------------------------------------------------


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_conv_forward_shapes_and_cache(submission):
    """conv2d_forward returns (out, cache): float64 out of shape (N, F, OH, OW) and a tuple"""
    g = np.random.default_rng(1)
    x, w, b = g.standard_normal((2, 3, 5, 6)), g.standard_normal((4, 3, 3, 2)), g.standard_normal(4)
    out, _ = _conv(submission, x, w, b)
    expect_array(out, "conv2d_forward's output", shape=(2, 4, 3, 5), dtype_kind="f")
    expect_true(out.dtype == np.float64, "the output must be float64 for float64 inputs",
                f"got dtype {out.dtype}")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_conv_forward_small_example(submission):
    """conv2d_forward cross-correlates (no kernel flip) and adds the bias: a 3x3 image, a 2x2 kernel"""
    out, _ = _conv(submission, SMALL_X, SMALL_W, SMALL_B)
    expect_close(out, np.array([[[[-1.5, 0.5], [4.5, 6.5]]]]), "conv2d_forward on the small example")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_conv_forward_stride_and_padding_example(submission):
    """conv2d_forward with stride 2 and padding 1: sums of 3x3 neighbourhoods, zeros outside the image"""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, _ = _conv(submission, x, np.ones((1, 1, 3, 3)), np.zeros(1), stride=2, pad=1)
    expect_close(out, np.array([[[[10.0, 24.0], [51.0, 90.0]]]]), "3x3 sums with stride 2, padding 1")


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_conv_forward_output_sizes(submission):
    """conv2d_forward's output size is (H + 2 ph - KH) // sh + 1 by (W + 2 pw - KW) // sw + 1"""
    cases = [  # (H, W, KH, KW, stride, pad) -> (OH, OW)
        ((7, 7, 3, 3, 2, 1), (4, 4)),
        ((6, 9, 2, 4, 1, 0), (5, 6)),
        ((8, 5, 3, 1, 3, 2), (4, 3)),
        ((9, 7, 3, 2, (2, 1), (1, 0)), (5, 6)),
        ((5, 10, 2, 3, (1, 3), (0, 2)), (4, 4)),
    ]
    g = np.random.default_rng(2)
    for (H, W, KH, KW, stride, pad), (OH, OW) in cases:
        x, w, b = g.standard_normal((1, 2, H, W)), g.standard_normal((3, 2, KH, KW)), g.standard_normal(3)
        out, _ = _conv(submission, x, w, b, stride=stride, pad=pad)
        expect_array(out, f"output for H, W = {H}, {W}, kernel {KH}x{KW}, stride {stride}, pad {pad}",
                     shape=(1, 3, OH, OW))


@pytest.mark.task(1)
@pytest.mark.points(1)
def test_conv_forward_speed(submission, week):
    """conv2d_forward is vectorized: within the handout's time ratio to torch's conv2d"""
    import time

    import torch.nn.functional as F

    bound = week.thresholds["conv_speed_ratio"]
    g = np.random.default_rng(3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # torch on one thread, as your numpy code runs
    yours, theirs = [], []
    try:
        for _ in range(3):  # fresh arrays every round; the best time of each side counts
            x, w, b = g.standard_normal((16, 8, 24, 24)), g.standard_normal((16, 8, 3, 3)), g.standard_normal(16)
            got, seconds = submission.timed(submission.conv.conv2d_forward, x, w, b, stride=1, pad=1)
            out, _ = _results(got, 2, "conv2d_forward")
            want = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), 1, 1).numpy()
            expect_close(out, want, "the timed conv2d_forward's output (only a correct convolution is timed)")
            yours.append(seconds)
            for _ in range(10):
                start = time.thread_time()
                F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), 1, 1)
                theirs.append(time.thread_time() - start)
    finally:
        torch.set_num_threads(threads)
    ratio = min(yours) / min(theirs)
    expect_true(ratio <= bound, f"conv2d_forward took {ratio:.0f} times as long as torch's conv2d; "
                f"the bound is {bound:g}: replace loops over images, filters or pixels by array operations",
                f"yours {min(yours) * 1e3:.3f} ms, torch {min(theirs) * 1e3:.3f} ms")


# --- Task 2: conv2d_backward ----------------------------------------------------------------


@pytest.mark.task(2)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_conv_backward_shapes(submission):
    """conv2d_backward returns (dx, dw, db) with the shapes of x, w and b, float64"""
    g = np.random.default_rng(4)
    x, w, b = g.standard_normal((2, 3, 5, 6)), g.standard_normal((4, 3, 3, 2)), g.standard_normal(4)
    _, cache = _conv(submission, x, w, b, stride=2, pad=1)
    got = _results(submission.conv.conv2d_backward(g.standard_normal((2, 4, 3, 4)), cache), 3,
                   "conv2d_backward")
    for name, value, shape in zip(("dx", "dw", "db"), got, (x.shape, w.shape, b.shape)):
        expect_array(value, name, shape=shape, dtype_kind="f")
        expect_true(value.dtype == np.float64, f"{name} must be float64", f"got dtype {value.dtype}")


@pytest.mark.task(2)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_conv_backward_small_example(submission):
    """conv2d_backward on the small example with dout = 1: dx, dw and db by hand"""
    _, cache = _conv(submission, SMALL_X, SMALL_W, SMALL_B)
    dx, dw, db = _results(submission.conv.conv2d_backward(np.ones((1, 1, 2, 2)), cache), 3, "conv2d_backward")
    # dw[p, q] sums the inputs the kernel entry (p, q) touched; dx[r, s] sums the kernel entries
    # that touched pixel (r, s); db sums dout.
    expect_close(dx, np.array([[[[1.0, 3.0, 2.0], [1.0, 2.0, 1.0], [0.0, -1.0, -1.0]]]]), "dx")
    expect_close(dw, np.array([[[[8.0, 12.0], [20.0, 24.0]]]]), "dw")
    expect_close(db, np.array([4.0]), "db")


@pytest.mark.task(2)
@pytest.mark.builds_on(1)
@pytest.mark.points(1)
def test_conv_backward_stride_example(submission):
    """conv2d_backward with stride 2 and a 1x1 kernel sends dout only to the pixels that were read"""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    _, cache = _conv(submission, x, np.full((1, 1, 1, 1), 2.0), np.zeros(1), stride=2)
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx, dw, db = _results(submission.conv.conv2d_backward(dout, cache), 3, "conv2d_backward")
    want_dx = np.zeros((1, 1, 4, 4))
    want_dx[0, 0, ::2, ::2] = 2.0 * dout[0, 0]
    expect_close(dx, want_dx, "dx with stride 2")
    expect_close(dw, np.array([[[[68.0]]]]), "dw with stride 2")  # 0·1 + 2·2 + 8·3 + 10·4
    expect_close(db, np.array([10.0]), "db with stride 2")


# --- Task 3: maxpool2d_forward --------------------------------------------------------------

POOL_X = np.array([[3.0, 1.0, 0.0, 2.0], [5.0, 4.0, 7.0, 6.0], [8.0, 9.0, 11.0, 10.0],
                   [15.0, 12.0, 13.0, 14.0]]).reshape(1, 1, 4, 4)


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_pool_forward_small_example(submission):
    """maxpool2d_forward with a 2x2 kernel and stride 2 takes the maximum of each block"""
    out, cache = _results(submission.conv.maxpool2d_forward(POOL_X, kernel=2, stride=2), 2,
                          "maxpool2d_forward")
    expect_type(cache, (tuple,), "maxpool2d_forward's cache")
    expect_equal(out, np.array([[[[5.0, 7.0], [15.0, 14.0]]]]), "maxpool2d_forward on a 4x4 image")


@pytest.mark.task(3)
@pytest.mark.points(1)
def test_pool_forward_shapes(submission):
    """maxpool2d_forward's output is (N, C, (H - kh) // sh + 1, (W - kw) // sw + 1), x's dtype"""
    x = np.random.default_rng(5).standard_normal((2, 3, 7, 9))
    for kernel, stride, shape in [(3, 2, (2, 3, 3, 4)), ((2, 3), (1, 2), (2, 3, 6, 4)), (2, 2, (2, 3, 3, 4))]:
        out, _ = _results(submission.conv.maxpool2d_forward(x, kernel=kernel, stride=stride), 2,
                          "maxpool2d_forward")
        expect_array(out, f"output with kernel {kernel}, stride {stride}", shape=shape, dtype_kind="f")


# --- Task 4: maxpool2d_backward -------------------------------------------------------------


@pytest.mark.task(4)
@pytest.mark.builds_on(3)
@pytest.mark.points(1)
def test_pool_backward_small_example(submission):
    """maxpool2d_backward sends each dout to the maximum of its window, zero elsewhere"""
    cv = submission.conv
    _, cache = _results(cv.maxpool2d_forward(POOL_X, kernel=2, stride=2), 2, "maxpool2d_forward")
    dx = cv.maxpool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    want = np.zeros((1, 1, 4, 4))
    want[0, 0, 1, 0], want[0, 0, 1, 2], want[0, 0, 3, 0], want[0, 0, 3, 3] = 1.0, 2.0, 3.0, 4.0
    expect_array(dx, "dx", shape=(1, 1, 4, 4), dtype_kind="f")
    expect_close(dx, want, "dx on a 4x4 image")


@pytest.mark.task(4)
@pytest.mark.builds_on(3)
@pytest.mark.points(1)
def test_pool_backward_overlapping_windows(submission):
    """maxpool2d_backward adds the gradients of overlapping windows that share their maximum"""
    cv = submission.conv
    x = np.array([[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]).reshape(1, 1, 3, 3)
    _, cache = _results(cv.maxpool2d_forward(x, kernel=2, stride=1), 2, "maxpool2d_forward")
    dx = cv.maxpool2d_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    want = np.zeros((1, 1, 3, 3))
    want[0, 0, 1, 1] = 10.0  # the centre is the maximum of all four windows
    expect_close(dx, want, "dx with four overlapping 2x2 windows")


# --- Task 5: build_model --------------------------------------------------------------------


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.rand((n, 1, 8, 8), generator=torch.Generator().manual_seed(seed))


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_model_logits_shape(submission):
    """build_model's network maps 5 images (5, 1, 8, 8) to float32 logits (5, 10)"""
    model = submission.cnn.build_model()
    logits = submission.driver("model_logits", model, _images(5, 6), on="cnn")
    expect_array(logits, "logits", shape=(5, 10), dtype_kind="f")
    expect_true(logits.dtype == torch.float32, "the logits must be float32", f"got dtype {logits.dtype}")


@pytest.mark.task(5)
@pytest.mark.points(1)
def test_model_parameter_budget(submission, week):
    """build_model's network has at most the handout's number of parameters (its state dict's scalars)"""
    budget = int(week.thresholds["max_parameters"])
    state = submission.driver("state_dict", expect_object(submission.cnn.build_model(), "build_model()"), on="cnn")
    expect_true(type(state) is dict, "the network's state_dict() must be a dict of tensors")
    count = int(sum(v.numel() for v in state.values() if v.is_floating_point()))
    expect_true(count <= budget, f"the network has {count} parameters; the budget is {budget}",
                "counted over its state_dict(): every parameter and buffer")


# --- Task 6: train --------------------------------------------------------------------------


@pytest.mark.task(6)
@pytest.mark.builds_on(5)
@pytest.mark.points(1)
def test_train_returns_a_model(submission):
    """train runs one epoch on 64 images and returns a model that still gives (N, 10) logits"""
    y = torch.randint(0, 10, (64,), generator=torch.Generator().manual_seed(7))
    model = submission.cnn.train(submission.cnn.build_model(), _images(64, 7), y, epochs=1, seed=0)
    logits = submission.driver("model_logits", model, _images(3, 8), on="cnn")
    expect_array(logits, "logits of the returned model", shape=(3, 10), dtype_kind="f")


@pytest.mark.task(6)
@pytest.mark.builds_on(5)
@pytest.mark.points(1)
def test_train_changes_the_parameters(submission):
    """train changes the model's parameters (one epoch on 64 images)"""
    cnn = submission.cnn
    model = expect_object(cnn.build_model(), "build_model()")
    before = submission.driver("state_dict", model, on="cnn")
    y = torch.randint(0, 10, (64,), generator=torch.Generator().manual_seed(9))
    trained = expect_object(cnn.train(model, _images(64, 9), y, epochs=1, seed=0), "what train returns")
    after = submission.driver("state_dict", trained, on="cnn")
    changed = [name for name in before if name not in after or before[name].shape != after[name].shape
               or not torch.equal(before[name], after[name])]
    expect_true(bool(changed), "no parameter changed during training")
