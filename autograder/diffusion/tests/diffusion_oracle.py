"""Week 7's oracle: the closed forms every hidden test compares with, written out in numpy float64,
and the grader's own denoiser and reverse process for judging a trained model.

Nothing here comes from the reference solution. Schedules follow Ho et al. (2020, section 4) and
Nichol & Dhariwal (2021, eq. 17); the posterior is Ho et al.'s eq. 6-7, the ancestral step their
algorithm 2, the DDIM step Song et al.'s eq. 12 with σ = 0, all with 0-based timesteps and
ᾱ_{−1} = 1. ``stand_in_eps`` is the public stand-in denoiser of ``drivers_diffusion``.
"""

from __future__ import annotations

import math

import numpy as np

#: The stand-in denoiser's time scale (``drivers_diffusion.TIME_SCALE``).
STAND_IN_TIME_SCALE = 100.0


# --- schedules ---------------------------------------------------------------------------------

def linear_betas(T: int, beta_start: float, beta_end: float) -> np.ndarray:
    """β_t = beta_start + (beta_end − beta_start) t / (T − 1), t = 0 … T−1."""
    steps = np.arange(T, dtype=np.float64)
    return beta_start + (beta_end - beta_start) * steps / (T - 1)


def cosine_betas(T: int, s: float) -> np.ndarray:
    """β_t = min(1 − f((t+1)/T) / f(t/T), 0.999) with f(u) = cos²(π/2 · (u + s)/(1 + s))."""
    def f(u: np.ndarray) -> np.ndarray:
        return np.cos(0.5 * math.pi * (u + s) / (1.0 + s)) ** 2

    steps = np.arange(T, dtype=np.float64)
    return np.minimum(1.0 - f((steps + 1) / T) / f(steps / T), 0.999)


def cumulative_alphas(betas: np.ndarray) -> np.ndarray:
    """ᾱ_t = ∏_{s ≤ t} (1 − β_s)."""
    return np.cumprod(1.0 - np.asarray(betas, dtype=np.float64))


def previous_alphas(alpha_bar: np.ndarray, t: np.ndarray) -> np.ndarray:
    """ᾱ_{t−1} for each entry of t, with ᾱ_{−1} = 1."""
    t = np.asarray(t)
    return np.where(t > 0, alpha_bar[np.maximum(t - 1, 0)], 1.0)


# --- forward process and posterior -------------------------------------------------------------

def noised(x0: np.ndarray, t: np.ndarray, noise: np.ndarray, alpha_bar: np.ndarray) -> np.ndarray:
    """x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε, row n at its own t_n."""
    a = alpha_bar[t][:, None]
    return np.sqrt(a) * x0 + np.sqrt(1.0 - a) * noise


