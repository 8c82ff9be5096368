"""The seeded generators: determinism, shapes and dtypes, and the properties the graders rely on."""

import numpy as np
import pytest

from coursekit.data import noisy_blobs, separable_blobs, spirals, xor
from coursekit.data.synthetic import XOR_GAP

SEEDS = [0, 1, 7, 123]


def linearly_separable(X: np.ndarray, y: np.ndarray) -> bool:
    """Whether some (w, b) has y_i (w·x_i + b) >= 1 for all i: a feasibility linear program."""
    optimize = pytest.importorskip("scipy.optimize")
    A = -y[:, None] * np.column_stack([X, np.ones(len(X))])
    result = optimize.linprog(np.zeros(A.shape[1]), A_ub=A, b_ub=-np.ones(len(X)),
                              bounds=[(None, None)] * A.shape[1], method="highs")
    assert result.status in (0, 2), result.message  # 0: feasible, 2: infeasible
    return result.status == 0


def perceptron_mistakes(X: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> list[int]:
    """Updates per epoch of a plain perceptron with bias from zero (independent of the solution)."""
    rng = np.random.default_rng(seed)
    w, b, mistakes = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        count = 0
        for i in rng.permutation(len(X)):
            if y[i] * (X[i] @ w + b) <= 0:
                w, b, count = w + y[i] * X[i], b + y[i], count + 1
        mistakes.append(count)
        if count == 0:
            break
    return mistakes


GENERATORS = {
    "separable_blobs": lambda seed: separable_blobs(40, d=3, seed=seed),
    "xor": lambda seed: xor(40, noise=0.1, seed=seed),
    "noisy_blobs": lambda seed: noisy_blobs(40, seed=seed),
    "spirals": lambda seed: spirals(20, n_classes=3, seed=seed),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_deterministic_per_seed(name):
    make = GENERATORS[name]
    first, again, other = make(3), make(3), make(4)
    for a, b in zip(first, again):
        assert np.array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_leave_the_global_random_state_alone(name):
    np.random.seed(12345)
    before = np.random.get_state()[1].copy()
    GENERATORS[name](0)
    assert np.array_equal(np.random.get_state()[1], before)


# --- separable_blobs --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d, margin", [(1, 0.5), (2, 0.5), (2, 0.05), (5, 1.0), (20, 0.2)])
def test_separable_blobs_have_the_promised_margin(seed, d, margin):
    X, y, w, b, R, gamma = separable_blobs(31, d=d, margin=margin, seed=seed)
    assert X.shape == (31, d) and X.dtype == np.float64
    assert y.dtype == np.int64 and set(np.unique(y)) == {-1, 1} and np.sum(y < 0) == 15
    assert w.shape == (d,) and isinstance(b, float) and isinstance(R, float)
    assert np.isclose(np.hypot(np.linalg.norm(w), b), 1.0, rtol=1e-12)
    assert gamma >= margin
    assert np.all(y * (X @ w + b) >= gamma)  # the augmented margin
    assert np.all(y * (X @ w + b) / np.linalg.norm(w) >= gamma)  # the geometric margin
    assert R == pytest.approx(np.sqrt(np.max(np.sum(X**2, axis=1)) + 1.0), rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_perceptron_on_separable_blobs_stays_within_novikoffs_bound(seed):
    X, y, _, _, R, gamma = separable_blobs(60, d=4, margin=0.1, seed=seed)
    mistakes = perceptron_mistakes(X, y, epochs=10_000, seed=seed)
    assert mistakes[-1] == 0
    assert sum(mistakes) <= (R / gamma) ** 2


def test_separable_blobs_refuse_bad_arguments():
    with pytest.raises(ValueError, match="margin"):
        separable_blobs(10, margin=0.0)
    with pytest.raises(ValueError, match="n must be"):
        separable_blobs(0)


# --- xor --------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [4, 5, 50])
def test_xor_labels_are_the_sign_of_the_product_away_from_the_axes(seed, n):
    X, y = xor(n, seed=seed)
    assert X.shape == (n, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.all(np.abs(X) >= XOR_GAP) and np.all(np.abs(X) <= 1.0)
    assert np.array_equal(y, np.sign(X[:, 0] * X[:, 1]).astype(np.int64))
    quadrants = {(bool(a > 0), bool(c > 0)) for a, c in X}
    assert len(quadrants) == 4


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [4, 9, 200])
def test_xor_is_separable_only_after_adding_the_product(seed, n):
    X, y = xor(n, seed=seed)
    assert not linearly_separable(X, y)
    features = np.column_stack([X, X[:, 0] * X[:, 1]])
    assert np.all(y * features[:, 2] >= XOR_GAP**2)  # the separator (0, 0, 1), bias 0
    assert linearly_separable(features, y)
    assert perceptron_mistakes(features, y, epochs=1000, seed=seed)[-1] == 0


def test_xor_noise_moves_the_points_but_keeps_the_labels():
    X0, y0 = xor(100, noise=0.0, seed=5)
    X1, y1 = xor(100, noise=0.3, seed=5)
    assert np.array_equal(y0, y1)
    assert 0.15 < np.std(X1 - X0) < 0.45


# --- noisy_blobs ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, d", [(3, 2), (10, 2), (100, 2), (100, 5)])
def test_noisy_blobs_are_never_linearly_separable(seed, n, d):
    X, y = noisy_blobs(n, seed=seed, d=d)
    assert X.shape == (n, d) and X.dtype == np.float64 and y.dtype == np.int64
    assert set(np.unique(y)) == {-1, 1} and np.sum(y < 0) == n // 2
    assert not linearly_separable(X, y)


@pytest.mark.parametrize("seed", SEEDS)
def test_perceptron_on_noisy_blobs_runs_into_the_epoch_cap(seed):
    X, y = noisy_blobs(50, seed=seed)
    mistakes = perceptron_mistakes(X, y, epochs=25, seed=seed)
    assert len(mistakes) == 25 and min(mistakes) > 0


def test_noisy_blobs_need_three_points():
    with pytest.raises(ValueError, match=">= 3"):
        noisy_blobs(2)


# --- spirals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_spirals_shapes_labels_and_radius(n_classes):
    X, y = spirals(50, n_classes=n_classes, noise=0.0, seed=0)
    assert X.shape == (50 * n_classes, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.array_equal(y, np.repeat(np.arange(n_classes), 50))
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.min() == pytest.approx(0.1) and radius.max() == pytest.approx(1.0)
    # Arms are rotated copies of each other: same radii, angles 2π/K apart.
    arm0, arm1 = X[y == 0], X[y == 1]
    angle = 2 * np.pi / n_classes
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    assert np.allclose(arm0 @ rotation.T, arm1, atol=1e-12)


def test_spirals_noise_has_the_requested_scale():
    clean, _ = spirals(500, noise=0.0, seed=2)
    noisy, _ = spirals(500, noise=0.1, seed=2)
    assert np.std(noisy - clean) == pytest.approx(0.1, rel=0.1)
