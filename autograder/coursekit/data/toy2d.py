"""Seeded two-dimensional point clouds for generative models: two moons and a swiss roll.

Both are the course's own numpy code (scikit-learn is not needed at grading time), written from the
formulas of scikit-learn's ``make_moons`` and ``make_swiss_roll``, with one difference: positions
along each curve are drawn at random (i.i.d. samples of one distribution), not evenly spaced, so
that two draws with different seeds are two independent samples that a sample distance can compare.

Every generator draws from one ``np.random.default_rng(seed)`` and nothing else (the global
generator is left alone), so the same arguments give the same arrays on every machine.
``datasets/toy2d/reference.npz`` keeps a draw of each, checksummed, and ``tests/data/test_toy2d.py``
checks that the code still reproduces it.
"""

from __future__ import annotations

import numpy as np


def _check(n: int, noise: float) -> None:
    if int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")


def moons(n: int, noise: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in the plane.

    Point ``i`` has a label ``y_i`` (``n // 2`` points of label 0, the rest label 1, in random
    order) and an angle ``θ_i ~ U(0, π)``::

        label 0 (upper moon):  (cos θ,      sin θ)
        label 1 (lower moon):  (1 − cos θ,  1/2 − sin θ)

    plus Gaussian noise of standard deviation ``noise`` on each coordinate. Without noise the
    points lie in [−1, 2] × [−1/2, 1]; the mean is (1/2, 1/4).

    Returns ``X`` float64 (n, 2) and ``y`` int64 (n,) in {0, 1}.
    """
    _check(n, noise)
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=np.int64)
    y[n // 2:] = 1
    y = rng.permutation(y)
    theta = rng.uniform(0.0, np.pi, size=n)
    upper = np.column_stack([np.cos(theta), np.sin(theta)])  # (n, 2)
    lower = np.column_stack([1.0 - np.cos(theta), 0.5 - np.sin(theta)])  # (n, 2)
    X = np.where(y[:, None] == 0, upper, lower) + noise * rng.standard_normal((n, 2))
    return X, y


#: The swiss roll's coordinates are divided by this, so the points lie within about [−1.5, 1.5].
SWISS_ROLL_SCALE = 10.0


def swiss_roll(n: int, noise: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A two-dimensional swiss roll: an Archimedean spiral of one and a half turns.

    With ``u ~ U(0, 1)`` and ``t = 1.5 π (1 + 2u)`` (so t ∈ [1.5π, 4.5π]), the point is::

        (t cos t, t sin t) / 10

    plus Gaussian noise of standard deviation ``noise`` on each coordinate (after scaling). This is
    scikit-learn's ``make_swiss_roll`` seen from the side (its x and z coordinates), scaled by 1/10
    as in the usual diffusion-model demonstrations.

    Returns ``X`` float64 (n, 2) and ``t`` float64 (n,), each point's position along the roll.
    """
    _check(n, noise)
    rng = np.random.default_rng(seed)
    t = 1.5 * np.pi * (1.0 + 2.0 * rng.uniform(0.0, 1.0, size=n))
    X = np.column_stack([t * np.cos(t), t * np.sin(t)]) / SWISS_ROLL_SCALE
    X = X + noise * rng.standard_normal((n, 2))
    return X, t


# --- the checksummed reference draw ------------------------------------------------------------

#: Where the reference draw lives, relative to ``datasets/``.
REFERENCE_FILE = "toy2d/reference.npz"
REGENERATE = 'python -c "from coursekit.data.toy2d import main; main()"'


def reference_draws() -> dict[str, np.ndarray]:
    """The draws that ``datasets/toy2d/reference.npz`` keeps: 200 points of each generator, seed 0."""
    X_moons, y_moons = moons(200, noise=0.05, seed=0)
    X_roll, t_roll = swiss_roll(200, noise=0.05, seed=0)
    return {"moons_X": X_moons, "moons_y": y_moons, "swiss_roll_X": X_roll, "swiss_roll_t": t_roll}


def load_reference() -> dict[str, np.ndarray]:
    """The bundled reference draw, after checking it against ``datasets/checksums.json``."""
    from .files import verified_path

    with np.load(verified_path(REFERENCE_FILE, REGENERATE), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def main() -> None:
    """Write ``datasets/toy2d/reference.npz`` and print the digest to record in ``checksums.json``."""
    from .files import content_sha256, datasets_root

    path = datasets_root() / REFERENCE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **reference_draws())
    print(f"wrote {path}\n\"{REFERENCE_FILE}\": \"{content_sha256(path)}\"")
