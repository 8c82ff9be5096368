"""Seeded synthetic datasets: separable blobs with a known margin, XOR, noisy blobs, spirals.

Every generator draws from one ``np.random.default_rng(seed)`` and nothing else, so the same
arguments give the same arrays on every machine. Points are float64 (n, d); binary labels are int64
in {-1, +1}, multi-class labels int64 in 0..K-1.

The perceptron convention used throughout the course: a classifier ``sign(w·x + b)`` is the
homogeneous classifier ``sign(w̃·x̃)`` on augmented vectors ``x̃ = (x, 1)`` and ``w̃ = (w, b)``, and
Novikoff's theorem is applied to that augmented problem. Starting from ``w̃ = 0`` with any learning
rate, the number of updates is at most ``(R / gamma)**2`` where

    R     = max_i ||(x_i, 1)||
    gamma = min_i y_i (w_star·x_i + b_star)   for a separator with ||(w_star, b_star)|| = 1.

:func:`separable_blobs` returns exactly these ``R`` and ``gamma``.
"""

from __future__ import annotations

import numpy as np

# Points of xor() have |x1|, |x2| in [XOR_GAP, 1]: away from the axes, so sign(x1 * x2) is robust.
XOR_GAP = 0.25


def _check_count(name: str, value: int, least: int) -> None:
    if int(value) != value or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")


def _balanced_signs(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) int64: n // 2 entries -1 and the rest +1, in random order."""
    y = np.ones(n, dtype=np.int64)
    y[: n // 2] = -1
    return rng.permutation(y)


def separable_blobs(n: int, d: int = 2, margin: float = 0.5, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]:
    """Linearly separable ±1 data with a known margin.

    A random hyperplane ``u·x + c = 0`` (``||u|| = 1``) splits the space; each point is placed on
    its label's side at distance at least ``margin * sqrt(1 + c**2)`` from it, with a Gaussian
    spread along and across the hyperplane. Classes are balanced (``n // 2`` negatives).

    Returns ``(X, y, w_star, b_star, R, gamma)``: ``X`` float64 (n, d), ``y`` int64 (n,) in {-1, +1},
    the separator ``w_star`` (d,) and ``b_star`` scaled so that ``||(w_star, b_star)|| = 1``, and
    ``R = max ||(x_i, 1)||`` and ``gamma = min y_i (w_star·x_i + b_star) >= margin`` of the augmented
    problem (module docstring), so a perceptron with bias makes at most ``(R / gamma)**2`` updates.
    Since ``||w_star|| <= 1``, the geometric margin ``y (w_star·x + b_star) / ||w_star||`` of every
    point in the original space is at least ``gamma`` too.
    """
    _check_count("n", n, 1)
    _check_count("d", d, 1)
    if not margin > 0:
        raise ValueError(f"margin must be positive, got {margin!r}")
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    c = float(rng.uniform(-1.0, 1.0))
    scale = float(np.sqrt(1.0 + c * c))  # ||(u, c)||
    y = _balanced_signs(n, rng)
    # The tiny extra gap keeps gamma >= margin after floating-point rounding.
    s = y * scale * (margin + 1e-9 + np.abs(rng.standard_normal(n)))  # u·x + c, (n,)
    z = rng.standard_normal((n, d))
    z -= np.outer(z @ u, u)  # the part across the hyperplane: orthogonal to u
    X = np.outer(s - c, u) + z  # (n, d)
    w_star, b_star = u / scale, c / scale
    R = float(np.sqrt(np.max(np.sum(X * X, axis=1)) + 1.0))
    gamma = float(np.min(y * (X @ w_star + b_star)))
    return X, y, w_star, b_star, R, gamma


def xor(n: int, noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem in the plane: ``y = sign(x1 * x2)``.

    Clean points have ``|x1|, |x2|`` uniform in ``[XOR_GAP, 1]`` (away from the axes), spread over
    the four quadrants as evenly as ``n`` allows. For ``n >= 4`` the clean set contains a rectangle centred at the
    origin (its four corners, XOR-labelled), whose diagonals cross, so it is never linearly
    separable in ``(x1, x2)``; with the extra feature ``x1 * x2`` it is, with margin
    ``XOR_GAP**2``. ``noise > 0`` adds Gaussian noise of that standard deviation to the points
    after labelling (labels stay those of the clean points).

    Returns ``X`` float64 (n, 2) and ``y`` int64 (n,) in {-1, +1}.
    """
    _check_count("n", n, 1)
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    quadrant_signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)
    magnitudes = rng.uniform(XOR_GAP, 1.0, size=(n, 2))
    if n >= 4:
        magnitudes[:4] = magnitudes[0]  # the rectangle's corners: same |x1|, |x2|
    X = magnitudes * quadrant_signs[np.arange(n) % 4]  # (n, 2)
    X = X[rng.permutation(n)]
    y = np.where(X[:, 0] * X[:, 1] > 0, 1, -1).astype(np.int64)
    X = X + noise * rng.standard_normal((n, 2))
    return X, y


def noisy_blobs(n: int, seed: int = 0, d: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian blobs with ±1 labels that no linear classifier separates.

    Class ``y`` has mean ``0.5 * y * (1, …, 1) / sqrt(d)`` and identity covariance, so the classes
    overlap heavily. To make non-separability certain for every seed, one negative point is moved
    to the midpoint of two positive ones: any ``f(x) = w·x + b`` positive on both is positive at
    their midpoint. A perceptron therefore makes at least one mistake in every epoch.

    Returns ``X`` float64 (n, d) and ``y`` int64 (n,) in {-1, +1} (``n // 2`` negatives); ``n >= 3``.
    """
    _check_count("n", n, 3)
    _check_count("d", d, 1)
    rng = np.random.default_rng(seed)
    y = _balanced_signs(n, rng)
    mean = 0.5 / np.sqrt(d)
    X = rng.standard_normal((n, d)) + mean * y[:, None]  # (n, d)
    positives, negatives = np.flatnonzero(y > 0), np.flatnonzero(y < 0)
    X[negatives[0]] = 0.5 * (X[positives[0]] + X[positives[1]])
    return X, y


def spirals(n_per_class: int, n_classes: int = 2, noise: float = 0.1, seed: int = 0
            ) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms in the plane, one arm per class.

    Arm ``k`` is ``r (cos θ, sin θ)`` with ``r = 0.1 + 0.9 t`` and ``θ = 2πk / K + 3πt`` for ``t``
    evenly spaced in [0, 1] (one and a half turns), plus Gaussian noise of standard deviation
    ``noise`` on each coordinate. Rows are grouped by class (all of class 0 first).

    Returns ``X`` float64 (n_per_class * n_classes, 2) and ``y`` int64 in 0..n_classes-1.
    """
    _check_count("n_per_class", n_per_class, 1)
    _check_count("n_classes", n_classes, 2)
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n_per_class)
    radius = 0.1 + 0.9 * t
    arms = []
    for k in range(n_classes):
        theta = 2.0 * np.pi * k / n_classes + 3.0 * np.pi * t
        arms.append(np.column_stack([radius * np.cos(theta), radius * np.sin(theta)]))
    X = np.concatenate(arms) + noise * rng.standard_normal((n_per_class * n_classes, 2))
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    return X, y
