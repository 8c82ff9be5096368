"""Week 5's oracle: PyTorch's own operators and modules, in float64, for everything the graders compare.

Attention comes from ``F.scaled_dot_product_attention`` (its weights from the closed form
softmax(q kᵀ / √d + M)); multi-head attention from ``nn.MultiheadAttention(batch_first=True)``
with copied weights; layer normalization from ``nn.LayerNorm``; the positional encoding from its
closed form. The pre-LN block and the decoder-only model are assembled here from those modules
(the grader's own implementation of the architecture the handout specifies), so the student's
trained weights can be run through it. The stand-in modules of the week's drivers (``CausalMixer``,
``MeanContextLM``, ``FixedLM``) are recomputed here from their formulas.

Masks follow the course's convention everywhere: bool True = may attend; float = added.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

DTYPE = torch.float64


def attention(q, k, v, mask=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(out, weights)``: out from ``F.scaled_dot_product_attention`` (its bool mask also means
    True = may attend), weights = softmax(q kᵀ / √d + M) over the keys."""
    with torch.no_grad():
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        return out, torch.softmax(scores, dim=-1)


def torch_mask(mask, N: int, n_heads: int, T: int):
    """The course's mask as ``nn.MultiheadAttention``'s ``attn_mask``: bool inverted (True = blocked),
    per-sequence masks (N, T, T) / (N, 1, T) expanded over the heads to (N·h, T, T)."""
    if mask is None:
        return None
    if mask.dim() == 3:
        mask = mask.unsqueeze(1).expand(N, n_heads, T, T).reshape(N * n_heads, T, T)
    return ~mask if mask.dtype == torch.bool else mask


def multi_head_attention(x, state: dict, n_heads: int, mask=None) -> torch.Tensor:
    """``nn.MultiheadAttention(d, n_heads, batch_first=True)`` with ``state`` (in_proj_weight,
    in_proj_bias, out_proj.weight, out_proj.bias) on x (N, T, d), self-attention."""
    N, T, d = x.shape
    module = nn.MultiheadAttention(d, n_heads, batch_first=True, dtype=DTYPE)
    module.load_state_dict({k: v.to(DTYPE) for k, v in state.items()}, strict=True)
    module.eval()
    with torch.no_grad():
        return module(x, x, x, attn_mask=torch_mask(mask, N, n_heads, T), need_weights=False)[0]


def layer_norm(x, weight, bias, eps: float = 1e-5) -> torch.Tensor:
    """``nn.LayerNorm(d, eps)`` with the given weight and bias."""
    module = nn.LayerNorm(x.shape[-1], eps=eps, dtype=DTYPE)
    with torch.no_grad():
        module.weight.copy_(weight)
        module.bias.copy_(bias)
        return module(x)


def layer_norm_gradients(x, weight, bias, dout, eps: float = 1e-5) -> tuple:
    """``(dx, dweight, dbias)``: autograd of ``Σ LayerNorm(x) · dout``."""
    module = nn.LayerNorm(x.shape[-1], eps=eps, dtype=DTYPE)
    with torch.no_grad():
        module.weight.copy_(weight)
        module.bias.copy_(bias)
    xg = x.detach().clone().requires_grad_(True)
    (module(xg) * dout).sum().backward()
    return xg.grad, module.weight.grad, module.bias.grad


def positions(T: int, d: int) -> torch.Tensor:
    """PE[p, j] = sin(p / 10000^(2i/d)) for j = 2i, cos(p / 10000^(2i/d)) for j = 2i + 1 (float64)."""
    pe = torch.zeros(T, d, dtype=DTYPE)
    for j in range(d):
        i = j // 2
        angle = torch.arange(T, dtype=DTYPE) / (10000.0 ** (2 * i / d))
        pe[:, j] = torch.sin(angle) if j % 2 == 0 else torch.cos(angle)
    return pe


def causal(T: int) -> torch.Tensor:
    """(T, T) bool, True where j ≤ i."""
    i = torch.arange(T)
    return i.reshape(-1, 1) >= i.reshape(1, -1)


