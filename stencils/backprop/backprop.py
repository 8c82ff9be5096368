"""Week 2: backpropagation by hand, in numpy only.

Layers, losses, a container, two optimizers, two initializers, a gradient checker and a training
loop. Each docstring is its specification: the math, the shapes, and what it returns. Every
``raise NotImplementedError`` marks one task of the handout; replace it with your code.

Conventions: arrays are float64; a batch is (N, D), one sample per row. ``forward`` remembers what
``backward`` needs. ``backward(dout)`` receives ``dout = ∂L/∂(output)``, shaped like the output,
and returns ``∂L/∂(input)``, shaped like the input (the chain rule: a vector-Jacobian product).
A parameter and its gradient are arrays that live as long as their layer: ``backward`` writes each
gradient into its array in place, so an optimizer built once over ``parameters()`` sees every new
gradient, and ``step()`` changes each parameter array in place. Only numpy (see the handout).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Pair = tuple[np.ndarray, np.ndarray]  # (parameter, its gradient): two arrays of the same shape


def xavier_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Glorot/Xavier uniform weights: ``W_ij ~ U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``.

    Then ``Var(W_ij) = a² / 3 = 2 / (fan_in + fan_out)``, the compromise between keeping the
    forward variance (``1 / fan_in``) and the backward variance (``1 / fan_out``) constant, as
    ``torch.nn.init.xavier_uniform_`` does. Draw every number from ``rng`` (no global seed).
    Returns (fan_in, fan_out) float64.
    """
    # TODO backprop task 1 (xavier_uniform, he_normal): Weight initialization
    raise NotImplementedError("backprop task 1 (xavier_uniform, he_normal) is not implemented yet")


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """He (Kaiming) normal weights for ReLU layers: ``W_ij ~ N(0, 2 / fan_in)``.

    A ReLU zeroes about half of its inputs, halving their second moment; the factor 2 makes up for
    it, so activations keep their scale from layer to layer (``torch.nn.init.kaiming_normal_``,
    mode ``fan_in``). Draw every number from ``rng`` (no global seed).
    Returns (fan_in, fan_out) float64.
    """
    # TODO backprop task 1 (xavier_uniform, he_normal): Weight initialization
    raise NotImplementedError("backprop task 1 (xavier_uniform, he_normal) is not implemented yet")


class Layer:
    """Base class: a layer without parameters has none to list."""

    def parameters(self) -> list[Pair]:
        return []


