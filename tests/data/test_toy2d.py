"""The two-dimensional generators of week 7: their formulas, determinism, and the checksummed draw."""

import numpy as np
import pytest

from coursekit.data import moons, swiss_roll
from coursekit.data.files import content_sha256, datasets_root, read_checksums
from coursekit.data.toy2d import REFERENCE_FILE, SWISS_ROLL_SCALE, load_reference, reference_draws

GENERATORS = {"moons": moons, "swiss_roll": swiss_roll}


@pytest.mark.parametrize("name", GENERATORS)
def test_deterministic_per_seed_and_fresh_per_seed(name):
    make = GENERATORS[name]
    first, again, other = make(50, seed=3), make(50, seed=3), make(50, seed=4)
    for a, b in zip(first, again):
        assert np.array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("name", GENERATORS)
def test_leave_the_global_random_state_alone(name):
    np.random.seed(12345)
    before = np.random.get_state()[1].copy()
    GENERATORS[name](20, seed=0)
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("name", GENERATORS)
def test_refuse_bad_arguments(name):
    with pytest.raises(ValueError, match="n must be"):
        GENERATORS[name](0)
    with pytest.raises(ValueError, match="noise"):
        GENERATORS[name](5, noise=-1.0)


@pytest.mark.parametrize("n", [1, 2, 7, 400])
def test_moons_lie_on_their_half_circles(n):
    X, y = moons(n, noise=0.0, seed=1)
    assert X.shape == (n, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.sum(y == 0) == n // 2 and set(np.unique(y)) <= {0, 1}
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0) and np.all(upper[:, 1] >= 0)
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0) and np.all(lower[:, 1] <= 0.5)


def test_moons_angles_are_uniform_and_the_noise_has_its_scale():
    X, y = moons(20000, noise=0.0, seed=2)
    theta = np.where(y == 0, np.arctan2(X[:, 1], X[:, 0]), np.arctan2(0.5 - X[:, 1], 1.0 - X[:, 0]))
    assert np.all((theta >= 0) & (theta <= np.pi))
    assert abs(theta.mean() - np.pi / 2) < 0.03 and abs(theta.var() - np.pi**2 / 12) < 0.03
    assert np.allclose(X.mean(axis=0), [0.5, 0.25], atol=0.02)
    noisy, _ = moons(20000, noise=0.1, seed=2)
    assert np.std(noisy - X) == pytest.approx(0.1, rel=0.05)


def test_swiss_roll_follows_its_formula():
    X, t = swiss_roll(500, noise=0.0, seed=5)
    assert X.shape == (500, 2) and X.dtype == np.float64 and t.shape == (500,)
    assert np.all((t >= 1.5 * np.pi) & (t <= 4.5 * np.pi))
    assert np.allclose(X * SWISS_ROLL_SCALE, np.column_stack([t * np.cos(t), t * np.sin(t)]))
    noisy, t_again = swiss_roll(500, noise=0.2, seed=5)
    assert np.array_equal(t, t_again)
    assert np.std(noisy - X) == pytest.approx(0.2, rel=0.15)


def test_reference_draw_is_checksummed_and_reproduced():
    assert read_checksums(datasets_root())[REFERENCE_FILE] == content_sha256(datasets_root() / REFERENCE_FILE)
    stored, fresh = load_reference(), reference_draws()
    assert sorted(stored) == sorted(fresh)
    for name, value in fresh.items():
        assert stored[name].dtype == value.dtype and stored[name].shape == value.shape, name
        # Exact up to the last bits of the platform's sin and cos.
        assert np.allclose(stored[name], value, rtol=1e-12, atol=1e-12), name
