"""Week 6's oracle: PyTorch's own operators and distributions, in float64, for every comparison.

- the KL divergence from ``torch.distributions.kl_divergence`` of two ``Independent(Normal)``;
- the Bernoulli log-likelihood from ``torch.nn.functional.binary_cross_entropy_with_logits``
  (negated, summed over pixels);
- the Gaussian log-densities of the importance weights from ``torch.distributions.Normal``;
- the VAE itself with ``torch.nn.functional.linear`` and ``relu`` on the weights the grader chose
  (or received from the student's trained model, for the held-out measurement).

Every function takes and returns numpy arrays (float64) and works on the CPU; gradients come from
autograd. This module imports torch only inside its functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The stencil's layers, in order, and their (input, output) sizes for (x_dim, z_dim, hidden).
LAYER_SHAPES = {
    "enc_hidden": lambda x, z, h: (x, h),
    "enc_mu": lambda x, z, h: (h, z),
    "enc_logvar": lambda x, z, h: (h, z),
    "dec_hidden": lambda x, z, h: (z, h),
    "dec_out": lambda x, z, h: (h, x),
}


def _t(a: Any, grad: bool = False):
    import torch

    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def state_shapes(x_dim: int, z_dim: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """``{parameter name: shape}`` of the stencil's VAE (``nn.Linear`` weights are (out, in))."""
    shapes = {}
    for name, size in LAYER_SHAPES.items():
        n_in, n_out = size(x_dim, z_dim, hidden)
        shapes[f"{name}.weight"] = (n_out, n_in)
        shapes[f"{name}.bias"] = (n_out,)
    return shapes


def random_state(g: np.random.Generator, x_dim: int, z_dim: int, hidden: int,
                 scale: float = 1.0) -> dict[str, np.ndarray]:
    """Weights ~ N(0, scale² / fan_in), biases ~ N(0, 0.1²), float32 (they travel to the worker)."""
    state = {}
    for name, shape in state_shapes(x_dim, z_dim, hidden).items():
        std = scale / math.sqrt(shape[1]) if name.endswith("weight") else 0.1
        state[name] = (std * g.standard_normal(shape)).astype(np.float32)
    return state


class Model:
    """The stencil's VAE on given weights, in float64 (differentiable through ``params``)."""

    def __init__(self, state: dict[str, Any], grad: bool = False):
        self.params = {k: _t(v, grad) for k, v in state.items()}

    def _linear(self, name: str, x):
        import torch.nn.functional as F

        return F.linear(x, self.params[f"{name}.weight"], self.params[f"{name}.bias"])

    def encode(self, x):
        import torch

        h = torch.relu(self._linear("enc_hidden", x))
        return self._linear("enc_mu", h), self._linear("enc_logvar", h)

    def decode(self, z):
        import torch

        return self._linear("dec_out", torch.relu(self._linear("dec_hidden", z)))

    def forward(self, x, eps):
        import torch

        moments = self.encode(x)  # (mean, log-variance) of q(z|x)
        mu, logvar = moments
        return self.decode(mu + torch.exp(0.5 * logvar) * eps), mu, logvar