def posterior(x0: np.ndarray, xt: np.ndarray, t: np.ndarray, betas: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance (both (N, D)) of q(x_{t−1} | x_t, x_0)."""
    alpha_bar = cumulative_alphas(betas)
    a_t, a_prev, b = alpha_bar[t][:, None], previous_alphas(alpha_bar, t)[:, None], betas[t][:, None]
    coef_x0 = b * np.sqrt(a_prev) / (1.0 - a_t)
    coef_xt = (1.0 - a_prev) * np.sqrt(1.0 - b) / (1.0 - a_t)
    variance = b * (1.0 - a_prev) / (1.0 - a_t)
    return coef_x0 * x0 + coef_xt * xt, np.broadcast_to(variance, xt.shape).copy()


# --- time embedding and the denoiser ------------------------------------------------------------

def embedding(t: np.ndarray, dim: int) -> np.ndarray:
    """[sin(t ω_i) | cos(t ω_i)] with ω_i = 10000^(−i/half), half = dim // 2, zero column if odd."""
    half = dim // 2
    omega = 10000.0 ** (-np.arange(half, dtype=np.float64) / half)
    phase = np.outer(np.asarray(t, dtype=np.float64), omega)  # (N, half)
    out = np.zeros((len(phase), dim))
    out[:, :half], out[:, half:2 * half] = np.sin(phase), np.cos(phase)
    return out


#: The denoiser's state-dict entries, in order: (name, shape as a function of data_dim D and hidden H).
DENOISER_LAYERS = (("net.0", lambda D, H: (H, D + H)), ("net.2", lambda D, H: (H, H)),
                   ("net.4", lambda D, H: (H, H)), ("net.6", lambda D, H: (D, H)))


def denoiser_shapes(data_dim: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """The promised state dict of ``Denoiser(data_dim, hidden)``: name → shape."""
    shapes = {}
    for name, shape in DENOISER_LAYERS:
        rows_cols = shape(data_dim, hidden)
        shapes[f"{name}.weight"], shapes[f"{name}.bias"] = rows_cols, rows_cols[:1]
    return shapes


def _silu(z: np.ndarray) -> np.ndarray:
    return z / (1.0 + np.exp(-z))


def denoiser(state: dict[str, np.ndarray], xt: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The handout's MLP in float64: three SiLU layers on concat[xt, features], then a linear one."""
    h = np.concatenate([xt, features], axis=1)
    for k, (name, _) in enumerate(DENOISER_LAYERS):
        h = h @ np.asarray(state[f"{name}.weight"], dtype=np.float64).T + np.asarray(state[f"{name}.bias"])
        if k < len(DENOISER_LAYERS) - 1:
            h = _silu(h)
    return h


def random_denoiser_state(data_dim: int, hidden: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Float32 weights of the promised shapes, scaled like PyTorch's default initialization."""
    state = {}
    for name, shape in denoiser_shapes(data_dim, hidden).items():
        fan_in = denoiser_shapes(data_dim, hidden)[name.replace(".bias", ".weight")][1]
        state[name] = (rng.uniform(-1.0, 1.0, shape) / math.sqrt(fan_in)).astype(np.float32)
    return state


# --- the stand-in denoiser and the sampling steps ----------------------------------------------

def stand_in_params(data_dim: int, rng: np.random.Generator, scale: float = 0.5) -> dict[str, np.ndarray]:
    """Weights for the stand-in: W (D, D), b (D,), u (D,)."""
    return {"weight": scale * rng.standard_normal((data_dim, data_dim)),
            "bias": scale * rng.standard_normal(data_dim), "time_weight": rng.standard_normal(data_dim)}


def stand_in_eps(params: dict, xt: np.ndarray, t: int | np.ndarray) -> np.ndarray:
    """ε̂(x, t) = x Wᵀ + b + (t / 100) u."""
    steps = np.broadcast_to(np.asarray(t, dtype=np.float64), (len(xt),))[:, None]
    return xt @ params["weight"].T + params["bias"] + steps / STAND_IN_TIME_SCALE * params["time_weight"]


def ancestral_step(eps: np.ndarray, xt: np.ndarray, t: int, betas: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) ε) / √α_t + √β̃_t z, with no noise at t = 0."""
    alpha_bar = cumulative_alphas(betas)
    b, a_t = betas[t], alpha_bar[t]
    mean = (xt - eps * b / math.sqrt(1.0 - a_t)) / math.sqrt(1.0 - b)
    if t == 0:
        return mean
    return mean + math.sqrt(b * (1.0 - alpha_bar[t - 1]) / (1.0 - a_t)) * noise


def ddim(eps: np.ndarray, xt: np.ndarray, t: int, t_prev: int, alpha_bar: np.ndarray) -> np.ndarray:
    """x_{t_prev} = √ᾱ_{t_prev} x̂_0 + √(1 − ᾱ_{t_prev}) ε with x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t."""
    a_t = alpha_bar[t]
    a_prev = alpha_bar[t_prev] if t_prev >= 0 else 1.0
    predicted_x0 = (xt - math.sqrt(1.0 - a_t) * eps) / math.sqrt(a_t)
    return math.sqrt(a_prev) * predicted_x0 + math.sqrt(1.0 - a_prev) * eps


def stand_in_sample_moments(params: dict, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of ancestral sampling's output with the (linear) stand-in.

    x_{T−1} ~ N(0, I); each step is affine in x_t plus independent Gaussian noise, so the output is
    Gaussian: x_{t−1} = M_t x_t + c_t + σ_t z with M_t = (I − k_t W) / √α_t, k_t = β_t / √(1 − ᾱ_t),
    c_t = −k_t (b + (t/100) u) / √α_t and σ_t² = β̃_t (0 at t = 0).
    """
    W, b, u = params["weight"], params["bias"], params["time_weight"]
    D, T = W.shape[0], len(betas)
    alpha_bar = cumulative_alphas(betas)
    mean, cov = np.zeros(D), np.eye(D)
    for t in range(T - 1, -1, -1):
        k = betas[t] / math.sqrt(1.0 - alpha_bar[t])
        root_alpha = math.sqrt(1.0 - betas[t])
        M = (np.eye(D) - k * W) / root_alpha
        mean = M @ mean - k * (b + t / STAND_IN_TIME_SCALE * u) / root_alpha
        variance = 0.0 if t == 0 else betas[t] * (1.0 - alpha_bar[t - 1]) / (1.0 - alpha_bar[t])
        cov = M @ cov @ M.T + variance * np.eye(D)
    return mean, cov


# --- judging a trained model -------------------------------------------------------------------

def sample_trained(state: dict[str, np.ndarray], features: np.ndarray, betas: np.ndarray, n: int,
                   seed: int) -> np.ndarray:
    """Ancestral sampling, run by the grader, with the student's weights and time features.

    ``features`` (T, H) is the time embedding the student's denoiser feeds its first layer (row t
    for step t). Float32 torch for speed (one thread, no gradients); noise from the grader's seed.
    Returns (n, D) float64; NaN or infinity where the process diverged.
    """
    import torch

    weights = [(torch.as_tensor(np.asarray(state[f"{name}.weight"], dtype=np.float32)),
                torch.as_tensor(np.asarray(state[f"{name}.bias"], dtype=np.float32)))
               for name, _ in DENOISER_LAYERS]
    D = weights[-1][0].shape[0]
    noise_source = torch.Generator().manual_seed(seed)
    table = torch.as_tensor(np.asarray(features, dtype=np.float32))
    x = torch.randn((n, D), generator=noise_source, dtype=torch.float32)
    with torch.no_grad():
        for step in reversed(range(len(betas))):  # T − 1 down to 0
            h = torch.cat([x, table[step].expand(n, -1)], dim=1)
            for k, (weight, bias) in enumerate(weights):
                h = torch.nn.functional.linear(h, weight, bias)
                h = torch.nn.functional.silu(h) if k < len(weights) - 1 else h
            z = torch.randn((n, D), generator=noise_source, dtype=torch.float32)
            x_next = ancestral_step(h.double().numpy(), x.double().numpy(), step, betas, z.double().numpy())
            x = torch.as_tensor(x_next, dtype=torch.float32)
    return x.double().numpy()


def energy_distance(a: np.ndarray, b: np.ndarray) -> float:
    """2 E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖ (V-statistics) between two samples (n, D) and (m, D)."""
    def mean_distance(p: np.ndarray, q: np.ndarray) -> float:
        squared = (p * p).sum(1)[:, None] + (q * q).sum(1)[None, :] - 2.0 * p @ q.T
        return float(np.sqrt(np.maximum(squared, 0.0)).mean())

    return 2.0 * mean_distance(a, b) - mean_distance(a, a) - mean_distance(b, b)
