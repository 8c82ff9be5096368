"""Week 3's drivers: running a student CNN and reading its parameter shapes.

They run in the worker beside the student's code and return data only; the grader compares. See
:mod:`coursekit.worker.drivers` for what a driver is. Nothing here is secret.
"""

from __future__ import annotations

from typing import Any, Callable


def model_logits(server: Any, model: Any, X: Any) -> Any:
    """``model(X)`` in evaluation mode without gradients, for a batch of images ``X``.

    ``X`` (a tensor or an array) is turned into a float32 tensor first. Returns the output as a
    detached tensor when it is one, otherwise as it came (the grader says what is wrong with it).
    """
    import torch

    images = torch.as_tensor(X, dtype=torch.float32)
    model.eval()
    with torch.no_grad():
        out = model(images)
    return out.detach() if isinstance(out, torch.Tensor) else out


def parameter_shapes(server: Any, module: Any) -> list:
    """The shapes of a torch module's trainable parameters, in ``parameters()`` order."""
    return [list(p.shape) for p in module.parameters() if p.requires_grad]


REGISTRY: dict[str, Callable[..., Any]] = {
    "model_logits": model_logits,
    "parameter_shapes": parameter_shapes,
}
