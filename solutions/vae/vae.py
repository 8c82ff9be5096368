"""Week 6: a variational autoencoder (VAE) for the binarized 8×8 digits, in PyTorch.

Each function's docstring is its specification: the math, the shapes, and what it returns. Every
``raise NotImplementedError`` marks one task of the handout; replace it with your code.

The model (Kingma & Welling 2014, "Auto-Encoding Variational Bayes"): a latent code z ∈ R^Z has the
prior p(z) = N(0, I); a decoder maps z to one logit per pixel, and the D = 64 binary pixels are
independent Bernoulli variables given z: p(x | z) = Π_d σ(l_d)^{x_d} (1 − σ(l_d))^{1 − x_d}. An
encoder maps x to a diagonal Gaussian q(z | x) = N(μ(x), diag(exp(logvar(x)))) that approximates
the posterior. Training maximizes the evidence lower bound (ELBO) on log p(x):

    log p(x) ≥ ELBO(x) = E_{z ~ q(z|x)}[log p(x | z)] − KL(q(z | x) ‖ p(z)).

Conventions: every tensor is torch float32; a batch ``x`` is (N, D) with entries 0.0 or 1.0; ``mu``,
``logvar`` and the noise ``eps`` are (N, Z); logits are (N, D). ``logvar`` is the natural logarithm
of the variance σ², so σ = exp(logvar / 2). Log-likelihoods and KL divergences are in nats (natural
logarithms), summed over pixels and latent dimensions. Randomness comes only from the noise passed
in or from generators seeded with the ``seed`` arguments, exactly as each docstring says. Functions
return their results and leave their arguments unchanged. Load no data in this file: the grader
passes the training data to :func:`train_vae` and keeps the evaluation data to itself.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: Examples per gradient step of train_vae, and Adam's learning rate.
BATCH_SIZE = 64
LEARNING_RATE = 3e-3
LOG_2PI = math.log(2.0 * math.pi)


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q ‖ p) between q = N(mu, diag(exp(logvar))) and p = N(0, I), one value per row.

    In closed form (Kingma & Welling 2014, appendix B), summed (not averaged) over the Z latent
    dimensions:

        KL_n = ½ Σ_j ( exp(logvar_nj) + mu_nj² − 1 − logvar_nj ).

    It is 0 exactly when mu = 0 and logvar = 0, and positive otherwise. It must be differentiable
    (torch operations only): the ELBO's gradient flows through it.

    Args:
        mu: (N, Z) means. logvar: (N, Z) log-variances.

    Returns:
        (N,) float32 tensor, in nats.
    """
    ### BEGIN SOLUTION
    return 0.5 * torch.sum(torch.exp(logvar) + mu * mu - 1.0 - logvar, dim=1)
    ### END SOLUTION


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """The reparameterization trick: a sample of N(mu, diag(exp(logvar))) from standard noise,

        z = mu + σ · eps,   σ = exp(logvar / 2),

    written so that gradients flow to ``mu`` (∂z/∂mu = 1) and ``logvar`` (∂z/∂logvar = σ · eps / 2).
    The noise ``eps`` ~ N(0, I) is passed in, so the result is deterministic. Shapes broadcast as
    torch does: ``mu`` and ``logvar`` (N, Z) with ``eps`` (N, Z) or (K, N, Z) give (N, Z) or (K, N, Z).

    Returns:
        ``z``, float32, of the broadcast shape.
    """
    ### BEGIN SOLUTION
    return mu + torch.exp(0.5 * logvar) * eps
    ### END SOLUTION


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x | logits) of independent Bernoulli pixels with P(x_d = 1) = σ(l_d), one value per row.

        log p(x | l) = Σ_d [ x_d log σ(l_d) + (1 − x_d) log(1 − σ(l_d)) ]
                     = Σ_d [ x_d l_d − softplus(l_d) ],   softplus(l) = log(1 + e^l).

    Stable for any finite logits, ±1e4 included: the value and its gradient (x_d − σ(l_d)) must be
    finite. Do not form σ(l) and take its logarithm (σ(l) rounds to exactly 0 or 1 for large |l|);
    ``torch.nn.functional.softplus``, or ``max(l, 0) + log1p(exp(−|l|))``, is stable.

    Args:
        x: (N, D) pixels, 0.0 or 1.0. logits: (N, D) real numbers (not probabilities).

    Returns:
        (N,) float32 tensor, in nats (≤ 0).
    """
    ### BEGIN SOLUTION
    return torch.sum(x * logits - F.softplus(logits), dim=1)
    ### END SOLUTION


class VAE(nn.Module):
    """A Gaussian encoder and a Bernoulli decoder, each with one hidden layer of ``hidden`` ReLUs:

        encode:  h = relu(enc_hidden(x)),   mu = enc_mu(h),   logvar = enc_logvar(h)
        decode:  logits = dec_out(relu(dec_hidden(z)))

    where each named layer is the ``nn.Linear`` that ``__init__`` creates. Keep ``__init__`` as it
    is: the grader loads weights by these names (``enc_hidden.weight``, …) and computes what your
    model's parameters say. ``encode``, ``decode`` and ``forward`` are pure functions of their
    inputs and the parameters (no state kept between calls).
    """

    def __init__(self, x_dim: int = 64, z_dim: int = 8, hidden: int = 128):
        super().__init__()
        self.x_dim, self.z_dim, self.hidden = x_dim, z_dim, hidden
        self.enc_hidden = nn.Linear(x_dim, hidden)
        self.enc_mu = nn.Linear(hidden, z_dim)
        self.enc_logvar = nn.Linear(hidden, z_dim)
        self.dec_hidden = nn.Linear(z_dim, hidden)
        self.dec_out = nn.Linear(hidden, x_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` (N, x_dim) → ``(mu, logvar)``, each (N, z_dim): q(z | x)'s mean and log-variance."""
        ### BEGIN SOLUTION
        h = torch.relu(self.enc_hidden(x))  # (N, hidden)
        return self.enc_mu(h), self.enc_logvar(h)
        ### END SOLUTION

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` (N, z_dim) → (N, x_dim) logits of p(x | z) (not probabilities: no sigmoid)."""
        ### BEGIN SOLUTION
        return self.dec_out(torch.relu(self.dec_hidden(z)))
        ### END SOLUTION

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(logits, mu, logvar)``: encode ``x``, draw ``z`` = :func:`reparameterize` (mu, logvar,
        eps) with the given noise ``eps`` (N, z_dim), and decode ``z`` to (N, x_dim) logits."""
        ### BEGIN SOLUTION
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, eps)), mu, logvar
        ### END SOLUTION


def negative_elbo(model: nn.Module, x: torch.Tensor, eps: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """The training loss: the batch mean of the negative (β-weighted) ELBO, one noise sample each,

        loss = (1/N) Σ_n [ −log p(x_n | z_n) + β · KL(q(z | x_n) ‖ N(0, I)) ],

    with ``(logits, mu, logvar) = model(x, eps)`` (so z_n = mu_n + σ_n · eps_n), the log-likelihood
    of :func:`bernoulli_log_likelihood` on the logits and the KL of :func:`kl_standard_normal`, both
    summed over dimensions; averaged (not summed) over the batch. β = 1 gives the VAE; β > 1 (the
    β-VAE of Higgins et al. 2017) weights the KL more. Differentiable with respect to the model's
    parameters (use only torch operations; no ``.item()`` or numpy inside).

    Args:
        model: a :class:`VAE` (anything with its ``encode``, ``decode`` and ``forward``).
        x: (N, x_dim) binary pixels. eps: (N, z_dim) standard normal noise. beta: the KL's weight.

    Returns:
        a float32 scalar tensor (shape ()), in nats per example.
    """
    ### BEGIN SOLUTION
    logits, mu, logvar = model(x, eps)
    per_example = -bernoulli_log_likelihood(x, logits) + beta * kl_standard_normal(mu, logvar)
    return per_example.mean()
    ### END SOLUTION


def iwae_bound(model: nn.Module, x: torch.Tensor, k: int, seed: int = 0) -> torch.Tensor:
    """The importance-weighted bound (Burda et al. 2016) on log p(x_n) with ``k`` samples, per row:

        L_k(x) = log (1/k) Σ_{i=1..k} w_i,    w_i = p(x | z_i) p(z_i) / q(z_i | x),  z_i ~ q(z | x),

    computed in log space as logsumexp_i(log w_i) − log k (``torch.logsumexp``; exponentiating
    log w ≈ −30 would underflow), with the Gaussian log-densities in full:

        log p(z)     = −½ Σ_j (z_j² + log 2π),
        log q(z | x) = −½ Σ_j ((z_j − mu_j)² / σ_j² + logvar_j + log 2π).

    The noise is ``eps = torch.randn((k, N, z_dim), generator=torch.Generator().manual_seed(seed))``,
    drawn once (sample i of row n is ``z_i = reparameterize(mu_n, logvar_n, eps[i, n])``) and the
    same ``z_i`` appears in p(x | z_i), p(z_i) and q(z_i | x). With k = 1 the bound is the
    single-sample estimate log p(x | z) + log p(z) − log q(z | x) of the ELBO; E[L_k] grows with k
    towards log p(x). An evaluation: no gradients are needed (``torch.no_grad()``).

    Args:
        model: a :class:`VAE`. x: (N, x_dim) binary pixels. k: samples per row (≥ 1).
        seed: the seed of the noise's generator.

    Returns:
        (N,) float32 tensor, in nats.
    """
    ### BEGIN SOLUTION
    n = x.shape[0]
    with torch.no_grad():
        mu, logvar = model.encode(x)  # (N, Z) each
        eps = torch.randn((k, n, mu.shape[1]), generator=torch.Generator().manual_seed(seed))
        z = reparameterize(mu, logvar, eps)  # (k, N, Z)
        logits = model.decode(z.reshape(k * n, -1))  # (k·N, D)
        log_px_z = bernoulli_log_likelihood(x.repeat(k, 1), logits).reshape(k, n)
        log_pz = -0.5 * torch.sum(z * z + LOG_2PI, dim=2)  # (k, N)
        log_qz = -0.5 * torch.sum(eps * eps + logvar + LOG_2PI, dim=2)  # (z − mu) / σ = eps
        log_w = log_px_z + log_pz - log_qz  # (k, N)
        return torch.logsumexp(log_w, dim=0) - math.log(k)
    ### END SOLUTION


def train_vae(X: torch.Tensor, epochs: int = 50, seed: int = 0) -> VAE:
    """Train ``VAE()`` (the default sizes: x_dim=64, z_dim=8, hidden=128) on ``X``; return it.

    Minimize :func:`negative_elbo` (β = 1) with ``torch.optim.Adam``, over ``epochs`` passes through
    ``X`` in shuffled mini-batches, each with fresh noise ``eps`` ~ N(0, I). Use only the data given
    and make the run reproducible: seed with ``seed`` (``torch.manual_seed(seed)`` before creating
    the model, and a ``torch.Generator().manual_seed(seed)`` for the orders and the noise).

    The grader calls ``train_vae(X_train, epochs=50, seed=0)`` on the training split of the
    binarized digits and measures the returned model's negative ELBO on held-out digits itself; the
    whole call runs on one CPU core within the handout's time limit.

    Args:
        X: (N, 64) float32 binary pixels. epochs: passes over the data. seed: the seed.

    Returns:
        the trained :class:`VAE`.
    """
    ### BEGIN SOLUTION
    X = torch.as_tensor(X, dtype=torch.float32)
    torch.manual_seed(seed)
    model = VAE()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), BATCH_SIZE):
            batch = X[order[start:start + BATCH_SIZE]]
            eps = torch.randn((len(batch), model.z_dim), generator=generator)
            optimizer.zero_grad()
            loss = negative_elbo(model, batch, eps)
            loss.backward()
            optimizer.step()
    model.eval()
    return model
    ### END SOLUTION


def sample(model: nn.Module, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` new digits from the model: z ~ N(0, I), then each pixel's probability σ(decode(z)).

    The codes are ``z = torch.randn((n, model.z_dim), generator=torch.Generator().manual_seed(seed))``;
    no gradients are needed.

    Returns:
        (n, x_dim) float32 tensor of pixel probabilities in [0, 1].
    """
    ### BEGIN SOLUTION
    z = torch.randn((n, model.z_dim), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return torch.sigmoid(model.decode(z))
    ### END SOLUTION


def interpolate(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor, steps: int) -> torch.Tensor:
    """Decode the straight line between two images' latent means.

    With ``mu1`` and ``mu2`` the encoder's means of ``x1`` and ``x2`` (``model.encode``; the
    log-variances are not used) and ``t_s = s / (steps − 1)`` for s = 0 … steps − 1
    (``torch.linspace(0, 1, steps)``), row s is the pixel probabilities σ(decode(z_s)) of

        z_s = (1 − t_s) · mu1 + t_s · mu2,

    so the first row decodes ``mu1`` and the last ``mu2``. No gradients are needed.

    Args:
        model: a :class:`VAE`. x1, x2: (x_dim,) binary images. steps: number of points (≥ 2).

    Returns:
        (steps, x_dim) float32 tensor of pixel probabilities in [0, 1].
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        mu, _ = model.encode(torch.stack([x1.reshape(-1), x2.reshape(-1)]))  # (2, Z)
        t = torch.linspace(0.0, 1.0, steps).unsqueeze(1)  # (steps, 1)
        z = (1.0 - t) * mu[0] + t * mu[1]  # (steps, Z)
        return torch.sigmoid(model.decode(z))
    ### END SOLUTION
