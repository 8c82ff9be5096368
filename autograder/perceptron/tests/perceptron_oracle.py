"""Week 1's oracle: the grader's own implementation of every quantity the hidden tests compare.

Written independently of the reference solution and in a different form where that is natural:
the perceptrons work on augmented vectors ``x̃ = (x, 1)`` with the bias as the last weight, and the
logistic functions go through ``np.logaddexp``. PyTorch's operators are the reference for sigmoid,
the loss and its gradient (see :func:`torch_bce_and_grad`); this module only imports torch inside
the functions that need it.

The ``replay_*`` functions rerun a training loop in the grader while calling the student's own
building block (``perceptron_update``, ``bce_grad``) at every step. A task whose specification
says "use task k's function" is judged against that replay as well as against the oracle, so a
mistake in task k is charged in task k only.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from coursekit.grading.client import StudentError

# --- the perceptron (labels -1/+1) --------------------------------------------------------


def augment(X: np.ndarray) -> np.ndarray:
    """``(X, 1)``: (n, d) → (n, d + 1), so that ``w̃·x̃ = w·x + b`` with ``w̃ = (w, b)``."""
    return np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)


def predict(w: np.ndarray, b: float, X: np.ndarray) -> np.ndarray:
    """``sign(Xw + b)`` with ``sign(0) = +1``, as int64 (n,)."""
    scores = augment(X) @ np.append(w, b)  # (n,)
    return np.where(scores < 0, -1, 1).astype(np.int64)


def update(w: np.ndarray, b: float, x: np.ndarray, y: int, lr: float) -> tuple[np.ndarray, float]:
    """Rosenblatt's step on augmented vectors: ``w̃ += lr·y·x̃`` when ``y w̃·x̃ <= 0``."""
    wt, xt = np.append(w, b), np.append(x, 1.0)
    if y * (wt @ xt) <= 0:
        wt = wt + (lr * y) * xt
    return wt[:-1], float(wt[-1])


def train(X: np.ndarray, y: np.ndarray, epochs: int, lr: float, seed: int
          ) -> tuple[np.ndarray, float, list[int]]:
    """The perceptron from zero: one generator, one permutation per epoch, early stop."""
    n, d = X.shape
    Xt = augment(X)  # (n, d + 1)
    wt = np.zeros(d + 1)
    order = np.random.default_rng(seed)
    counts: list[int] = []
    while len(counts) < epochs:
        updates = 0
        for i in order.permutation(n):
            if y[i] * (Xt[i] @ wt) <= 0:
                wt = wt + (lr * y[i]) * Xt[i]
                updates += 1
        counts.append(updates)
        if updates == 0:
            break
    return wt[:d], float(wt[d]), counts


def replay_train(student_update: Callable[..., Any], X: np.ndarray, y: np.ndarray, epochs: int,
                 lr: float, seed: int, max_calls: int = 3000) -> tuple[np.ndarray, float, list[int]] | None:
    """:func:`train`'s loop, but every update is the student's ``perceptron_update``.

    Returns None when the student's update raises, returns something unusable, or the replay would
    need more than ``max_calls`` calls into the worker.
    """
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    order = np.random.default_rng(seed)
    counts: list[int] = []
    calls = 0
    while len(counts) < epochs:
        updates = 0
        for i in order.permutation(n):
            if y[i] * (X[i] @ w + b) <= 0:
                calls += 1
                if calls > max_calls:
                    return None
                try:
                    w_new, b_new = student_update(w, b, X[i], int(y[i]), lr)
                    w, b = np.asarray(w_new, dtype=np.float64).reshape(d), float(b_new)
                except (StudentError, TypeError, ValueError):
                    return None
                updates += 1
        counts.append(updates)
        if updates == 0:
            break
    return w, b, counts


def separates(w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray) -> bool:
    """Whether ``sign(w·x + b)`` classifies every sample correctly (strictly off the boundary)."""
    return bool(np.all(y * (X @ w + b) > 0))


# --- the multi-class perceptron (labels 0..K-1) ---------------------------------------------


