"""Week 6's hidden inputs and the judging steps the hidden tests share.

Seeds follow one scheme so that none is reused by accident: 1xx for task 1, 2xx for task 2, and so
on; the held-out measurement's noise seed lives in its own test file. Failure messages name the
check and what differed, never an expected value or an input (the checks in
:mod:`coursekit.checks` keep values in their ``detail``, which hidden tests do not show).

Student results are float32 (the interface's dtype); the oracle computes in float64 from the same
float32 inputs, and the comparison uses float32's tolerance from :mod:`coursekit.tolerances`.

Tests of ``negative_elbo``, ``iwae_bound``, ``sample`` and ``interpolate`` run them on a VAE the
course wrote (the ``vae_stand_in`` driver, with the grader's weights), so their points depend on the
function under test; those functions may still call the student's own ``kl_standard_normal``,
``reparameterize`` or ``bernoulli_log_likelihood``, and their feedback says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import vae_oracle as oracle

from coursekit.checks import GradeFailure, expect_array, expect_close, expect_true

#: The interface's default sizes, and small other ones (checks that the sizes are respected).
DEFAULT_SIZES = (64, 8, 128)
OTHER_SIZES = (20, 3, 16)

#: Upstream tasks named in the feedback of tests whose function may use them.
USES_HELPERS = ("if kl_standard_normal, reparameterize and bernoulli_log_likelihood pass their own "
                "tests (tasks 1-3), look here")


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def tensor(a: np.ndarray) -> torch.Tensor:
    """A float32 tensor (what the student's functions receive)."""
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def binary(g: np.random.Generator, shape: tuple, p: float = 0.35) -> np.ndarray:
    """Bernoulli(p) pixels, float32 0.0/1.0."""
    return (g.random(shape) < p).astype(np.float32)


def normal(g: np.random.Generator, shape: tuple, scale: float = 1.0) -> np.ndarray:
    return (scale * g.standard_normal(shape)).astype(np.float32)


def as32(a: np.ndarray) -> np.ndarray:
    """The oracle's float64 value as float32: the comparison then uses float32's tolerance."""
    return np.asarray(a, dtype=np.float64).astype(np.float32)


def expect_float32(got: Any, what: str, shape: tuple) -> np.ndarray:
    """A float32 tensor (or array) of ``shape``; returns it as an ndarray."""
    arr = expect_array(got, what, shape=shape, dtype_kind="f")
    expect_true(arr.dtype == np.float32, f"{what}: dtype {arr.dtype}, expected float32")
    return arr


def expect_values(got: Any, want: np.ndarray, what: str) -> np.ndarray:
    """``got`` is float32 of ``want``'s shape and equals it within float32's tolerance."""
    arr = expect_float32(got, what, np.shape(want))
    expect_close(arr, as32(want), what)
    return arr


def expect_scalar(got: Any, what: str) -> float:
    """A float32 scalar tensor (shape () or (1,)); returns its value."""
    arr = expect_array(got, what, dtype_kind="f")
    expect_true(arr.size == 1 and arr.ndim <= 1, f"{what}: expected a scalar, got shape {arr.shape}")
    expect_true(arr.dtype == np.float32, f"{what}: dtype {arr.dtype}, expected float32")
    return float(arr.reshape(()))


#: The grader's wording for the drivers' error codes (a string from the worker is never shown).
DRIVER_ERRORS = {
    "not_a_module": "is not a torch module (nn.Module)",
    "wrong_layers": "does not have the stencil's layers (keep VAE.__init__ as given)",
    "bad_state": "has a state_dict() that is not a dict of tensors",
    "not_tensors": "did not return float tensors (of the promised number)",
    "wrong_shape": "returned a result of the wrong shape",
    "no_graph": "returned a result that autograd does not connect to its inputs (use torch "
                "operations only: no numpy, .item(), .detach() or torch.no_grad() on the way)",
}


def driver_error(code: Any) -> str:
    return DRIVER_ERRORS.get(code, "returned something the grader cannot use") if isinstance(code, str) \
        else "returned something the grader cannot use"


def driver_result(report: Any, what: str) -> dict:
    """A gradient driver's report (``value``, ``grads``), or a failure saying what went wrong."""
    expect_true(isinstance(report, dict) and "error" in report, f"{what}: no result")
    if report["error"] is not None:
        raise GradeFailure(f"{what} {driver_error(report['error'])}")
    return report


def expect_gradient(got: Any, want: np.ndarray, what: str) -> None:
    """A gradient tensor (not None: the result must depend on the input through autograd)."""
    expect_true(got is not None, f"{what}: no gradient reached it (the result does not depend on "
                                 "it through torch operations)")
    expect_values(got, want, what)


# --- grader-supplied models ----------------------------------------------------------------------

def stand_in(submission, state: dict, sizes: tuple = DEFAULT_SIZES):
    """The course's own VAE in the worker, holding ``state`` (a handle for the student's functions)."""
    x_dim, z_dim, hidden = sizes
    return submission.driver("vae_stand_in", {k: tensor(v) for k, v in state.items()},
                             x_dim, z_dim, hidden)


def stand_in_state(seed: int, sizes: tuple = DEFAULT_SIZES, scale: float = 1.0) -> dict:
    return oracle.random_state(rng(seed), *sizes, scale=scale)


def student_vae(submission, state: dict, sizes: tuple = DEFAULT_SIZES):
    """``vae.VAE(*sizes)`` (the ``vae_new`` driver) with the grader's weights loaded (the
    ``vae_load_weights`` driver)."""
    from coursekit.grading.client import ObjectProxy

    model = submission.driver("vae_new", *sizes)
    expect_true(isinstance(model, ObjectProxy), "VAE(...) did not create a model")
    report = submission.driver("vae_load_weights", model, {k: tensor(v) for k, v in state.items()})
    ok = isinstance(report, dict) and report.get("ok") is True
    expect_true(ok, "the grader could not load weights into your VAE: it "
                + driver_error(report.get("error") if isinstance(report, dict) else None))
    return model