def sub_state(state: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def block(x, state: dict, n_heads: int, attn_prefix: str = "attn.", mask=None) -> torch.Tensor:
    """The pre-LN block: h = x + MHA(LN1(x)) with a causal mask, out = h + W2 GELU(W1 LN2(h) + b1) + b2.
    ``state`` holds ln1.*, ln2.*, mlp.0.*, mlp.2.* and the attention's parameters under ``attn_prefix``;
    ``mask`` replaces the causal mask (the tests pass the student's own ``causal_mask`` output)."""
    with torch.no_grad():
        a = layer_norm(x, state["ln1.weight"], state["ln1.bias"])
        mask = causal(x.shape[1]) if mask is None else mask
        h = x + multi_head_attention(a, sub_state(state, attn_prefix), n_heads, mask)
        m = layer_norm(h, state["ln2.weight"], state["ln2.bias"])
        m = F.linear(F.gelu(F.linear(m, state["mlp.0.weight"], state["mlp.0.bias"])),
                     state["mlp.2.weight"], state["mlp.2.bias"])
        return h + m


def mixer(x, weight) -> torch.Tensor:
    """The drivers' stand-in block ``CausalMixer``: x + tanh(cummean(x) W)."""
    counts = torch.arange(1, x.shape[1] + 1, dtype=x.dtype).reshape(1, -1, 1)
    return x + torch.tanh((x.cumsum(dim=1) / counts) @ weight)


def decoder(tokens, state: dict, n_heads: list[int] | None, n_layers: int, mixers: bool = False, pe=None):
    """A DecoderLM's logits (N, T, V) in float64: tok_emb + PE, the blocks (the pre-LN block, or
    the stand-in mixers ``blocks.i.weight``), ln_f, head. ``pe`` (≥ T rows) replaces the sinusoidal
    table (the tests pass the student's own ``sinusoidal_positions`` output)."""
    with torch.no_grad():
        state = {k: v.to(DTYPE) for k, v in state.items()}
        T, d = tokens.shape[1], state["tok_emb.weight"].shape[1]
        pe = positions(T, d) if pe is None else pe[:T].to(DTYPE)
        x = state["tok_emb.weight"][tokens] + pe
        for i in range(n_layers):
            sub = sub_state(state, f"blocks.{i}.")
            x = mixer(x, sub["weight"]) if mixers else block(x, sub, n_heads[i])
        x = layer_norm(x, state["ln_f.weight"], state["ln_f.bias"])
        return F.linear(x, state["head.weight"], state["head.bias"])


def decoder_parameter_shapes(vocab: int, d: int, n_layers: int, d_ff: int | None = None) -> dict:
    """The parameter names and shapes the handout gives a DecoderLM."""
    d_ff = 4 * d if d_ff is None else d_ff
    shapes = {"tok_emb.weight": (vocab, d), "ln_f.weight": (d,), "ln_f.bias": (d,),
              "head.weight": (vocab, d), "head.bias": (vocab,)}
    for i in range(n_layers):
        shapes.update({f"blocks.{i}.{k}": s for k, s in block_parameter_shapes(d, d_ff).items()})
    return shapes


def block_parameter_shapes(d: int, d_ff: int) -> dict:
    """The parameter names and shapes the handout gives a TransformerBlock."""
    return {"ln1.weight": (d,), "ln1.bias": (d,), "ln2.weight": (d,), "ln2.bias": (d,),
            **{f"attn.{k}": s for k, s in mha_parameter_shapes(d).items()},
            "mlp.0.weight": (d_ff, d), "mlp.0.bias": (d_ff,), "mlp.2.weight": (d, d_ff), "mlp.2.bias": (d,)}


def mha_parameter_shapes(d: int) -> dict:
    """``nn.MultiheadAttention``'s parameter names and shapes (packed projections)."""
    return {"in_proj_weight": (3 * d, d), "in_proj_bias": (3 * d,), "out_proj.weight": (d, d),
            "out_proj.bias": (d,)}


def random_state(shapes: dict, seed: int) -> dict:
    """Random float64 parameters for ``shapes``, exactly representable in float32 (so copying them
    into a float32 module loses nothing): norm weights near 1, biases small, matrices scaled by
    1/√fan_in, embeddings standard normal."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in shapes.items():
        z = torch.randn(tuple(shape), generator=g, dtype=DTYPE)
        owner, _, leaf = name.rpartition(".")
        if leaf == "weight" and owner.rpartition(".")[2].startswith("ln"):  # a LayerNorm's scale
            value = 1.0 + 0.2 * z
        elif leaf.endswith("bias"):
            value = 0.2 * z
        elif name.startswith("tok_emb"):
            value = z
        else:
            value = z / math.sqrt(shape[-1])
        state[name] = value.float().to(DTYPE)
    return state


def greedy(logits_of, prefixes: torch.Tensor, n: int) -> torch.Tensor:
    """Greedy decoding: append argmax of ``logits_of(seqs)[:, -1]`` ``n`` times."""
    seqs = prefixes.clone()
    for _ in range(n):
        nxt = logits_of(seqs)[:, -1].argmax(dim=-1, keepdim=True)
        seqs = torch.cat([seqs, nxt], dim=1)
    return seqs


def mean_context_logits(tokens, last, context, weight, bias) -> torch.Tensor:
    """The drivers' stand-in ``MeanContextLM``: tanh(A[x_t] + mean_{s ≤ t} B[x_s]) W + b."""
    c = context[tokens]
    counts = torch.arange(1, tokens.shape[1] + 1, dtype=c.dtype)[None, :, None]  # (1, T, 1)
    return torch.tanh(last[tokens] + c.cumsum(dim=1) / counts) @ weight + bias


def smallest_top_gap(logits: torch.Tensor) -> float:
    """The smallest gap between the largest and second largest logit over all rows (ties: 0)."""
    top = logits.topk(2, dim=-1).values
    return float((top[..., 0] - top[..., 1]).min())


def chi_square_p_value(counts: torch.Tensor, probs: torch.Tensor) -> float:
    """Pearson's goodness-of-fit test of ``counts`` against ``probs``: the probability that a
    correct sampler gives a statistic this large (chi-square with len - 1 degrees of freedom)."""
    counts, probs = counts.to(DTYPE), probs.to(DTYPE)
    expected = counts.sum() * probs
    statistic = ((counts - expected) ** 2 / expected).sum()
    dof = torch.tensor((len(counts) - 1) / 2, dtype=DTYPE)
    return float(torch.special.gammaincc(dof, statistic / 2))
