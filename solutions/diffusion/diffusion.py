"""Week 7: a denoising diffusion model (DDPM, Ho et al. 2020) for points in the plane, in PyTorch.

Timesteps are 0-based, as in the code of Ho et al. and of Nichol & Dhariwal: the clean data x0 is
noised by steps t = 0 … T−1, step t adding noise of variance β_t; after step t the data is
x_t ~ q(x_t | x0) = N(√ᾱ_t x0, (1 − ᾱ_t) I), with α_t = 1 − β_t and ᾱ_t = ∏_{s ≤ t} α_s. Before
step 0 there is only the clean data: ᾱ_{−1} = 1. A network ε_θ(x_t, t) learns to predict the noise,
and the reverse process turns pure noise into data, t = T−1 down to 0 (the step at t = 0 gives the
clean data).

Each function's docstring is its specification. Every ``raise NotImplementedError`` marks one task
of the handout. Arrays are torch tensors: schedules float64 (T,), data (N, D) with D the data
dimension, timesteps int64. Where a docstring says "in x's dtype", coefficients taken from a
float64 schedule are converted to that dtype before they multiply; with float64 inputs everything
stays float64 (the graders compare float64 results to about 1e-7, relative).
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: train_diffusion's optimization: mini-batch size and Adam's initial learning rate.
BATCH_SIZE = 256
LEARNING_RATE = 2e-3


def linear_beta_schedule(T: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """Ho et al.'s linear schedule: β_t = beta_start + (beta_end − beta_start) · t / (T − 1).

    Returns (T,) float64 with β_0 = beta_start and β_{T−1} = beta_end (T ≥ 2).
    """
    ### BEGIN SOLUTION
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    ### END SOLUTION


def cosine_beta_schedule(T: int, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal's cosine schedule (Improved DDPM, 2021, eq. 17), 0-based.

    With f(u) = cos²((u + s) / (1 + s) · π/2) the target is ᾱ_t = f((t + 1)/T) / f(0), so
    β_t = min(1 − f((t + 1)/T) / f(t/T), 0.999) for t = 0 … T−1. The clip at 0.999 keeps the last
    steps from β = 1 (f(1) = 0), which would make the reverse process divide by zero.

    Returns (T,) float64.
    """
    ### BEGIN SOLUTION
    u = torch.arange(T + 1, dtype=torch.float64) / T  # (T + 1,): 0, 1/T, …, 1
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return torch.clamp(1 - f[1:] / f[:-1], max=0.999)
    ### END SOLUTION


def alpha_bars(betas: torch.Tensor) -> torch.Tensor:
    """ᾱ_t = ∏_{s=0}^{t} (1 − β_s) for t = 0 … T−1 (so ᾱ_0 = 1 − β_0). Returns betas' shape and dtype."""
    ### BEGIN SOLUTION
    return torch.cumprod(1 - betas, dim=0)
    ### END SOLUTION


def _per_row(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(N,) coefficients as (N, 1, …) in ``like``'s dtype, to broadcast over the rest of ``like``."""
    return values.to(like.dtype).reshape(-1, *([1] * (like.dim() - 1)))


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """Forward noising, a draw of q(x_t | x_0): x_t = √ᾱ_t · x0 + √(1 − ᾱ_t) · noise, row by row.

    x0 and noise (N, D); t (N,) int64, each row's own timestep; alpha_bar (T,). Returns (N, D) in
    x0's dtype.
    """
    ### BEGIN SOLUTION
    ab = _per_row(alpha_bar[t], x0)  # (N, 1)
    return torch.sqrt(ab) * x0 + torch.sqrt(1 - ab) * noise
    ### END SOLUTION


def posterior_mean_variance(x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor, betas: torch.Tensor
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of the forward process's posterior q(x_{t−1} | x_t, x_0), row by row.

        mean = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x0  +  √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · xt
        var  = β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t

    with ᾱ_{−1} = 1, so at t = 0 the mean is x0 and the variance 0 (``alpha_bar[t - 1]`` at t = 0
    would be Python's last element). ᾱ comes from betas (alpha_bars, task 1). x0 and xt (N, D);
    t (N,) int64. Returns ``(mean, var)``, both (N, D) in xt's dtype (var repeats each row's β̃_t
    along D).
    """
    ### BEGIN SOLUTION
    ab = alpha_bars(betas)
    ab_prev = torch.cat([ab.new_ones(1), ab[:-1]])  # ᾱ_{t−1}, with ᾱ_{−1} = 1
    beta, ab_t, ab_p = (_per_row(v[t], xt) for v in (betas, ab, ab_prev))
    mean = torch.sqrt(ab_p) * beta / (1 - ab_t) * x0 + torch.sqrt(1 - beta) * (1 - ab_p) / (1 - ab_t) * xt
    var = (1 - ab_p) / (1 - ab_t) * beta
    return mean, var.expand_as(xt).clone()
    ### END SOLUTION


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of integer timesteps: the sines in the first half, cosines in the second.

    With half = dim // 2 and frequencies ω_i = 10000^(−i / half) for i = 0 … half−1 (from 1 down
    towards 1/10000: week 5's positional-encoding frequencies),

        emb[n, i] = sin(t_n ω_i),  emb[n, half + i] = cos(t_n ω_i),

    and when dim is odd one last column of zeros. t (N,) int64; dim ≥ 2. Returns (N, dim) float32.
    """
    ### BEGIN SOLUTION
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)  # (half,)
    angles = t.to(torch.float64)[:, None] * freqs[None, :]  # (N, half)
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=1)
    return emb.to(torch.float32)
    ### END SOLUTION


