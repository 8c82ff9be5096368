"""Week 1: perceptrons, linear separability and logistic regression, in numpy only.

Each function's docstring is its specification: the math, the shapes, and what it returns. Every
``raise NotImplementedError`` marks one task of the handout; replace it with your code.

Conventions: ``X`` is a float array (n, d) of n samples with d features; the perceptron's labels are
-1/+1, logistic regression's are 0/1, the multi-class perceptron's are 0..K-1. Every function returns
its results and leaves its arguments unchanged. Randomness comes only from the ``seed`` arguments.
numpy is the only library this file may use (see the handout).
"""

from __future__ import annotations

import numpy as np


def predict(w: np.ndarray, b: float, X: np.ndarray) -> np.ndarray:
    """Labels of a linear classifier: ``ŷ_i = sign(w·x_i + b)``, with ``sign(0) = +1``.

    Args:
        w: (d,) weights.
        b: scalar bias.
        X: (n, d) samples, one per row.

    Returns:
        (n,) int64 array of -1/+1.
    """
    ### BEGIN SOLUTION
    scores = X @ w + b  # (n,)
    return np.where(scores >= 0, 1, -1).astype(np.int64)
    ### END SOLUTION


def perceptron_update(w: np.ndarray, b: float, x: np.ndarray, y: int, lr: float = 1.0
                      ) -> tuple[np.ndarray, float]:
    """One step of Rosenblatt's rule on one sample ``(x, y)``, ``y`` in {-1, +1}.

    If ``y (w·x + b) <= 0`` (a mistake; a point on the boundary counts as one):
    ``w ← w + lr·y·x`` and ``b ← b + lr·y``. Otherwise nothing changes.

    Args:
        w: (d,) weights. b: scalar bias. x: (d,) one sample. y: its label. lr: learning rate.

    Returns:
        ``(w_new, b_new)``: a new (d,) float64 array (also when nothing changed; ``w`` itself is never
        modified) and a float.
    """
    ### BEGIN SOLUTION
    w = np.array(w, dtype=np.float64)  # a copy: the caller's array stays as it was
    if y * (np.dot(w, x) + b) <= 0:
        w += lr * y * x
        b = b + lr * y
    return w, float(b)
    ### END SOLUTION


def train_perceptron(X: np.ndarray, y: np.ndarray, epochs: int = 100, lr: float = 1.0,
                     seed: int = 0) -> tuple[np.ndarray, float, list[int]]:
    """Train a perceptron with bias by cycling over the data in random order.

    Start from ``w = 0`` (d,) and ``b = 0.0``. One generator ``rng = np.random.default_rng(seed)``
    is created once (below). At the start of each epoch draw the visiting order
    ``rng.permutation(n)``; for each sample ``i`` in that order, if ``y_i (w·x_i + b) <= 0`` apply
    the update of :func:`perceptron_update` with ``lr`` and count one mistake. After each epoch
    append that epoch's number of mistakes to ``mistakes``; stop after the first epoch with zero
    mistakes, or after ``epochs`` epochs. So ``len(mistakes)`` is the number of epochs run, and the
    last entry is 0 exactly when the data were separated.

    On separable data (Novikoff): ``sum(mistakes) <= (R / γ)**2`` with ``R = max_i ||(x_i, 1)||``
    and ``γ = min_i y_i (w*·x_i + b*) > 0`` for any separator with ``||(w*, b*)|| = 1``.

    Args:
        X: (n, d) samples. y: (n,) labels in {-1, +1}. epochs: the most epochs to run.
        lr: learning rate. seed: seed of the generator of visiting orders.

    Returns:
        ``(w, b, mistakes)``: (d,) float64 weights, float bias, list of ints (one per epoch run).
    """
    n, d = X.shape
    rng = np.random.default_rng(seed)
    ### BEGIN SOLUTION
    w, b = np.zeros(d), 0.0
    mistakes: list[int] = []
    for _ in range(epochs):
        errors = 0
        for i in rng.permutation(n):
            if y[i] * (np.dot(w, X[i]) + b) <= 0:
                w, b = perceptron_update(w, b, X[i], y[i], lr)
                errors += 1
        mistakes.append(errors)
        if errors == 0:
            break
    return w, b, mistakes
    ### END SOLUTION


