"""Week 7's drivers: the student's sampling steps, loss and sampler, driven by a known stand-in denoiser.

A sampling step or a loss needs a model, and a model cannot travel to the worker as data. These
drivers build a *stand-in denoiser* here, in the worker, from weights the grader sends, and pass it
to the student's function; the grader computes the same stand-in's output in closed form, so a step
is graded apart from the student's own network (task 5). The stand-in is public and simple:

    ε̂(x, t) = x Wᵀ + b + (t / 100) u        (float64 parameters W (D, D), b (D,), u (D,))

with ``data_dim = D``, like the ``Denoiser`` of the handout. It accepts ``t`` as the handout says
the steps pass it ((N,) int64), and a scalar as well; its output has ``x``'s dtype. They return data
only; the grader compares. Nothing here is secret. torch is imported inside the functions, so other
weeks' workers do not pay for it.
"""

from __future__ import annotations

from typing import Any, Callable

#: The stand-in reads timesteps as t / TIME_SCALE, so its time term stays of order one.
TIME_SCALE = 100.0


def _stand_in(params: dict) -> Any:
    """The stand-in denoiser (a torch module) with the grader's ``weight``, ``bias``, ``time_weight``."""
    import torch

    class StandInDenoiser(torch.nn.Module):
        """ε̂(x, t) = x Wᵀ + b + (t / 100) u: a known function of the point and the step."""

        def __init__(self, weight: Any, bias: Any, time_weight: Any):
            super().__init__()
            as_parameter = lambda v: torch.nn.Parameter(torch.as_tensor(v, dtype=torch.float64))  # noqa: E731
            self.weight, self.bias = as_parameter(weight), as_parameter(bias)
            self.time_weight = as_parameter(time_weight)
            self.data_dim = int(self.weight.shape[0])

        def forward(self, xt: Any, t: Any) -> Any:
            x = torch.as_tensor(xt)
            steps = torch.as_tensor(t).to(torch.float64).reshape(-1, 1)  # (N, 1), or (1, 1) for a scalar
            out = x.to(torch.float64) @ self.weight.T + self.bias + steps / TIME_SCALE * self.time_weight
            return out.to(x.dtype)

    return StandInDenoiser(params["weight"], params["bias"], params["time_weight"])


def with_stand_in(server: Any, module: str, function: str, params: dict, *args: Any, **kwargs: Any) -> Any:
    """``module.function(stand_in, *args, **kwargs)`` with a stand-in denoiser built from ``params``.

    For ``p_sample_step``, ``ddim_step`` and ``sample``: returns what the student's function
    returned (a tensor comes back detached).
    """
    student_function = getattr(server.module(module), function)
    return student_function(_stand_in(params), *args, **kwargs)


def stand_in_loss(server: Any, module: str, params: dict, x0: Any, t: Any, noise: Any, alpha_bar: Any) -> dict:
    """``module.diffusion_loss(stand_in, x0, t, noise, alpha_bar)``, then its gradients.

    Returns ``{"loss": the returned value, "grads": {"weight", "bias", "time_weight": tensor or
    None}}``; the gradients are of the returned loss with respect to the stand-in's parameters
    (``None`` where the loss is not a tensor that gradients flow through).
    """
    import torch

    stand_in = _stand_in(params)
    loss = getattr(server.module(module), "diffusion_loss")(stand_in, x0, t, noise, alpha_bar)
    grads: dict = {name: None for name, _ in stand_in.named_parameters()}
    if isinstance(loss, torch.Tensor) and loss.requires_grad and loss.numel() == 1:
        loss.reshape(()).backward()
        grads = {name: None if p.grad is None else p.grad.detach().clone()
                 for name, p in stand_in.named_parameters()}
    return {"loss": loss.detach() if isinstance(loss, torch.Tensor) else loss, "grads": grads}


def is_module(server: Any, obj: Any) -> bool:
    """Whether a student object is a torch module (so that module drivers may be used on it)."""
    import torch

    return isinstance(obj, torch.nn.Module)


def denoiser_output(server: Any, model: Any, xt: Any, t: Any) -> Any:
    """``model(xt, t)`` in evaluation mode without gradients (a student's ``Denoiser``); ``None`` when
    ``model`` is not a torch module."""
    import torch

    if not isinstance(model, torch.nn.Module):
        return None
    model.eval()
    with torch.no_grad():
        out = model(torch.as_tensor(xt), torch.as_tensor(t))
    return out.detach() if isinstance(out, torch.Tensor) else out


REGISTRY: dict[str, Callable[..., Any]] = {
    "with_stand_in": with_stand_in,
    "stand_in_loss": stand_in_loss,
    "denoiser_output": denoiser_output,
    "is_module": is_module,
}