class Denoiser(nn.Module):
    """The noise predictor ε_θ(x_t, t): an MLP on the point and its time embedding.

    ``self.data_dim = data_dim`` and ``self.net``, an ``nn.Sequential`` of exactly these layers:
    Linear(data_dim + hidden, hidden), SiLU, Linear(hidden, hidden), SiLU, Linear(hidden, hidden),
    SiLU, Linear(hidden, data_dim), so the state dict's keys are ``net.0.weight``, ``net.0.bias``,
    ``net.2.*``, ``net.4.*`` and ``net.6.*`` (the grader loads weights by these names).
    ``forward(xt, t)``: xt (N, data_dim) float32, t (N,) int64 →
    net(concat[xt, timestep_embedding(t, hidden)]) (N, data_dim) float32, the predicted noise.
    """

    def __init__(self, data_dim: int = 2, hidden: int = 128):
        super().__init__()
        ### BEGIN SOLUTION
        self.data_dim, self.hidden = data_dim, hidden
        self.net = nn.Sequential(
            nn.Linear(data_dim + hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, data_dim),
        )
        ### END SOLUTION

    def forward(self, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        features = torch.cat([xt, timestep_embedding(t, self.hidden).to(xt.dtype)], dim=1)
        return self.net(features)  # (N, data_dim)
        ### END SOLUTION


def diffusion_loss(model: nn.Module, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
                   alpha_bar: torch.Tensor) -> torch.Tensor:
    """The ε-prediction loss (Ho et al.'s L_simple) for given timesteps and noise.

    x_t = q_sample(x0, t, noise, alpha_bar); the loss is the mean over all N·D entries of
    (model(x_t, t) − noise)². Returns a 0-d tensor that gradients flow through to the model.
    """
    ### BEGIN SOLUTION
    xt = q_sample(x0, t, noise, alpha_bar)
    return torch.mean((model(xt, t) - noise) ** 2)
    ### END SOLUTION


def p_sample_step(model: nn.Module, xt: torch.Tensor, t: int, betas: torch.Tensor, noise: torch.Tensor
                  ) -> torch.Tensor:
    """One ancestral step of the reverse process, x_t → x_{t−1} (Ho et al., algorithm 2).

    With ε = model(xt, t_batch), t_batch = torch.full((N,), t, dtype=torch.int64) (every row is at
    step t, an int in 0 … T−1):

        mean = (xt − β_t / √(1 − ᾱ_t) · ε) / √α_t,      x_{t−1} = mean + √β̃_t · noise,

    the posterior mean at the predicted x_0 (not clipped) and β̃_t of posterior_mean_variance, with
    ᾱ from betas (alpha_bars, task 1). At t = 0 the result is the mean: no noise. xt and noise
    (N, D). Returns (N, D) in xt's dtype. Call the model once, without gradients.
    """
    ### BEGIN SOLUTION
    ab = alpha_bars(betas)
    with torch.no_grad():
        eps = model(xt, torch.full((xt.shape[0],), t, dtype=torch.int64))
    beta, ab_t = betas[t].to(xt.dtype), ab[t].to(xt.dtype)
    mean = (xt - beta / torch.sqrt(1 - ab_t) * eps) / torch.sqrt(1 - beta)
    if t == 0:
        return mean  # x_0 is the mean: no noise at the last step
    var = (1 - ab[t - 1].to(xt.dtype)) / (1 - ab_t) * beta  # β̃_t
    return mean + torch.sqrt(var) * noise
    ### END SOLUTION


def ddim_step(model: nn.Module, xt: torch.Tensor, t: int, t_prev: int, alpha_bar: torch.Tensor) -> torch.Tensor:
    """One deterministic DDIM step (Song et al. 2021, η = 0) from step t to step t_prev < t.

    With ε = model(xt, t_batch) as in p_sample_step and the predicted clean data
    x̂_0 = (xt − √(1 − ᾱ_t) ε) / √ᾱ_t:

        x_{t_prev} = √ᾱ_{t_prev} · x̂_0 + √(1 − ᾱ_{t_prev}) · ε,

    where t_prev may skip steps (−1 ≤ t_prev < t; t_prev = −1 uses ᾱ_{−1} = 1 and returns x̂_0).
    No randomness. Returns (N, D) in xt's dtype. Call the model once, without gradients.
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        eps = model(xt, torch.full((xt.shape[0],), t, dtype=torch.int64))
    ab_t = alpha_bar[t].to(xt.dtype)
    ab_prev = alpha_bar[t_prev].to(xt.dtype) if t_prev >= 0 else torch.ones((), dtype=xt.dtype)
    x0_hat = (xt - torch.sqrt(1 - ab_t) * eps) / torch.sqrt(ab_t)
    return torch.sqrt(ab_prev) * x0_hat + torch.sqrt(1 - ab_prev) * eps
    ### END SOLUTION


def train_diffusion(X: torch.Tensor, steps: int = 3000, T: int = 100, seed: int = 0
                    ) -> tuple[nn.Module, torch.Tensor]:
    """Train a Denoiser on the points X (N, D) float32 with the ε-prediction loss; T diffusion steps.

    Each step draws a mini-batch of rows, fresh timesteps uniform in 0 … T−1 and fresh standard
    normal noise, and takes one optimizer step on diffusion_loss. All randomness comes from
    ``torch.manual_seed(seed)`` (or a generator seeded with it), so a run is reproducible. Choose
    the schedule (its ᾱ_{T−1} must be close to 0, since sampling starts from pure noise: the cosine
    schedule, or the linear one with both ends scaled by 1000 / T) and return it. What works:
    mini-batches of 256 rows, Adam with a learning rate of 2e-3 falling to 0 along a cosine.

    The grader calls ``train_diffusion(X, steps=3000, T=100, seed=0)`` on 4,000 moons points, reads
    the returned model's weights and runs the reverse process itself: the handout's Denoiser
    architecture on those weights, fed with your timestep_embedding, and your schedule.

    Returns ``(model, betas)``: the trained Denoiser(D) (another ``hidden`` is allowed) in evaluation
    mode, and its (T,) float64 β, every β strictly between 0 and 1.
    """
    ### BEGIN SOLUTION
    X = torch.as_tensor(X, dtype=torch.float32)
    torch.manual_seed(seed)
    betas = cosine_beta_schedule(T)
    ab = alpha_bars(betas)
    model = Denoiser(X.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    # The learning rate falls to 0 along a half cosine: the last steps average out the noise.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    model.train()
    for _ in range(steps):
        x0 = X[torch.randint(0, len(X), (BATCH_SIZE,))]  # (B, D)
        t = torch.randint(0, T, (BATCH_SIZE,))  # (B,)
        noise = torch.randn_like(x0)
        loss = diffusion_loss(model, x0, t, noise, ab)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    return model, betas
    ### END SOLUTION


def sample(model: nn.Module, n: int, betas: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Ancestral sampling: x_{T−1} ~ N(0, I), then p_sample_step for t = T−1 down to 0.

    The data dimension is ``model.data_dim``; every draw (the start and each step's noise) comes
    from ``torch.Generator().manual_seed(seed)``, so the same seed gives the same points.
    Returns (n, model.data_dim) float32, without gradients.
    """
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((n, model.data_dim), generator=generator)
    for t in range(len(betas) - 1, -1, -1):
        x = p_sample_step(model, x, t, betas, torch.randn(x.shape, generator=generator))
    return x.detach().to(torch.float32)
    ### END SOLUTION
