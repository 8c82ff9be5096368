"""Week 5's drivers: run the student's modules on the grader's weights, swap PyTorch's own layers in
as stand-ins, build small stand-in language models for ``generate``, and hand ``train_on_task`` its
task object (training sequences drawn by the grader).

They run in the worker beside the student's code and return data only; the grader builds every
expected value itself and compares. See :mod:`coursekit.worker.drivers` for what a driver is.
Nothing here is secret, and nothing here is a solution: the stand-ins compute what PyTorch's own
layers compute (which the student may not use in ``transformer.py``; written out, because the
worker refuses their operators) or are small models that are not transformers.

A driver that cannot do its job because of what the student's code built (not a torch module, a
missing submodule, parameters other than the handout's) returns ``{"problem": code}`` instead of
raising, so the grader reports the problem as the student's, in its own words for each code:
``not_a_module``, ``missing_submodule``, ``parameter_names``, ``not_differentiable``, ``bad_request``.
Imports: the standard library and torch only (the worker has no other part of the course's code,
so the task object of ``train_on_task`` is a :class:`PoolTask` over sequences the grader drew with
the course's ``coursekit.data.ReversalTask``).
"""

from __future__ import annotations

from typing import Any, Callable

FLOAT_DTYPES = ("float32", "float64")


def _problem(code: str) -> dict:
    return {"problem": code}


def _is_module(value: Any) -> bool:
    import torch

    return isinstance(value, torch.nn.Module) and hasattr(value, "_parameters")


# --- stand-ins ----------------------------------------------------------------------------------

