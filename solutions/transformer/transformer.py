"""Week 5: attention and a small decoder-only transformer, from scratch in PyTorch.

Conventions: torch tensors, float32 unless stated, batch first. A boolean mask says True where a
query *may* attend to a key (the opposite of ``nn.MultiheadAttention``'s ``attn_mask``); a float
mask is *added* to the attention scores (0 keeps, -inf removes). Every query row must keep at
least one key. Each docstring is its function's specification; sources: Vaswani et al. (2017),
*Attention Is All You Need*; Ba et al. (2016), *Layer Normalization*; Radford et al. (2019, GPT-2)
and Xiong et al. (2020) for the pre-LN block.

Forbidden in this file (you write them): ``F.scaled_dot_product_attention``,
``F.multi_head_attention_forward``, ``nn.MultiheadAttention``, ``nn.Transformer*``, ``nn.LayerNorm``,
``F.layer_norm`` / ``torch.layer_norm``. Allowed: tensor operations, ``nn.Module``, ``nn.Parameter``,
``nn.Linear``, ``nn.Embedding``, ``nn.GELU``, ``nn.Sequential``, ``nn.ModuleList``, ``torch.optim``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: train_on_task's model and optimization (the handout's timing is for these).
D_MODEL, N_HEADS, N_LAYERS = 64, 4, 2
BATCH_SIZE = 64
LEARNING_RATE = 3e-3


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention(Q, K, V) = softmax(Q Kᵀ / √d + M) V, over the last two axes.

    scores[..., i, j] = q[..., i, :] · k[..., j, :] / √d; weights = softmax over j (the keys), so
    each query's row of weights sums to 1; out[..., i, :] = Σ_j weights[..., i, j] v[..., j, :].
    With a boolean ``mask``, scores where the mask is False become -inf (weight exactly 0); with a
    float ``mask``, it is added to the scores.

    Args:
        q: (..., Tq, d) queries; k: (..., Tk, d) keys; v: (..., Tk, dv) values (same leading axes).
        mask: None, or bool / float broadcastable to (..., Tq, Tk) (e.g. (Tq, Tk) for every batch
            and head, or (N, 1, 1, Tk) to drop padded keys).

    Returns:
        ``(out, weights)``: out (..., Tq, dv) and weights (..., Tq, Tk), in q's dtype.
    """
    ### BEGIN SOLUTION
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (..., Tq, Tk)
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask
    weights = torch.softmax(scores, dim=-1)  # normalized over the keys
    return weights @ v, weights
    ### END SOLUTION


def causal_mask(T: int) -> torch.Tensor:
    """(T, T) bool, True on and below the diagonal: query i may attend to keys j ≤ i only."""
    ### BEGIN SOLUTION
    return torch.ones(T, T, dtype=torch.bool).tril()
    ### END SOLUTION