def multiclass_fit(X: np.ndarray, y: np.ndarray, n_classes: int, epochs: int, seed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` after the multi-class perceptron's training from zero."""
    n, d = X.shape
    Xt = augment(X)  # (n, d + 1)
    Wt = np.zeros((n_classes, d + 1))  # row k = (W[k], b[k])
    order = np.random.default_rng(seed)
    for _ in range(epochs):
        wrong = 0
        for i in order.permutation(n):
            guess, label = int(np.argmax(Wt @ Xt[i])), int(y[i])
            if guess != label:
                Wt[label] = Wt[label] + Xt[i]
                Wt[guess] = Wt[guess] - Xt[i]
                wrong += 1
        if wrong == 0:
            break
    return Wt[:, :d].copy(), Wt[:, d].copy()


def multiclass_predict(W: np.ndarray, b: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``argmax_k`` of the class scores, ties to the lowest index, int64 (n,)."""
    return np.argmax(augment(X) @ np.column_stack([W, b]).T, axis=1).astype(np.int64)


# --- logistic regression (labels 0/1) -------------------------------------------------------


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``σ(z) = exp(-softplus(-z))``: accurate in both tails, never overflows."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))


def mean_bce(z: np.ndarray, y01: np.ndarray) -> float:
    """``mean(softplus(z) - y z)``."""
    z = np.asarray(z, dtype=np.float64)
    return float(np.mean(np.logaddexp(0.0, z) - y01 * z))


def torch_sigmoid(z: np.ndarray) -> np.ndarray:
    import torch

    return torch.sigmoid(torch.as_tensor(np.asarray(z, dtype=np.float64))).numpy()


def torch_bce(z: np.ndarray, y01: np.ndarray) -> float:
    import torch
    import torch.nn.functional as F

    return float(F.binary_cross_entropy_with_logits(
        torch.as_tensor(np.asarray(z, dtype=np.float64)),
        torch.as_tensor(np.asarray(y01, dtype=np.float64))))


def torch_bce_and_grad(w: np.ndarray, b: float, X: np.ndarray, y01: np.ndarray
                       ) -> tuple[float, np.ndarray, float]:
    """Mean BCE of logistic regression and its gradient by torch autograd, in float64."""
    import torch
    import torch.nn.functional as F

    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    z = torch.as_tensor(X, dtype=torch.float64) @ wt + bt  # (n,)
    loss = F.binary_cross_entropy_with_logits(z, torch.as_tensor(y01, dtype=torch.float64))
    loss.backward()
    return loss.item(), wt.grad.numpy().copy(), bt.grad.item()


def train_logreg(X: np.ndarray, y01: np.ndarray, lr: float, steps: int) -> tuple[np.ndarray, float]:
    """Full-batch gradient descent on the mean BCE from zero (augmented form)."""
    n = X.shape[0]
    Xt = augment(X)  # (n, d + 1)
    wt = np.zeros(Xt.shape[1])
    for _ in range(steps):
        wt = wt - lr * (Xt.T @ (sigmoid(Xt @ wt) - y01)) / n
    return wt[:-1], float(wt[-1])


def replay_logreg(student_grad: Callable[..., Any], X: np.ndarray, y01: np.ndarray, lr: float,
                  steps: int) -> tuple[np.ndarray, float] | None:
    """Gradient descent from zero driven by the student's ``bce_grad``; None if that fails."""
    d = X.shape[1]
    w, b = np.zeros(d), 0.0
    for _ in range(steps):
        try:
            dw, db = student_grad(w, b, X, y01)
            w = w - lr * np.asarray(dw, dtype=np.float64).reshape(d)
            b = b - lr * float(db)
        except (StudentError, TypeError, ValueError):
            return None
    return w, float(b)


def numerical_grad(w: np.ndarray, b: float, X: np.ndarray, y01: np.ndarray, eps: float = 1e-6
                   ) -> tuple[np.ndarray, float]:
    """Central differences of :func:`mean_bce` in every weight and the bias."""
    theta = np.append(w, b)
    Xt = augment(X)
    grad = np.empty_like(theta)
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = eps
        grad[j] = (mean_bce(Xt @ (theta + step), y01) - mean_bce(Xt @ (theta - step), y01)) / (2 * eps)
    return grad[:-1], float(grad[-1])