def _stand_in_classes() -> dict:
    """The stand-in modules, defined on first use (torch is imported only then)."""
    import torch
    from torch import nn

    nan = float("nan")

    def nan_like(x: Any) -> Any:
        """What a stand-in returns for an input it cannot use: NaN (so the test fails as the
        student's, without an exception raised here)."""
        return torch.full_like(x, nan, dtype=x.dtype if x.is_floating_point() else torch.float32)

    def tokens_ok(tokens: Any, vocab: int) -> bool:
        return (isinstance(tokens, torch.Tensor) and tokens.dim() == 2 and tokens.dtype == torch.int64
                and tokens.numel() > 0 and int(tokens.min()) >= 0 and int(tokens.max()) < vocab)

    class StandInLayerNorm(nn.Module):
        """Stand-in for the student's LayerNorm: nn.LayerNorm's computation and parameters
        (``weight`` ones, ``bias`` zeros), (x - mean) / sqrt(var + eps) * weight + bias over the last
        dimension with the biased variance (Ba, Kiros and Hinton, 2016), written with elementary
        operations: the worker refuses PyTorch's normalization operators for transformer.py's code."""

        def __init__(self, d_model: int, eps: float = 1e-5):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(d_model))
            self.bias = nn.Parameter(torch.zeros(d_model))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not (isinstance(x, torch.Tensor) and x.is_floating_point() and x.shape[-1:] == self.weight.shape):
                return nan_like(x) if isinstance(x, torch.Tensor) else x
            mean = x.mean(dim=-1, keepdim=True)
            var = (x - mean).pow(2).mean(dim=-1, keepdim=True)
            return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias

    class AttentionProjections(nn.Module):
        """nn.MultiheadAttention's parameters and their initialization: ``in_proj_weight`` (3d, d)
        Xavier-uniform, ``in_proj_bias`` (3d,) zeros, ``out_proj`` a Linear (d, d) with zero bias."""

        def __init__(self, d_model: int):
            super().__init__()
            self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
            self.out_proj = nn.Linear(d_model, d_model)
            nn.init.xavier_uniform_(self.in_proj_weight)
            nn.init.zeros_(self.out_proj.bias)

    class StandInAttention(nn.Module):
        """Stand-in for the student's MultiHeadAttention: nn.MultiheadAttention's computation
        (parameters under ``inner.``, see ``AttentionProjections``), softmax(Q K^T / sqrt(d_head) + M) V
        per head (Vaswani et al., 2017), written with elementary operations (the worker refuses
        PyTorch's attention operators for transformer.py's code), with the course's mask convention:
        bool True = may attend, float added; (T, T), (N, T, T), (N, 1, T) or 4-D (N, 1 or h, T, T)."""

        def __init__(self, d_model: int, n_heads: int):
            super().__init__()
            self.d_model = d_model
            self.n_heads = n_heads
            self.inner = AttentionProjections(d_model)

        def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
            if not (isinstance(x, torch.Tensor) and x.dim() == 3 and x.shape[-1] == self.d_model
                    and x.is_floating_point()):
                return nan_like(x) if isinstance(x, torch.Tensor) else x
            N, T, d = x.shape
            h = self.n_heads
            try:
                q, k, v = (x @ self.inner.in_proj_weight.T + self.inner.in_proj_bias).chunk(3, dim=-1)
                q, k, v = (t.reshape(N, T, h, d // h).transpose(1, 2) for t in (q, k, v))  # (N, h, T, dh)
                scores = q @ k.transpose(-2, -1) / (d // h) ** 0.5
                if mask is not None:
                    if mask.dim() == 3:
                        mask = mask.unsqueeze(1)
                    if mask.dtype == torch.bool:
                        scores = scores.masked_fill(~mask, float("-inf"))
                    else:
                        scores = scores + mask.to(x.dtype)
                out = torch.softmax(scores, dim=-1) @ v
                return self.inner.out_proj(out.transpose(1, 2).reshape(N, T, d))
            except Exception:  # noqa: BLE001 - a mask the stand-in cannot use: the block's mistake
                return nan_like(x)

    class CausalMixer(nn.Module):
        """Stand-in for a TransformerBlock (not one): x + tanh(cummean(x) W), where cummean
        averages positions 0..t; causal, and different at every position."""

        def __init__(self, d_model: int):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(d_model, d_model))

        def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            if not (isinstance(x, torch.Tensor) and x.dim() == 3 and x.shape[-1] == self.weight.shape[0]
                    and x.is_floating_point()):
                return nan_like(x) if isinstance(x, torch.Tensor) else x
            counts = torch.arange(1, x.shape[1] + 1, dtype=x.dtype, device=x.device).reshape(1, -1, 1)
            return x + torch.tanh((x.cumsum(dim=1) / counts) @ self.weight)

    class MeanContextLM(nn.Module):
        """A stand-in language model for generate (not a transformer):
        logits_t = tanh(A[x_t] + mean_{s ≤ t} B[x_s]) W + b, the last token and the average of all
        tokens so far."""

        def __init__(self, last: torch.Tensor, context: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor):
            super().__init__()
            self.last = nn.Parameter(last.clone())
            self.context = nn.Parameter(context.clone())
            self.weight = nn.Parameter(weight.clone())
            self.bias = nn.Parameter(bias.clone())

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            if not tokens_ok(tokens, self.last.shape[0]):
                return torch.full((1, 1, self.weight.shape[1]), nan, dtype=self.weight.dtype)
            c = self.context[tokens]  # (N, T, d)
            counts = torch.arange(1, tokens.shape[1] + 1, dtype=c.dtype).reshape(1, -1, 1)
            return torch.tanh(self.last[tokens] + c.cumsum(dim=1) / counts) @ self.weight + self.bias

    class FixedLM(nn.Module):
        """A stand-in language model whose next-token logits are the same at every step."""

        def __init__(self, logits: torch.Tensor):
            super().__init__()
            self.logits = nn.Parameter(logits.clone())

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            if not tokens_ok(tokens, self.logits.shape[0]):
                return torch.full((1, 1, self.logits.shape[0]), nan, dtype=self.logits.dtype)
            return self.logits.expand(tokens.shape[0], tokens.shape[1], -1)

    return {"StandInLayerNorm": StandInLayerNorm, "StandInAttention": StandInAttention, "CausalMixer": CausalMixer,
            "MeanContextLM": MeanContextLM, "FixedLM": FixedLM}


_CLASSES: dict = {}


def _stand_in(name: str):
    if not _CLASSES:
        _CLASSES.update(_stand_in_classes())
    return _CLASSES[name]


# --- running modules ----------------------------------------------------------------------------

def module_forward(server: Any, module: Any, *inputs: Any, dtype: str | None = None) -> Any:
    """``module(*inputs)`` in evaluation mode without gradients.

    With ``dtype`` ("float32" or "float64") the module's floating parameters and buffers are
    converted first (``module.to(dtype)``). Returns the output, detached when it is a tensor, or
    ``{"problem": ...}`` when ``module`` is not a torch module.
    """
    import torch

    if not _is_module(module):
        return _problem("not_a_module")
    if dtype is not None:
        if dtype not in FLOAT_DTYPES:
            return _problem("bad_request")
        module.to(getattr(torch, dtype))
    module.eval()
    with torch.no_grad():
        out = module(*inputs)
    return out.detach() if isinstance(out, torch.Tensor) else out


def parameter_info(server: Any, module: Any) -> dict:
    """``{"parameters": {name: shape}, "buffers": {name: persistent}}`` of a torch module (names as
    ``named_parameters`` gives them), or ``{"problem": ...}``."""
    if not _is_module(module):
        return _problem("not_a_module")
    parameters = {name: list(p.shape) for name, p in module.named_parameters()}
    buffers = {}
    for prefix, sub in module.named_modules():
        for name in sub._buffers:
            full = f"{prefix}.{name}" if prefix else name
            buffers[full] = name not in sub._non_persistent_buffers_set
    return {"parameters": parameters, "buffers": buffers}


def set_parameters(server: Any, module: Any, values: dict) -> dict:
    """Copy the grader's tensors into the module's parameters, by ``named_parameters`` name.

    Nothing is copied unless the names are exactly the module's parameters and every shape
    matches. Returns ``{"ok": True}`` or ``{"problem": ..., "unknown": [...], "unset": [...],
    "mismatched": [...]}`` (names only).
    """
    import torch

    if not _is_module(module):
        return _problem("not_a_module")
    params = dict(module.named_parameters())
    unknown = sorted(set(values) - set(params))
    unset = sorted(set(params) - set(values))
    mismatched = sorted(name for name in set(values) & set(params)
                        if tuple(params[name].shape) != tuple(values[name].shape))
    if unknown or unset or mismatched:
        return {"problem": "parameter_names", "unknown": unknown, "unset": unset, "mismatched": mismatched}
    with torch.no_grad():
        for name, value in values.items():
            params[name].copy_(value.to(params[name].dtype))
    return {"ok": True}


def parameter_values(server: Any, module: Any) -> dict:
    """``{name: tensor}``: detached copies of a torch module's parameters, or ``{"problem": ...}``."""
    if not _is_module(module):
        return _problem("not_a_module")
    return {"values": {name: p.detach().clone() for name, p in module.named_parameters()}}


def attention_heads(server: Any, model: Any) -> dict:
    """``{"n_heads": [...]}``: the ``n_heads`` attribute of ``blocks[i].attn`` for every block of a
    DecoderLM (None where it is missing), or ``{"problem": ...}``."""
    if not _is_module(model):
        return _problem("not_a_module")
    blocks = model._modules.get("blocks")
    if blocks is None or not _is_module(blocks):
        return _problem("missing_submodule")
    heads = []
    for block in blocks.children():
        attn = block._modules.get("attn") if _is_module(block) else None
        value = getattr(attn, "n_heads", None) if attn is not None else None
        heads.append(value if type(value) is int else None)
    return {"n_heads": heads}


def gradients(server: Any, module: Any, x: Any, dout: Any, dtype: str | None = None) -> dict:
    """Gradients of ``Σ module(x) · dout`` with respect to ``x`` and every parameter:
    ``{"x": dx, "parameters": {name: grad or None}}``, or ``{"problem": ...}``. With ``dtype``
    ("float32" or "float64") the module is converted first."""
    import torch

    if not _is_module(module):
        return _problem("not_a_module")
    if dtype is not None:
        if dtype not in FLOAT_DTYPES:
            return _problem("bad_request")
        module.to(getattr(torch, dtype))
    x = x.detach().clone().requires_grad_(True)
    module.zero_grad(set_to_none=True)
    out = module(x)
    if not isinstance(out, torch.Tensor) or out.shape != dout.shape or not out.requires_grad:
        return _problem("not_differentiable")
    (out * dout.to(out.dtype)).sum().backward()
    grads = {name: (p.grad.detach().clone() if p.grad is not None else None)
             for name, p in module.named_parameters()}
    return {"x": x.grad.detach().clone() if x.grad is not None else None, "parameters": grads}


# --- stand-ins in the student's modules ---------------------------------------------------------

def use_torch_parts(server: Any, block: Any, d_model: int, n_heads: int) -> dict:
    """Replace a TransformerBlock's ``ln1`` and ``ln2`` by nn.LayerNorm's computation and its
    ``attn`` by nn.MultiheadAttention's (see ``StandInLayerNorm`` and ``StandInAttention``), so the
    block's own wiring is what a test measures. Returns ``{"ok": True}`` or ``{"problem": ...}``."""
    import torch

    if not _is_module(block):
        return _problem("not_a_module")
    missing = [name for name in ("ln1", "attn", "ln2", "mlp") if name not in block._modules]
    if missing:
        return _problem("missing_submodule")
    block.ln1 = _stand_in("StandInLayerNorm")(d_model)
    block.ln2 = _stand_in("StandInLayerNorm")(d_model)
    block.attn = _stand_in("StandInAttention")(d_model, n_heads)
    return {"ok": True}


def use_mixer_blocks(server: Any, model: Any, d_model: int, n_layers: int) -> dict:
    """Replace a DecoderLM's ``blocks`` by ``n_layers`` stand-in causal mixers (``blocks.i.weight``
    (d, d)) and its ``ln_f`` by nn.LayerNorm's computation, so the model's own wiring (embedding,
    positions, the loop over blocks, ln_f, head) is what a test measures."""
    import torch

    if not _is_module(model):
        return _problem("not_a_module")
    missing = [name for name in ("tok_emb", "blocks", "ln_f", "head") if name not in model._modules]
    if missing:
        return _problem("missing_submodule")
    mixer = _stand_in("CausalMixer")
    model.blocks = torch.nn.ModuleList(mixer(d_model) for _ in range(n_layers))
    model.ln_f = _stand_in("StandInLayerNorm")(d_model)
    return {"ok": True}


def mean_context_lm(server: Any, last: Any, context: Any, weight: Any, bias: Any) -> Any:
    """A stand-in language model (a handle): logits_t = tanh(A[x_t] + mean_{s ≤ t} B[x_s]) W + b,
    with the grader's A and B (V, d), W (d, V) and b (V,), in their dtype."""
    return _stand_in("MeanContextLM")(last, context, weight, bias)


def fixed_lm(server: Any, logits: Any) -> Any:
    """A stand-in language model (a handle) whose next-token logits are always ``logits`` (V,)."""
    return _stand_in("FixedLM")(logits)


def generate_each(server: Any, module: str, model: Any, prefixes: Any, n: int,
                  temperature: float = 0.0, seed: int = 0) -> list:
    """``module.generate(model, prefixes[i], n, temperature, seed)`` for every row of ``prefixes``
    (a 2-D int64 tensor); the list of what each call returned."""
    function = getattr(server.module(module), "generate")
    return [function(model, row.clone(), n, temperature=temperature, seed=seed) for row in prefixes]


class PoolTask:
    """The task object ``train_on_task`` receives when graded: the interface of the course's
    ``coursekit.data.ReversalTask`` (``vocab_size``, ``max_len``, ``sample(n, generator)``,
    ``loss_mask(seqs)``, and ``length``, ``symbols``, ``separator``, ``prefix_len``, ``answer_len``)
    over a pool of training sequences that the grader drew with ``ReversalTask.sample`` (so no
    held-out question is among them). ``sample`` draws rows of the pool uniformly, with
    replacement, from the given ``torch.Generator`` (an int seeds a new one; None uses torch's
    global generator)."""

    def __init__(self, sequences: Any, length: int, symbols: int):
        self._pool = sequences
        self.length, self.symbols = length, symbols
        self.separator, self.vocab_size = symbols, symbols + 1
        self.max_len, self.prefix_len, self.answer_len = 2 * length + 1, length + 1, length

    def __repr__(self) -> str:
        return f"ReversalTask(length={self.length}, symbols={self.symbols}) [{len(self._pool)} training sequences]"

    def sample(self, n: int, generator: Any = None) -> Any:
        """(n, 2L + 1) int64 training sequences."""
        import torch

        if isinstance(generator, int) and not isinstance(generator, bool):
            generator = torch.Generator().manual_seed(generator)
        elif not isinstance(generator, torch.Generator):
            generator = None
        index = torch.randint(0, len(self._pool), (max(int(n), 0),), generator=generator)
        return self._pool[index].clone()

    def loss_mask(self, seqs: Any) -> Any:
        """bool of ``seqs``' shape: True at positions ``L + 1`` and later (the answer)."""
        import torch

        shape = tuple(getattr(seqs, "shape", ()))
        if not shape:
            shape = (self.max_len,)
        return (torch.arange(shape[-1]) >= self.prefix_len).expand(shape).clone()


def pool_task(server: Any, sequences: Any, length: int, symbols: int = 10) -> Any:
    """A :class:`PoolTask` (a handle) over the grader's training ``sequences`` ((P, 2L + 1) int64)."""
    import torch

    if not (isinstance(sequences, torch.Tensor) and sequences.dtype == torch.int64 and sequences.dim() == 2
            and sequences.shape[1] == 2 * length + 1 and len(sequences) > 0):
        return _problem("bad_request")
    return PoolTask(sequences, int(length), int(symbols))


REGISTRY: dict[str, Callable[..., Any]] = {
    "module_forward": module_forward,
    "parameter_info": parameter_info,
    "set_parameters": set_parameters,
    "parameter_values": parameter_values,
    "attention_heads": attention_heads,
    "gradients": gradients,
    "use_torch_parts": use_torch_parts,
    "use_mixer_blocks": use_mixer_blocks,
    "mean_context_lm": mean_context_lm,
    "fixed_lm": fixed_lm,
    "generate_each": generate_each,
    "pool_task": pool_task,
}
