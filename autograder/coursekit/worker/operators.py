"""Forbidden operators refused at PyTorch's dispatcher, in every worker whose files all forbid them.

A forbidden API is a computation, not a name: ``nn.LayerNorm``, ``F.layer_norm``,
``torch.layer_norm``, ``torch.native_layer_norm``, ``torch.ops.aten.layer_norm``, a TorchScript
function or a nested tensor all end in the operators ``aten::layer_norm`` and
``aten::native_layer_norm``. Every call of an operator goes through the dispatcher, which picks a
kernel by dispatch key (CPU, CUDA, autograd, composite, nested tensor, ...); see PyTorch's
"Registering a Dispatched Operator in C++" and ``torch.library``. Here a kernel that raises
:class:`~coursekit.worker.guard.ForbiddenAPIError` replaces the operator's kernel at every key that
computes (all but ``Meta``, which only infers shapes, and the autocast and functorch keys, which
re-dispatch to the ones replaced), for every overload, before any student code loads. Under
``no_grad``, ``inference_mode``, ``autocast`` or ``vmap``, in any thread, from any frame, the
operator is refused.

The registration lives as long as a handle the dispatcher returned; that handle is kept only by an
audit hook (which nothing can remove or list), so no object student code can reach by attributes or
closures holds it. What remains possible is said in the README's threat table: walking the garbage
collector's objects, or computing the same thing from allowed operators (which is the exercise).
"""

from __future__ import annotations

import sys
import warnings

#: Dispatch keys left alone: shape inference, and keys that re-dispatch to the keys replaced.
_SKIPPED = ("Meta", "Autocast", "FuncTorch")


def overloads(name: str) -> list[str]:
    """The qualified names of every overload of operator ``name`` (``aten::native_layer_norm``,
    ``aten::native_layer_norm.out``). Raises LookupError when torch has no such operator."""
    import torch

    namespace, _, op = name.partition("::")
    try:
        packet = getattr(getattr(torch.ops, namespace), op)
        names = packet.overloads()
    except (AttributeError, RuntimeError):
        raise LookupError(f"PyTorch {torch.__version__} has no operator {name}") from None
    return [name if o == "default" else f"{name}.{o}" for o in names]


def computing_keys(qualified: str) -> list[str]:
    """The dispatch keys at which operator overload ``qualified`` has a kernel of its own that
    computes (see :data:`_SKIPPED`)."""
    import torch

    keys = torch._C.DispatchKey.__members__
    return sorted({k for k, key in keys.items()
                   if not k.startswith(_SKIPPED) and torch._C._dispatch_has_kernel_for_dispatch_key(qualified, key)})


def refuse(operators: dict[str, str]) -> list[str]:
    """Make every operator of ``operators`` (name -> the message its use raises) refuse to run in
    this process, at every key that computes. Returns the ``overload@key`` entries replaced. An
    operator this PyTorch lacks is skipped (nothing can call it). Irrevocable (see the module doc)."""
    if not operators:
        return []
    import torch

    handles: dict[str, object] = {}
    replaced = []
    for name, message in operators.items():
        try:
            qualified_names = overloads(name)
        except LookupError:
            continue
        namespace = name.partition("::")[0]
        if namespace not in handles:
            handles[namespace] = torch._C._dispatch_library("IMPL", namespace, "")
        for qualified in qualified_names:
            kernel = _refusal(message)
            for key in computing_keys(qualified):
                with warnings.catch_warnings():  # "overriding a previously registered kernel": meant
                    warnings.simplefilter("ignore")
                    handles[namespace].impl(qualified.partition("::")[2], getattr(torch._C.DispatchKey, key), kernel)
                replaced.append(f"{qualified}@{key}")
    kept = tuple(handles.values())
    # The hook keeps the handles (and so the registrations) alive; it is reachable from no object.
    sys.addaudithook(lambda event, args, _kept=kept: None)
    return replaced


def _refusal(message: str):
    from .guard import ForbiddenAPIError

    def kernel(*args, **kwargs):
        raise ForbiddenAPIError(message)

    return kernel