class MultiHeadAttention(nn.Module):
    """Multi-head self-attention with packed projections, laid out as ``nn.MultiheadAttention``.

    Parameters (exactly these, so a state dict copies to and from ``nn.MultiheadAttention(d_model,
    n_heads, batch_first=True)``): ``in_proj_weight`` (3d, d) = [W_q; W_k; W_v] stacked by rows,
    ``in_proj_bias`` (3d,), and ``out_proj = nn.Linear(d, d)``. Attributes ``d_model``, ``n_heads``.

    For x (N, T, d): [q | k | v] = x W_inᵀ + b_in, each (N, T, d), split into h heads of size
    d_h = d / h (head i uses features i·d_h … (i+1)·d_h - 1) → (N, h, T, d_h); attention per head;
    heads concatenated back to (N, T, d); then out_proj.
    """

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        ### BEGIN SOLUTION
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not a multiple of n_heads={n_heads}")
        self.d_model, self.n_heads = d_model, n_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        nn.init.xavier_uniform_(self.in_proj_weight)  # as nn.MultiheadAttention initializes them
        nn.init.zeros_(self.out_proj.bias)
        ### END SOLUTION

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Self-attention on x (N, T, d) → (N, T, d).

        ``mask`` (True = may attend, or additive float) is None, (T, T) for every sequence, or per
        sequence (N, T, T) or (N, 1, T) (a padding mask: False at padded keys); a 3-D mask is the
        same for every head. A 4-D mask broadcastable to (N, h, T, T) is used as it is.
        """
        ### BEGIN SOLUTION
        N, T, d = x.shape
        h = self.n_heads
        qkv = x @ self.in_proj_weight.T + self.in_proj_bias  # (N, T, 3d)
        q, k, v = (t.reshape(N, T, h, d // h).transpose(1, 2) for t in qkv.chunk(3, dim=-1))
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)  # (N, 1, T or 1, T): the same for every head
        out, _ = scaled_dot_product_attention(q, k, v, mask)  # (N, h, T, d_h)
        return self.out_proj(out.transpose(1, 2).reshape(N, T, d))
        ### END SOLUTION


def sinusoidal_positions(T: int, d: int) -> torch.Tensor:
    """(T, d) float32 positional encodings of Vaswani et al.: for position p and column j,

        PE[p, j] = sin(p / 10000^(2i/d)) if j = 2i is even,   cos(p / 10000^(2i/d)) if j = 2i+1 is odd,

    i.e. columns 2i and 2i+1 share the frequency 10000^(-2i/d). With an odd d the last column
    j = d-1 is a sine (of frequency 10000^(-(d-1)/d)) with no cosine partner.
    """
    ### BEGIN SOLUTION
    p = torch.arange(T, dtype=torch.float64).unsqueeze(1)  # (T, 1)
    j = torch.arange(d)
    angles = p * 10000.0 ** (-(2 * (j // 2)).double() / d)  # (T, d)
    return torch.where(j % 2 == 0, torch.sin(angles), torch.cos(angles)).float()
    ### END SOLUTION


class LayerNorm(nn.Module):
    """y = (x - μ) / √(σ² + eps) · weight + bias over the last axis, as ``nn.LayerNorm(d, eps)``.

    μ and σ² are the mean and the *biased* variance (divide by d) of each row's d features.
    Parameters ``weight`` (d,) initialized to ones and ``bias`` (d,) to zeros; attribute ``eps``.
    Works for x of any shape (..., d).
    """

    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        ### BEGIN SOLUTION
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased: divide by d
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
        ### END SOLUTION


class TransformerBlock(nn.Module):
    """A pre-LN decoder block: x ← x + attn(ln1(x)) with a causal mask, then x ← x + mlp(ln2(x)).

    Submodules (exactly these names): ``ln1`` and ``ln2`` = ``LayerNorm(d_model)``, ``attn`` =
    ``MultiHeadAttention(d_model, n_heads)``, ``mlp`` = ``nn.Sequential(nn.Linear(d_model, d_ff),
    nn.GELU(), nn.Linear(d_ff, d_model))`` (exact GELU, no dropout). forward: x (N, T, d) → (N, T, d);
    output position t depends on positions ≤ t only.
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int):
        super().__init__()
        ### BEGIN SOLUTION
        self.ln1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln2 = LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        mask = causal_mask(x.shape[1]).to(x.device)
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))
        ### END SOLUTION