class Linear(Layer):
    """The affine map ``y = x W + b``: x (N, in), W (in, out), b (out,), y (N, out).

    Backward, with ``dout = ∂L/∂y`` (N, out):
    ``∂L/∂W = xᵀ dout`` (in, out); ``∂L/∂b = Σ_n dout[n, :]`` (out,), summed over the batch because
    the same bias is added to every row; ``∂L/∂x = dout Wᵀ`` (N, in).
    """

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator | None = None):
        rng = np.random.default_rng(0) if rng is None else rng
        self.W = he_normal(in_features, out_features, rng)  # (in, out), your task 1
        self.b = np.zeros(out_features)  # (out,)
        self.dW = np.zeros_like(self.W)  # gradients: backward overwrites these very arrays
        self.db = np.zeros_like(self.b)
        self.x: np.ndarray | None = None  # the last forward's input, for backward

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` (N, in) → ``x W + b`` (N, out); remembers ``x``."""
        # TODO backprop task 2 (Linear): Linear layer
        raise NotImplementedError("backprop task 2 (Linear) is not implemented yet")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """``dout`` (N, out) → ``dx = dout Wᵀ`` (N, in).

        Writes ``xᵀ dout`` into ``self.dW`` and ``Σ_n dout[n]`` into ``self.db`` in place
        (``self.dW[...] = ...``): the same arrays every time, overwritten, never accumulated.
        """
        # TODO backprop task 2 (Linear): Linear layer
        raise NotImplementedError("backprop task 2 (Linear) is not implemented yet")

    def parameters(self) -> list[Pair]:
        """``[(W, dW), (b, db)]``: the arrays themselves, not copies."""
        return [(self.W, self.dW), (self.b, self.db)]


class ReLU(Layer):
    """``y = max(x, 0)`` elementwise, any shape. ``∂y/∂x`` is 1 where ``x > 0`` and 0 elsewhere,
    including at exactly 0 (as in PyTorch), so ``dx = dout · [x > 0]``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # TODO backprop task 3 (ReLU, Sigmoid, Tanh): Activations
        raise NotImplementedError("backprop task 3 (ReLU, Sigmoid, Tanh) is not implemented yet")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # TODO backprop task 3 (ReLU, Sigmoid, Tanh): Activations
        raise NotImplementedError("backprop task 3 (ReLU, Sigmoid, Tanh) is not implemented yet")


class Sigmoid(Layer):
    """``y = σ(x) = 1 / (1 + e^{-x})`` elementwise, any shape; ``dx = dout · y (1 - y)``. Compute σ
    without overflow for any finite x (exponentiate only ``-|x|``); keep ``y`` for backward."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # TODO backprop task 3 (ReLU, Sigmoid, Tanh): Activations
        raise NotImplementedError("backprop task 3 (ReLU, Sigmoid, Tanh) is not implemented yet")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # TODO backprop task 3 (ReLU, Sigmoid, Tanh): Activations
        raise NotImplementedError("backprop task 3 (ReLU, Sigmoid, Tanh) is not implemented yet")


class Tanh(Layer):
    """``y = tanh(x)`` elementwise, any shape; ``dx = dout · (1 - y²)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # TODO backprop task 3 (ReLU, Sigmoid, Tanh): Activations
        raise NotImplementedError("backprop task 3 (ReLU, Sigmoid, Tanh) is not implemented yet")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # TODO backprop task 3 (ReLU, Sigmoid, Tanh): Activations
        raise NotImplementedError("backprop task 3 (ReLU, Sigmoid, Tanh) is not implemented yet")


class MSELoss:
    """Mean squared error over all M elements: ``L = (1/M) Σ (pred - target)²``. ``forward(pred,
    target)`` (same shape, any) → L as a float; ``backward()`` → ``2 (pred - target) / M``."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        # TODO backprop task 4 (MSELoss): Mean squared error
        raise NotImplementedError("backprop task 4 (MSELoss) is not implemented yet")

    def backward(self) -> np.ndarray:
        # TODO backprop task 4 (MSELoss): Mean squared error
        raise NotImplementedError("backprop task 4 (MSELoss) is not implemented yet")


class SoftmaxCrossEntropy:
    """Softmax and cross-entropy in one: logits z (N, C), integer labels y (N,) in 0..C-1.

    ``L = -(1/N) Σ_n log p[n, y_n]`` with ``log p[n, c] = z[n, c] - logsumexp(z[n, :])``, and
    ``∂L/∂z = (p - onehot(y)) / N`` (N, C). Stable for any finite logits: with ``m_n = max_c z[n, c]``,
    ``logsumexp(z[n]) = m_n + log Σ_c exp(z[n, c] - m_n)``, where no exponent is positive.
    ``forward`` returns L as a float; ``backward()`` returns ∂L/∂z.
    """

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        # TODO backprop task 5 (SoftmaxCrossEntropy): Softmax cross-entropy
        raise NotImplementedError("backprop task 5 (SoftmaxCrossEntropy) is not implemented yet")

    def backward(self) -> np.ndarray:
        # TODO backprop task 5 (SoftmaxCrossEntropy): Softmax cross-entropy
        raise NotImplementedError("backprop task 5 (SoftmaxCrossEntropy) is not implemented yet")


class Sequential(Layer):
    """Layers applied in order: ``forward`` runs them first to last, ``backward`` last to first
    (the chain rule: ``dx = J_1ᵀ (J_2ᵀ (… J_Kᵀ dout))``)."""

    def __init__(self, *layers: Layer):
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        # TODO backprop task 6 (Sequential): Sequential container
        raise NotImplementedError("backprop task 6 (Sequential) is not implemented yet")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # TODO backprop task 6 (Sequential): Sequential container
        raise NotImplementedError("backprop task 6 (Sequential) is not implemented yet")

    def parameters(self) -> list[Pair]:
        """Every layer's ``parameters()`` in layer order, in one list (a Linear gives W then b)."""
        # TODO backprop task 6 (Sequential): Sequential container
        raise NotImplementedError("backprop task 6 (Sequential) is not implemented yet")


class SGD:
    """Stochastic gradient descent as ``torch.optim.SGD`` (no dampening, no Nesterov).

    For every pair (p, g), one ``step()`` does, with velocity ``v`` starting at 0::

        d = g + weight_decay · p        (L2 weight decay, added to the gradient first)
        v = momentum · v + d; d = v     (only when momentum != 0)
        p = p - lr · d                  (in place)
    """

    def __init__(self, parameters: list[Pair], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0):
        self.parameters = list(parameters)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.velocity = [np.zeros_like(p) for p, _ in self.parameters]

    def step(self) -> None:
        # TODO backprop task 7 (SGD): SGD with momentum and weight decay
        raise NotImplementedError("backprop task 7 (SGD) is not implemented yet")


class Adam:
    """Adam as ``torch.optim.Adam`` (L2 weight decay added to the gradient, bias correction).

    With moments ``m = v = 0`` and the step count ``t = 0`` at the start, one ``step()`` does
    ``t = t + 1`` once and, for every pair (p, g)::

        d = g + weight_decay · p
        m = β1 m + (1 - β1) d           v = β2 v + (1 - β2) d²
        m̂ = m / (1 - β1^t)              v̂ = v / (1 - β2^t)
        p = p - lr · m̂ / (sqrt(v̂) + eps)       (in place)
    """

    def __init__(self, parameters: list[Pair], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        self.parameters = list(parameters)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.m = [np.zeros_like(p) for p, _ in self.parameters]
        self.v = [np.zeros_like(p) for p, _ in self.parameters]
        self.t = 0

    def step(self) -> None:
        # TODO backprop task 8 (Adam): Adam
        raise NotImplementedError("backprop task 8 (Adam) is not implemented yet")


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar function ``f`` at ``x`` (any shape), entry by entry:

    ``g[i] = (f(x + eps·e_i) - f(x - eps·e_i)) / (2 eps)``, with error O(eps²) for a smooth f
    (the one-sided ``(f(x + eps·e_i) - f(x)) / eps`` has error O(eps)).

    Change one entry of ``x`` in place at a time, and put back the value saved before (adding and
    then subtracting eps need not give back the same float): on return ``x`` is exactly as it was.
    Returns a float64 array shaped like ``x``.
    """
    # TODO backprop task 9 (numerical_gradient, relative_error): Gradient checking
    raise NotImplementedError("backprop task 9 (numerical_gradient, relative_error) is not implemented yet")


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-8)`` over the entries of two same-shaped arrays.

    A gradient check passes when the analytic and the numerical gradient have a relative error
    below about 1e-6; a wrong gradient typically gives 1e-2 or more.
    """
    # TODO backprop task 9 (numerical_gradient, relative_error): Gradient checking
    raise NotImplementedError("backprop task 9 (numerical_gradient, relative_error) is not implemented yet")


def train_mlp(X: np.ndarray, y: np.ndarray, hidden: tuple[int, ...] = (64,), epochs: int = 30,
              lr: float = 0.1, seed: int = 0) -> Sequential:
    """Train a ReLU MLP classifier with mini-batch SGD; return the model (its forward gives logits).

    The model is ``Linear(D, h_1), ReLU, …, Linear(h_{k-1}, h_k), ReLU, Linear(h_k, C)`` for
    ``hidden = (h_1, …, h_k)`` and ``C = max(y) + 1`` classes, trained on the mean
    :class:`SoftmaxCrossEntropy` with ``SGD(model.parameters(), lr, momentum=0.9)``. Every epoch
    visits the samples in the order ``rng.permutation(N)``, in mini-batches of 32 (the last one may
    be smaller). All randomness comes from the one ``rng`` below: the Linear layers' weights (pass
    it to each ``Linear``) and the orders.

    Args:
        X: (N, D) inputs. y: (N,) int labels in 0..C-1. hidden: widths of the hidden layers.
        epochs: passes over the data. lr: SGD's learning rate. seed: the generator's seed.

    Returns the trained :class:`Sequential`; ``model.forward(X_new)`` gives (n, C) logits.
    """
    rng = np.random.default_rng(seed)
    # TODO backprop task 10 (train_mlp): Train an MLP
    raise NotImplementedError("backprop task 10 (train_mlp) is not implemented yet")
