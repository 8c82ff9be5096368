"""Every numeric tolerance the graders use, in one place, per dtype and device.

A check compares with ``rtol`` and ``atol`` chosen by the *expected* value's dtype and the device
the values were computed on (a tensor knows its device; numpy arrays are the CPU's): float64 checks
demand agreement to round-off of a careful implementation, float32 to what single precision allows
after a few hundred operations. CUDA kernels (TF32 matmuls, other reduction orders) get looser ones.

Graders never write a number of their own: where a check needs something other than the dtype's
tolerance, it names one of the tolerances below (``expect_close(..., tolerance=GRADCHECK)``), each
with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


#: (dtype kind and size, device) -> tolerance
_TABLE = {
    ("float64", "cpu"): Tolerance(rtol=1e-7, atol=1e-9),
    ("float32", "cpu"): Tolerance(rtol=1e-4, atol=1e-5),
    ("float16", "cpu"): Tolerance(rtol=1e-2, atol=1e-3),
    ("float64", "cuda"): Tolerance(rtol=1e-6, atol=1e-8),
    ("float32", "cuda"): Tolerance(rtol=2e-3, atol=1e-4),
    ("float16", "cuda"): Tolerance(rtol=1e-2, atol=1e-3),
}
#: Exact agreement: a maximum, an index, a count (no arithmetic that could round differently).
EXACT = Tolerance(rtol=0.0, atol=0.0)

#: Relative error a float64 central-difference gradient check must reach (CS231n's rule of thumb).
GRADCHECK_RELATIVE_ERROR = 1e-6
#: Central differences with eps = 1e-6 on values of order 1 against the exact gradient: round-off
#: of about 1e-10, so the rule of thumb with a little absolute slack near zero.
GRADCHECK = Tolerance(rtol=GRADCHECK_RELATIVE_ERROR, atol=1e-8)
#: Two central differences of the same function with eps >= 1e-4 (the student's and the grader's),
#: or one on a quadratic, where the formula is exact: they agree to about 1e-12; a one-sided
#: difference is off by about eps.
CENTRAL_DIFFERENCE = Tolerance(rtol=1e-8, atol=1e-10)
#: float64 values far out in a function's tails (sigmoid at -700): only relative accuracy means
#: anything there, so no absolute slack.
FLOAT64_RELATIVE = Tolerance(rtol=1e-7, atol=0.0)
#: Sinusoidal time features (week 7) in float32 against their float64 closed form. The phase t·ω of
#: a timestep t < 1000 is off by up to 6e-5 in float32, however ω is computed (an exponential, a
#: power, a quotient), so the comparison is absolute, on values in [-1, 1]; a wrong frequency or
#: sines and cosines in the wrong order are off by far more.
TIME_EMBEDDING_FLOAT32 = Tolerance(rtol=0.0, atol=3e-4)


def device_of(value) -> str | None:
    """``"cuda"`` or ``"cpu"`` for a torch tensor, ``"cpu"`` for anything numpy holds, else None."""
    device = getattr(value, "device", None)
    kind = getattr(device, "type", None)
    if isinstance(kind, str):
        return kind
    if type(value).__module__ == "numpy":
        return "cpu"
    return None

#: Significance level of the goodness-of-fit tests that judge sampled tokens (week 5's generate): a
#: correct sampler fails one with this probability, so a false failure is negligible while a wrong
#: temperature or distribution (p-values far below 1e-20 on the graded draws) always fails.
SAMPLING_SIGNIFICANCE = 1e-6


def for_dtype(dtype, device: str = "cpu") -> Tolerance:
    """The tolerance for comparing values of ``dtype`` (numpy or torch) computed on ``device``."""
    try:  # numpy dtype objects, scalar types (np.float64) and strings alike
        import numpy as np
        name = np.dtype(dtype).name
    except TypeError:  # a torch dtype
        name = str(dtype).replace("torch.", "")
    if name in ("float64", "float32", "float16"):
        return _TABLE[(name, "cuda" if device.startswith("cuda") else "cpu")]
    if name == "bfloat16":
        return Tolerance(rtol=2e-2, atol=1e-2)
    return EXACT