class DecoderLM(nn.Module):
    """A decoder-only language model: tokens (N, T) int64, T ≤ max_len → logits (N, T, vocab_size).

    x = tok_emb(tokens) + PE[:T] (PE = sinusoidal_positions(max_len, d_model), fixed, not learned);
    then the blocks in order; logits = head(ln_f(x)). Submodules (exactly these names):
    ``tok_emb = nn.Embedding(vocab_size, d_model)``, ``blocks = nn.ModuleList`` of n_layers
    ``TransformerBlock(d_model, n_heads, 4 * d_model)``, ``ln_f = LayerNorm(d_model)``, ``head =
    nn.Linear(d_model, vocab_size)``; no other parameters (keep PE as a buffer with
    ``persistent=False``, or compute it in forward). Attribute ``max_len``. Logits at position t
    depend on tokens ≤ t only.
    """

    def __init__(self, vocab_size: int, d_model: int, n_heads: int, n_layers: int, max_len: int):
        super().__init__()
        ### BEGIN SOLUTION
        self.max_len = max_len
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.register_buffer("pos", sinusoidal_positions(max_len, d_model), persistent=False)
        self.blocks = nn.ModuleList(TransformerBlock(d_model, n_heads, 4 * d_model) for _ in range(n_layers))
        self.ln_f = LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        ### END SOLUTION

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        x = self.tok_emb(tokens) + self.pos[:tokens.shape[1]]  # (N, T, d)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))
        ### END SOLUTION


def generate(model: nn.Module, prefix: torch.Tensor, n: int, temperature: float = 0.0,
             seed: int = 0) -> torch.Tensor:
    """Extend the 1-D int64 ``prefix`` by ``n`` tokens, one at a time; return (len(prefix) + n,) int64.

    Each step runs ``model`` (any module mapping (1, T) int64 to (1, T, V) logits) on the whole
    sequence so far, without gradients, and takes the logits z at the last position. temperature 0:
    the next token is argmax z (greedy; the lowest index on a tie). temperature τ > 0: it is drawn
    from softmax(z / τ) with a ``torch.Generator`` seeded with ``seed`` (same seed, same tokens).
    The caller keeps len(prefix) + n within the model's max_len. The model is left in the mode
    (train/eval) it came in.
    """
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    seq = torch.as_tensor(prefix, dtype=torch.int64).reshape(-1)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for _ in range(n):
            z = model(seq.unsqueeze(0))[0, -1]  # (V,) logits of the next token
            if temperature == 0:
                token = z.argmax()
            else:
                probs = torch.softmax(z.double() / temperature, dim=-1)
                token = torch.multinomial(probs, 1, generator=generator)[0]
            seq = torch.cat([seq, token.reshape(1).to(torch.int64)])
    model.train(was_training)
    return seq
    ### END SOLUTION


def train_on_task(task, steps: int = 2000, seed: int = 0) -> DecoderLM:
    """Train a fresh ``DecoderLM`` on ``task`` by next-token prediction on the answer; return it.

    ``task`` (the course tooling's ``coursekit.data.ReversalTask``, or when graded an object with
    the same interface) has ``vocab_size``, ``max_len``, ``sample(n, generator)`` → (n, L) int64
    sequences (question, separator, answer) and ``loss_mask(seqs)`` → (n, L) bool, True on the
    tokens to predict; use only these. Logits at position t predict token t + 1, so the loss is
    the mean cross-entropy of logits[:, :-1] against seqs[:, 1:] where loss_mask(seqs)[:, 1:] is
    True. Seed torch (``torch.manual_seed(seed)``) and a ``torch.Generator`` for ``task.sample``
    with ``seed``; take ``steps`` optimizer steps. The grader answers held-out questions with
    greedy decoding, so return the model in eval mode.
    """
    ### BEGIN SOLUTION
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = DecoderLM(task.vocab_size, D_MODEL, N_HEADS, N_LAYERS, task.max_len)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.0)
    # Warm up for the first 10 % of the steps, then anneal to 0 along a half cosine.
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE,
                                                   total_steps=max(steps, 2), pct_start=0.1)
    model.train()
    for _ in range(steps):
        seqs = task.sample(BATCH_SIZE, generator)  # (B, L)
        targets, keep = seqs[:, 1:], task.loss_mask(seqs)[:, 1:]
        logits = model(seqs[:, :-1])  # (B, L - 1, V): position t predicts token t + 1
        loss = F.cross_entropy(logits[keep], targets[keep])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    return model
    ### END SOLUTION