class MulticlassPerceptron:
    """The multi-class perceptron: one weight row and bias per class, predict the best score.

    Class ``k`` scores ``s_k(x) = W[k]·x + b[k]``; the prediction is ``argmax_k s_k(x)``, ties going to
    the lowest index (what ``np.argmax`` does). Attributes: ``W`` (K, d) and ``b`` (K,), float64,
    zero after construction.
    """

    def __init__(self, n_features: int, n_classes: int) -> None:
        self.n_features = n_features
        self.n_classes = n_classes
        self.W = np.zeros((n_classes, n_features))
        self.b = np.zeros(n_classes)

    def fit(self, X: np.ndarray, y: np.ndarray, epochs: int = 10, seed: int = 0
            ) -> "MulticlassPerceptron":
        """Train from the current ``W`` and ``b`` (zero after construction); returns ``self``.

        One generator ``rng = np.random.default_rng(seed)`` is created once (below); each epoch
        visits the samples in the order ``rng.permutation(n)``. For sample ``(x, y)`` predict
        ``p = argmax_k (W[k]·x + b[k])`` with the current parameters; if ``p != y`` (a mistake):
        ``W[y] += x``, ``b[y] += 1``, ``W[p] -= x``, ``b[p] -= 1``. Stop after the first epoch with
        no mistake, or after ``epochs`` epochs.

        Args:
            X: (n, d) samples. y: (n,) int labels in 0..K-1. epochs: the most epochs to run.
            seed: seed of the generator of visiting orders.
        """
        rng = np.random.default_rng(seed)
        ### BEGIN SOLUTION
        for _ in range(epochs):
            errors = 0
            for i in rng.permutation(len(X)):
                x, label = X[i], int(y[i])
                guess = int(np.argmax(self.W @ x + self.b))
                if guess != label:
                    self.W[label] += x
                    self.b[label] += 1.0
                    self.W[guess] -= x
                    self.b[guess] -= 1.0
                    errors += 1
            if errors == 0:
                break
        return self
        ### END SOLUTION

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Labels ``argmax_k (X @ W.T + b)[:, k]`` (ties to the lowest index): (n,) int64 in 0..K-1."""
        ### BEGIN SOLUTION
        scores = X @ self.W.T + self.b  # (n, K)
        return np.argmax(scores, axis=1).astype(np.int64)
        ### END SOLUTION


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function ``σ(z) = 1 / (1 + exp(-z))``, elementwise, for any finite ``z``.

    ``exp(-z)`` overflows for large negative ``z``: use ``σ(z) = 1 / (1 + exp(-z))`` where
    ``z >= 0`` and the equal form ``σ(z) = exp(z) / (1 + exp(z))`` where ``z < 0``, so ``exp`` only
    ever sees ``-|z|``. No warning may be raised at ``|z| = 1e4`` (silencing warnings with
    ``np.errstate`` does not count as stable).

    Args:
        z: array of any shape (a Python float is treated as a 0-d array).

    Returns:
        float64 array of ``z``'s shape with values in [0, 1].
    """
    z = np.asarray(z, dtype=np.float64)
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


def bce_with_logits(z: np.ndarray, y01: np.ndarray) -> float:
    """Mean binary cross-entropy of labels ``y01`` in {0, 1} under logits ``z``.

    ``ℓ_i = -[y_i log σ(z_i) + (1 - y_i) log(1 - σ(z_i))] = softplus(z_i) - y_i z_i`` with
    ``softplus(z) = log(1 + e^z) = max(z, 0) + log1p(exp(-|z|))``; return ``mean_i ℓ_i``. This form
    is finite and warning-free for any finite logits (``|z| = 1e4`` included).

    Args:
        z: (n,) logits. y01: (n,) labels 0/1 (ints or floats).

    Returns:
        the mean loss as a Python float.
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=np.float64)
    softplus = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(softplus - y01 * z))
    ### END SOLUTION


def bce_grad(w: np.ndarray, b: float, X: np.ndarray, y01: np.ndarray) -> tuple[np.ndarray, float]:
    """Gradient of logistic regression's mean loss ``L(w, b) = mean_i ℓ_i`` with ``z = X @ w + b``.

    Since ``∂ℓ_i/∂z_i = σ(z_i) - y_i``: ``∂L/∂w = X^T (σ(z) - y) / n`` and
    ``∂L/∂b = mean_i (σ(z_i) - y_i)``.

    Args:
        w: (d,) weights. b: scalar bias. X: (n, d) samples. y01: (n,) labels 0/1.

    Returns:
        ``(dw, db)``: (d,) float64 and a float.
    """
    ### BEGIN SOLUTION
    residual = sigmoid(X @ w + b) - y01  # (n,)
    return X.T @ residual / len(X), float(np.mean(residual))
    ### END SOLUTION


def train_logreg(X: np.ndarray, y01: np.ndarray, lr: float = 0.1, steps: int = 1000
                 ) -> tuple[np.ndarray, float]:
    """Logistic regression by full-batch gradient descent on the mean BCE.

    Start from ``w = 0`` (d,), ``b = 0.0``; repeat ``steps`` times, using :func:`bce_grad` on all
    of ``X``: ``w ← w - lr·∂L/∂w``, ``b ← b - lr·∂L/∂b``.

    Args:
        X: (n, d) samples. y01: (n,) labels 0/1. lr: step size. steps: number of steps.

    Returns:
        ``(w, b)``: (d,) float64 weights and a float bias.
    """
    ### BEGIN SOLUTION
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        dw, db = bce_grad(w, b, X, y01)
        w = w - lr * dw
        b = b - lr * db
    return w, float(b)
    ### END SOLUTION


def xor_features(X: np.ndarray) -> np.ndarray:
    """The feature map ``(x1, x2) ↦ (x1, x2, x1·x2)``.

    XOR labels ``y = sign(x1·x2)`` are not linearly separable in ``(x1, x2)``, but in these features
    the weights ``(0, 0, 1)`` with bias 0 separate them.

    Args:
        X: (n, 2) points.

    Returns:
        (n, 3) float64 array with columns ``x1, x2, x1·x2``.
    """
    ### BEGIN SOLUTION
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([x1, x2, x1 * x2]).astype(np.float64)
    ### END SOLUTION
