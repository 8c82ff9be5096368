"""Week 4's drivers: a student language model's logits, and a stand-in model for testing ``sample``.

They run in the worker beside the student's code and return data only; the grader computes every
score (perplexity, greedy decoding, sample frequencies) itself. See :mod:`coursekit.worker.drivers`
for what a driver is. Nothing here is secret. torch is imported inside the functions, so loading
this module costs nothing in weeks that do not use torch.
"""

from __future__ import annotations

from typing import Any, Callable

_STAND_IN: Any = None


def is_torch_module(server: Any, obj: Any) -> bool:
    """Whether ``obj`` is a torch module (an ``nn.Module``); the other drivers need one."""
    import torch

    return isinstance(obj, torch.nn.Module)


def lm_logits(server: Any, model: Any, tokens: Any) -> Any:
    """``model(tokens)`` in evaluation mode without gradients, for a batch of token ids (N, T).

    ``tokens`` (a tensor or an array) is turned into an int64 tensor first. Returns the output as a
    detached tensor when it is one, otherwise as it came (the grader says what is wrong with it),
    and None when ``model`` is not a torch module.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        return None
    batch = torch.as_tensor(tokens, dtype=torch.int64)
    model.eval()
    with torch.no_grad():
        out = model(batch)
    return out.detach() if isinstance(out, torch.Tensor) else out


def lm_last_logits(server: Any, model: Any, tokens: Any) -> Any:
    """The logits at the last position only, ``model(tokens)[:, -1]`` (N, V), for token ids (N, T),
    as :func:`lm_logits` computes them (which see). An output that is not a tensor of shape (N, T, V)
    comes back as it is, for the grader to say what is wrong with it. The grader scores held-out
    text with this one position at a time, so it needs only the last logits of each call.
    """
    import torch

    out = lm_logits(server, model, tokens)
    batch = tuple(torch.as_tensor(tokens).shape)
    if isinstance(out, torch.Tensor) and out.dim() == 3 and tuple(out.shape[:2]) == batch:
        return out[:, -1].contiguous()
    return out


def lm_parameter_shapes(server: Any, module: Any) -> list | None:
    """The shapes of a torch module's trainable parameters, in ``parameters()`` order (None when
    ``module`` is not a torch module)."""
    import torch

    if not isinstance(module, torch.nn.Module):
        return None
    return [list(p.shape) for p in module.parameters() if p.requires_grad]


def _stand_in_class() -> type:
    """The stand-in language model's class (built once; torch is imported only here)."""
    global _STAND_IN
    if _STAND_IN is None:
        import torch
        from torch import nn

        class StandInLM(nn.Module):
            """A fixed, causal language model over V tokens that depends on the last two tokens::

                logits[n, t] = A[tokens[n, t]] + B[tokens[n, t - 1]] + c

            where ``B[V]`` stands for "no previous token" at t = 0. A (V, V), B (V + 1, V) and c (V,)
            are float32 parameters given by the grader, which computes the same logits itself.
            """

            def __init__(self, A: Any, B: Any, c: Any):
                super().__init__()
                as_param = lambda a: nn.Parameter(torch.as_tensor(a, dtype=torch.float32).clone())  # noqa: E731
                self.A, self.B, self.c = as_param(A), as_param(B), as_param(c)

            def forward(self, tokens: Any) -> Any:
                tokens = torch.as_tensor(tokens).long()
                start = torch.full_like(tokens[:, :1], self.A.shape[0])
                previous = torch.cat([start, tokens[:, :-1]], dim=1)  # (N, T)
                return self.A[tokens] + self.B[previous] + self.c  # (N, T, V)

        _STAND_IN = StandInLM
    return _STAND_IN


def stand_in_lm(server: Any, A: Any, B: Any, c: Any) -> Any:
    """A :class:`StandInLM` with the grader's tables, returned to the grader as a handle."""
    return _stand_in_class()(A, B, c)


REGISTRY: dict[str, Callable[..., Any]] = {
    "is_torch_module": is_torch_module,
    "lm_logits": lm_logits,
    "lm_last_logits": lm_last_logits,
    "lm_parameter_shapes": lm_parameter_shapes,
    "stand_in_lm": stand_in_lm,
}