def encode(state: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch

    with torch.no_grad():
        mu, logvar = Model(state).encode(_t(x))
    return mu.numpy(), logvar.numpy()


def decode(state: dict, z: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return Model(state).decode(_t(z)).numpy()


def forward(state: dict, x: np.ndarray, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import torch

    with torch.no_grad():
        return tuple(t.numpy() for t in Model(state).forward(_t(x), _t(eps)))


# --- the three closed forms -------------------------------------------------------------------

def _kl(mu, logvar):
    from torch.distributions import Independent, Normal, kl_divergence

    q = Independent(Normal(mu, (0.5 * logvar).exp()), 1)
    p = Independent(Normal(mu.new_zeros(mu.shape), mu.new_ones(mu.shape)), 1)
    return kl_divergence(q, p)


def _log_likelihood(x, logits):
    import torch.nn.functional as F

    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def kl_standard_normal(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """(N,) KL(N(mu, exp(logvar)) ‖ N(0, I)) from ``torch.distributions.kl_divergence``."""
    import torch

    with torch.no_grad():
        return _kl(_t(mu), _t(logvar)).numpy()


def kl_grads(mu: np.ndarray, logvar: np.ndarray, upstream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Autograd of ``Σ KL · upstream`` with respect to ``mu`` and ``logvar``."""
    mu_t, lv_t = _t(mu, True), _t(logvar, True)
    (_kl(mu_t, lv_t) * _t(upstream)).sum().backward()
    return mu_t.grad.numpy().copy(), lv_t.grad.numpy().copy()


def reparameterize(mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """``mu + exp(logvar / 2) · eps`` (broadcast)."""
    return np.asarray(mu, np.float64) + np.exp(0.5 * np.asarray(logvar, np.float64)) * eps


def reparameterize_grads(mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray,
                         upstream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed form of the gradients of ``Σ z · upstream``: ``upstream`` and ``upstream · σ · eps / 2``
    (summed over a leading sample axis when ``eps`` has one)."""
    sigma = np.exp(0.5 * np.asarray(logvar, np.float64))
    d_mu, d_logvar = np.asarray(upstream, np.float64), upstream * sigma * eps * 0.5
    if d_mu.ndim == np.ndim(mu) + 1:
        d_mu, d_logvar = d_mu.sum(axis=0), d_logvar.sum(axis=0)
    return d_mu, d_logvar


def bernoulli_log_likelihood(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """(N,) ``−Σ_d BCEWithLogits(l_d, x_d)``."""
    import torch

    with torch.no_grad():
        return _log_likelihood(_t(x), _t(logits)).numpy()


def bernoulli_grad(x: np.ndarray, logits: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    """Autograd of ``Σ log p(x | l) · upstream`` with respect to the logits: ``(x − σ(l)) · up``."""
    lt = _t(logits, True)
    (_log_likelihood(_t(x), lt) * _t(upstream)).sum().backward()
    return lt.grad.numpy().copy()


# --- the bounds -------------------------------------------------------------------------------

def _negative_elbo(model: Model, x, eps, beta: float):
    logits, mu, logvar = model.forward(x, eps)
    return (-_log_likelihood(x, logits) + beta * _kl(mu, logvar)).mean()


def negative_elbo(state: dict, x: np.ndarray, eps: np.ndarray, beta: float) -> float:
    """The batch mean of ``−log p(x | z) + β KL``, with ``z = mu + σ eps``."""
    import torch

    with torch.no_grad():
        return float(_negative_elbo(Model(state), _t(x), _t(eps), beta))


def negative_elbo_grads(state: dict, x: np.ndarray, eps: np.ndarray, beta: float) -> dict[str, np.ndarray]:
    """Autograd of :func:`negative_elbo` with respect to every parameter."""
    model = Model(state, grad=True)
    _negative_elbo(model, _t(x), _t(eps), beta).backward()
    return {k: p.grad.numpy().copy() for k, p in model.params.items()}


def forward_grads(state: dict, x: np.ndarray, eps: np.ndarray, upstream: tuple) -> dict[str, np.ndarray]:
    """Autograd of ``Σ logits · u0 + Σ mu · u1 + Σ logvar · u2`` through the VAE's forward."""
    model = Model(state, grad=True)
    outs = model.forward(_t(x), _t(eps))
    sum(((o * _t(u)).sum() for o, u in zip(outs, upstream))).backward()
    return {k: p.grad.numpy().copy() for k, p in model.params.items()}


#: Noise samples per block in :func:`log_weights` (keeps the grader's memory small for large K).
SAMPLES_PER_BLOCK = 128


def log_weights(state: dict, x: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """(K, N) ``log p(x | z_i) + log p(z_i) − log q(z_i | x)`` with ``z_i = mu + σ eps[i]``; the
    Gaussian densities from ``torch.distributions.Normal``."""
    import torch
    from torch.distributions import Normal

    model = Model(state)
    blocks = []
    with torch.no_grad():
        xt = _t(x)  # (N, D)
        mu, logvar = model.encode(xt)
        sigma = (0.5 * logvar).exp()
        for start in range(0, len(eps), SAMPLES_PER_BLOCK):
            z = mu + sigma * _t(eps[start:start + SAMPLES_PER_BLOCK])  # (k, N, Z)
            logits = model.decode(z)  # (k, N, D)
            log_px = _log_likelihood(xt.expand(logits.shape), logits)
            log_pz = Normal(torch.zeros_like(z), torch.ones_like(z)).log_prob(z).sum(-1)
            log_qz = Normal(mu, sigma).log_prob(z).sum(-1)
            blocks.append((log_px + log_pz - log_qz).numpy())
    return np.concatenate(blocks)


def iwae(state: dict, x: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """(N,) ``logsumexp_i log w_i − log K`` for the K noise samples ``eps`` (K, N, Z)."""
    import torch

    lw = torch.from_numpy(log_weights(state, x, eps))
    return (torch.logsumexp(lw, dim=0) - math.log(lw.shape[0])).numpy()


def torch_noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """``torch.randn(shape, generator=torch.Generator().manual_seed(seed))`` (float32) as the handout
    specifies the noise of ``iwae_bound`` and ``sample``."""
    import torch

    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)).numpy()


def sigmoid(a: np.ndarray) -> np.ndarray:
    import torch

    return torch.sigmoid(_t(a)).numpy()
